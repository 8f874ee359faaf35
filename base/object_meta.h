// The metadata every kind's loader keeps from an object (the server-managed fields it has no use for are
// accepted and dropped by json_fields::readObjectMeta).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace sluice {

struct ObjectMeta {
  std::string name;
  std::string generateName;  // with no name: the API server makes one from this prefix when it creates it
  std::string ns;            // "namespace" on the wire
  std::string uid;
  std::string resourceVersion;
  int64_t generation = 0;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

}  // namespace sluice
