// The API server's HTTP semantics without the sockets: authentication, authorization of impersonated
// requests (rbac.h), routing of /api and /apis paths,
// discovery, /openapi/v3, and the verbs on resources, turned into a response (or a watch to stream).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kube/apiserver/registry.h"

namespace sluice::apiserver {

class WatchTableWriter;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as received
  std::string contentType;
  std::string authorization;  // the Authorization header
  std::string accept;         // the Accept header: a Table for `kubectl get` (table.h)
  std::string body;
  // Impersonate-User and every Impersonate-Group header (`kubectl --as --as-group`): the request is
  // authorized as that user with RBAC (rbac.h). Empty: the token's own full access.
  std::string impersonateUser;
  std::vector<std::string> impersonateGroups;
};

struct HttpResponse {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A watch request, validated: the server streams `registry.watch(...)` events for it.
struct WatchPlan {
  std::shared_ptr<const ResourceType> type;
  std::string ns;
  WatchOptions options;
  bool bookmarks = false;
  std::chrono::seconds timeout{1800};
  std::shared_ptr<WatchTableWriter> table;  // set when the client asked for Tables: each event one row
};

struct Handled {
  HttpResponse response;           // the answer, unless `watch` is set
  std::optional<WatchPlan> watch;  // set for a valid watch request
};

// Thread-safe (state lives in the registry). Never throws.
class Handler {
 public:
  Handler(Registry& registry, std::string token, std::string serverAddress);
  // Answers one request. Blocks only on the store.
  Handled handle(const HttpRequest& request);

 private:
  Handled route(const HttpRequest& request);

  Registry& registry_;
  std::string token_;
  std::string serverAddress_;
};

// The value of query parameter `name` in `target` ("" when absent), percent-decoded.
std::string queryParam(const std::string& target, const std::string& name);

}  // namespace sluice::apiserver
