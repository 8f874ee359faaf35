// Manifests as JSON with a map back to their source. YAML documents are converted to nlohmann::json
// (the one representation every loader reads, whether the object came from a file or from the API
// server), and a SourceMap remembers where each field path came from, for diagnostics.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/diagnostics.h"
#include "base/result.h"

namespace YAML {
class Node;
}

namespace sluice {

struct SourcePos {
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based
};

// Field paths in the form diagnostics use: "spec.steps[2].setWeight"; a key that is not a plain
// identifier is quoted: metadata.annotations["sluice.dev/revision"].
std::string childPath(const std::string& parent, std::string_view key);
std::string indexPath(const std::string& parent, size_t index);

class SourceMap {
 public:
  SourceMap() = default;
  explicit SourceMap(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  void set(const std::string& path, SourcePos pos) { positions_[path] = pos; }
  // The position of `path`, or of its nearest ancestor that has one; {0,0} if none.
  SourcePos at(const std::string& path) const;

  // A diagnostic located at `path`.
  Diagnostic diagnostic(Severity severity, const std::string& path, std::string message) const;

 private:
  std::string file_;
  std::unordered_map<std::string, SourcePos> positions_;
};

struct Document {
  nlohmann::json json;
  SourceMap source;
  int index = 0;  // position in a multi-document stream, from 0
  int line = 0;   // where the document starts
};

// Parses a YAML stream (one or more documents) into JSON documents. Scalars follow the YAML 1.2 core
// schema: plain `30` is a number, `"30"` a string, `true` a bool, `~`/`null` null. Empty documents are
// skipped. Malformed YAML (control characters and invalid UTF-8 included) is an error naming the file,
// line and column; so is input past the limits of input_limits.h (size, nesting, items of one list),
// refused before the stream's nodes are built. Never throws.
Expected<std::vector<Document>, Diagnostic> parseYamlStream(std::string_view text, const std::string& file);

// As parseYamlStream, with the error as one line: "FILE:LINE:COL: invalid YAML: ...".
Result<std::vector<Document>> parseYamlDocuments(std::string_view text, const std::string& file);

// The value of one YAML scalar node under the schema above (a plain `30` is a number, a quoted one a
// string), for readers that walk yaml-cpp's nodes themselves (to keep the order of keys, say).
nlohmann::json yamlScalarToJson(const YAML::Node& node);

// Reads the file at `path` (at most limits::kMaxFileBytes) and parses it; an unreadable file is an error
// naming it.
Result<std::vector<Document>> loadYamlFile(const std::string& path);

// Reads a whole file; an unreadable file, a directory, or a file larger than `maxBytes` (checked before
// reading it) is an error naming it.
Result<std::string> readFile(const std::string& path, size_t maxBytes = SIZE_MAX);

}  // namespace sluice
