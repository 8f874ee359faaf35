// Request routing and the wire shapes of discovery, OpenAPI v3 (enough for kubectl's field-validation
// check, docs/design.md §B.3), lists, Status and errors.
#include "kube/apiserver/handler.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "kube/apiserver/rbac.h"
#include "kube/apiserver/request_body.h"
#include "kube/apiserver/table.h"
#include "kube/json_depth.h"

namespace sluice::apiserver {
namespace {

using nlohmann::json;

HttpResponse jsonResponse(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  // A name decoded from the path may be invalid UTF-8 and end up in a message: replaced, never thrown.
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

HttpResponse errorResponse(const ApiError& e) { return jsonResponse(e.code, statusBody(e)); }

HttpResponse notFoundPath() {
  return errorResponse({404, "NotFound", "the server could not find the requested resource", json::object()});
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percentDecode(std::string_view s, bool plusIsSpace) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hexValue(s[i + 1]) >= 0 && hexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2]));
      i += 2;
    } else if (plusIsSpace && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!part.empty()) parts.push_back(percentDecode(part, false));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

const std::vector<std::string>& resourceVerbs() {
  static const std::vector<std::string> v = {"create", "delete", "deletecollection", "get",
                                             "list",   "patch",  "update",           "watch"};
  return v;
}

json resourceEntry(const ResourceType& t) {
  json e = {{"name", t.resource},
            {"singularName", t.singular},
            {"namespaced", t.namespaced},
            {"kind", t.kind},
            {"verbs", resourceVerbs()}};
  if (!t.shortNames.empty()) e["shortNames"] = t.shortNames;
  if (!t.categories.empty()) e["categories"] = t.categories;
  return e;
}

// The group versions served, core first, then groups in order of first appearance.
std::vector<std::pair<std::string, std::vector<std::string>>> groupVersions(
    const std::vector<std::shared_ptr<const ResourceType>>& types) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& t : types) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& g) { return g.first == t->group; });
    if (it == out.end()) {
      out.push_back({t->group, {t->version}});
    } else if (std::find(it->second.begin(), it->second.end(), t->version) == it->second.end()) {
      it->second.push_back(t->version);
    }
  }
  return out;
}

json apiGroup(const std::string& group, const std::vector<std::string>& versions) {
  json vs = json::array();
  for (const auto& v : versions) {
    std::string gv = group;
    gv += "/";
    gv += v;
    vs.push_back({{"groupVersion", gv}, {"version", v}});
  }
  return {{"name", group}, {"versions", vs}, {"preferredVersion", vs[0]}};
}

// The OpenAPI v3 document of one group version: a PATCH operation per kind that advertises the
// fieldValidation parameter, so kubectl leaves validation to the server. No requestBody: kubectl then
// computes patches from its built-in knowledge (strategic for built-ins, merge for custom resources).
json openApiDocument(const std::vector<std::shared_ptr<const ResourceType>>& types, const std::string& group,
                     const std::string& version) {
  json paths = json::object();
  for (const auto& t : types) {
    if (t->group != group || t->version != version) continue;
    std::string base =
        t->groupVersionPath() + (t->namespaced ? "/namespaces/{namespace}/" : "/") + t->resource;
    json gvk = {{"group", t->group}, {"version", t->version}, {"kind", t->kind}};
    json params =
        json::array({{{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
                     {{"name", "dryRun"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
                     {{"name", "fieldManager"}, {"in", "query"}, {"schema", {{"type", "string"}}}}});
    json op = {{"operationId", "patch" + t->kind},
               {"x-kubernetes-action", "patch"},
               {"x-kubernetes-group-version-kind", gvk},
               {"parameters", params},
               {"responses", {{"200", {{"description", "OK"}}}}}};
    json postOp = op;
    postOp["operationId"] = "create" + t->kind;
    postOp["x-kubernetes-action"] = "post";
    json putOp = op;
    putOp["operationId"] = "replace" + t->kind;
    putOp["x-kubernetes-action"] = "put";
    paths[base + "/{name}"] = {{"patch", op}, {"put", putOp}};
    paths[base] = {{"post", postOp}};
  }
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
          {"paths", paths},
          {"components", {{"schemas", json::object()}}}};
}

std::optional<bool> boolParam(const std::string& v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0" || v.empty()) return false;
  return std::nullopt;
}

// POST pods/NAME/eviction, as the real server's eviction REST answers it: the body must be a policy/v1
// (or v1beta1) Eviction naming the pod of the URL (else 400), a missing pod is 404, and an eviction
// granted deletes the pod and answers 201 with a Success Status. This server has no
// PodDisruptionBudgets, so every eviction is granted: the real server's 429 (a budget refusing) never
// comes from here. Dry run (the query's or the body's deleteOptions.dryRun) deletes nothing.
ApiResult<json> evictPod(Registry& registry, const ResourceType& pods, const std::string& ns,
                         const std::string& name, const HttpRequest& req, bool dryRun) {
  auto decoded = decodeObjectBody(req.contentType, req.body, "Eviction");
  if (!decoded) return decoded.error();
  const json& eviction = *decoded;
  const std::string apiVersion = eviction.value("apiVersion", "");
  if (eviction.value("kind", "") != "Eviction" ||
      (apiVersion != "policy/v1" && apiVersion != "policy/v1beta1"))
    return badRequest("not a Eviction object: the body must be a policy/v1 Eviction");
  const json meta = eviction.value("metadata", json::object());
  if (!meta.is_object() || meta.value("name", "") != name)
    return badRequest("name in URL does not match name in Eviction object");
  DeleteOptions options;
  options.dryRun = dryRun;
  const json deleteOptions = eviction.value("deleteOptions", json::object());
  if (deleteOptions.is_object() && deleteOptions.contains("dryRun") && deleteOptions["dryRun"].is_array()) {
    for (const auto& d : deleteOptions["dryRun"]) options.dryRun = options.dryRun || d == "All";
  }
  auto pod = registry.get(pods, ns, name);
  if (!pod) return pod.error();
  if (!options.dryRun) {
    auto removed = registry.remove(pods, ns, name, options);
    if (!removed) return removed.error();
  }
  return json{{"kind", "Status"},
              {"apiVersion", "v1"},
              {"metadata", json::object()},
              {"status", "Success"},
              {"code", 201}};
}

// The authorizer's verb for a resource request (kube-apiserver's RequestInfo): a GET without a name lists
// (or watches), a DELETE without one deletes the collection.
std::string requestVerb(const std::string& method, const std::string& name, bool watch) {
  if (method == "GET") return !name.empty() ? "get" : watch ? "watch" : "list";
  if (method == "POST") return "create";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return name.empty() ? "deletecollection" : "delete";
  std::string v = method;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v;
}

}  // namespace

std::string queryParam(const std::string& target, const std::string& name) {
  auto q = target.find('?');
  if (q == std::string::npos) return "";
  std::string_view query(target);
  query.remove_prefix(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (percentDecode(pair.substr(0, eq), true) == name) {
      return eq == std::string_view::npos ? "" : percentDecode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
}

Handler::Handler(Registry& registry, std::string token, std::string serverAddress)
    : registry_(registry), token_(std::move(token)), serverAddress_(std::move(serverAddress)) {}

Handled Handler::handle(const HttpRequest& req) {
  Handled handled = route(req);
  presentAsTableIfAsked(req, registry_, handled);
  return handled;
}

Handled Handler::route(const HttpRequest& req) {
  const std::string path = req.target.substr(0, req.target.find('?'));
  if (path == "/healthz" || path == "/livez" || path == "/readyz") {
    HttpResponse r;
    r.contentType = "text/plain; charset=utf-8";
    r.body = "ok";
    return {r, std::nullopt};
  }
  const std::string expected = "Bearer " + token_;
  if (req.authorization.size() != expected.size() ||
      CRYPTO_memcmp(req.authorization.data(), expected.data(), expected.size()) != 0) {
    return {errorResponse({401, "Unauthorized", "Unauthorized", json::object()}), std::nullopt};
  }
  // The admin token may act as anyone; the request is then authorized as that user (resource requests
  // below; discovery, /version and /openapi stay open to every user, as on a real cluster).
  std::optional<UserInfo> actingAs;
  if (!req.impersonateUser.empty() || !req.impersonateGroups.empty()) {
    if (req.impersonateUser.empty())
      return {errorResponse(badRequest("requested groups without impersonating a user: Impersonate-Group "
                                       "needs Impersonate-User")),
              std::nullopt};
    actingAs = impersonatedUser(req.impersonateUser, req.impersonateGroups);
  }

  const auto types = registry_.types();
  const auto parts = splitPath(path);
  if (path == "/version") {
    return {jsonResponse(200, {{"major", "1"},
                               {"minor", "32"},
                               {"gitVersion", "v1.32.0-sluice"},
                               {"gitCommit", "0000000000000000000000000000000000000000"},
                               {"gitTreeState", "clean"},
                               {"buildDate", "2026-01-01T00:00:00Z"},
                               {"goVersion", "n/a"},
                               {"compiler", "g++"},
                               {"platform", "linux/amd64"}}),
            std::nullopt};
  }
  if (parts.size() >= 2 && parts[0] == "openapi" && parts[1] == "v3") {
    if (parts.size() == 2) {
      json index = json::object();
      std::string hash = "h" + std::to_string(registry_.typesGeneration());
      for (const auto& [group, versions] : groupVersions(types)) {
        for (const auto& v : versions) {
          std::string key = group.empty() ? "api/" : "apis/" + group + "/";
          key += v;
          std::string url = "/openapi/v3/" + key;
          url += "?hash=";
          url += hash;
          index[key] = {{"serverRelativeURL", url}};
        }
      }
      return {jsonResponse(200, {{"paths", index}}), std::nullopt};
    }
    if (parts.size() == 4 && parts[2] == "api")
      return {jsonResponse(200, openApiDocument(types, "", parts[3])), std::nullopt};
    if (parts.size() == 5 && parts[2] == "apis") {
      return {jsonResponse(200, openApiDocument(types, parts[3], parts[4])), std::nullopt};
    }
    return {notFoundPath(), std::nullopt};
  }
  if (parts.empty() || (parts[0] != "api" && parts[0] != "apis")) return {notFoundPath(), std::nullopt};

  // Discovery.
  const bool core = parts[0] == "api";
  if (core && parts.size() == 1) {
    return {jsonResponse(200, {{"kind", "APIVersions"},
                               {"versions", {"v1"}},
                               {"serverAddressByClientCIDRs",
                                {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", serverAddress_}}}}}),
            std::nullopt};
  }
  if (!core && parts.size() == 1) {
    json groups = json::array();
    for (const auto& [group, versions] : groupVersions(types)) {
      if (!group.empty()) groups.push_back(apiGroup(group, versions));
    }
    return {jsonResponse(200, {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}}),
            std::nullopt};
  }
  if (!core && parts.size() == 2) {
    for (const auto& [group, versions] : groupVersions(types)) {
      if (group == parts[1]) {
        json g = apiGroup(group, versions);
        g["kind"] = "APIGroup";
        g["apiVersion"] = "v1";
        return {jsonResponse(200, g), std::nullopt};
      }
    }
    return {notFoundPath(), std::nullopt};
  }
  const std::string group = core ? "" : parts[1];
  const std::string version = core ? parts[1] : parts[2];
  std::vector<std::string> rest(parts.begin() + (core ? 2 : 3), parts.end());
  if (rest.empty()) {
    json resources = json::array();
    for (const auto& t : types) {
      if (t->group != group || t->version != version) continue;
      resources.push_back(resourceEntry(*t));
      if (t->statusSubresource) {
        resources.push_back({{"name", t->resource + "/status"},
                             {"singularName", ""},
                             {"namespaced", t->namespaced},
                             {"kind", t->kind},
                             {"verbs", {"get", "patch", "update"}}});
      }
      if (t->group.empty() && t->resource == "pods") {
        resources.push_back({{"name", "pods/eviction"},
                             {"singularName", ""},
                             {"namespaced", true},
                             {"group", "policy"},
                             {"version", "v1"},
                             {"kind", "Eviction"},
                             {"verbs", {"create"}}});
      }
      if (t->scaleSubresource) {
        resources.push_back({{"name", t->resource + "/scale"},
                             {"singularName", ""},
                             {"namespaced", t->namespaced},
                             {"group", "autoscaling"},
                             {"version", "v1"},
                             {"kind", "Scale"},
                             {"verbs", {"get", "patch", "update"}}});
      }
    }
    if (resources.empty()) return {notFoundPath(), std::nullopt};
    std::string gv = group.empty() ? version : group + "/" + version;
    return {jsonResponse(200, {{"kind", "APIResourceList"},
                               {"apiVersion", "v1"},
                               {"groupVersion", gv},
                               {"resources", resources}}),
            std::nullopt};
  }

  // Resources: [namespaces/NS/]RESOURCE[/NAME[/SUBRESOURCE]].
  std::string ns;
  std::string resource;
  std::string name;
  std::string subName;
  if (rest[0] == "namespaces" && rest.size() >= 3 &&
      !(rest.size() == 3 && (rest[2] == "status" || rest[2] == "finalize"))) {
    ns = rest[1];
    resource = rest[2];
    if (rest.size() > 3) name = rest[3];
    if (rest.size() > 4) subName = rest[4];
    if (rest.size() > 5) return {notFoundPath(), std::nullopt};
  } else {
    resource = rest[0];
    if (rest.size() > 1) name = rest[1];
    if (rest.size() > 2) subName = rest[2];
    if (rest.size() > 3) return {notFoundPath(), std::nullopt};
  }
  if (actingAs) {
    // Authorized before the object is looked up, as the real server: a denied GET of a missing object
    // is 403, not 404. A namespace's own requests are in that namespace.
    RequestAttributes attrs{
        requestVerb(req.method, name, boolParam(queryParam(req.target, "watch")).value_or(false)),
        group,
        resource,
        subName,
        ns,
        name};
    if (resource == "namespaces" && group.empty() && ns.empty()) attrs.ns = name;
    auto policy = loadPolicy(registry_, attrs.ns);
    if (!policy) return {errorResponse(policy.error()), std::nullopt};
    const Decision decision = authorize(*actingAs, attrs, *policy);
    if (!decision.allowed) return {errorResponse(forbiddenError(*actingAs, attrs, decision)), std::nullopt};
  }
  auto type = registry_.find(group, version, resource);
  if (!type) return {notFoundPath(), std::nullopt};
  if (!type->namespaced && !ns.empty()) return {notFoundPath(), std::nullopt};
  const bool eviction = subName == "eviction" && type->group.empty() && type->resource == "pods";
  Subresource sub = Subresource::kMain;
  if (eviction) {
    // Handled below, once the write options are read.
  } else if (subName == "status") {
    sub = Subresource::kStatus;
  } else if (subName == "scale") {
    sub = Subresource::kScale;
  } else if (subName == "finalize" && type->kind == "Namespace") {
    sub = Subresource::kFinalize;
  } else if (!subName.empty()) {
    return {notFoundPath(), std::nullopt};
  }
  if ((sub == Subresource::kStatus && !type->statusSubresource) ||
      (sub == Subresource::kScale && !type->scaleSubresource)) {
    return {notFoundPath(), std::nullopt};
  }

  auto answer = [](const ApiResult<json>& r, int okStatus) -> Handled {
    if (!r) return {errorResponse(r.error()), std::nullopt};
    return {jsonResponse(okStatus, *r), std::nullopt};
  };
  const std::string dryRunParam = queryParam(req.target, "dryRun");
  if (!dryRunParam.empty() && dryRunParam != "All") {
    return {errorResponse(badRequest("Invalid dry run value: " + dryRunParam + " (supported: All)")),
            std::nullopt};
  }
  WriteOptions writeOptions{dryRunParam == "All"};
  const std::string validation = queryParam(req.target, "fieldValidation");
  if (validation == "Strict") {
    writeOptions.fieldValidation = FieldValidation::kStrict;
  } else if (validation == "Ignore") {
    writeOptions.fieldValidation = FieldValidation::kIgnore;
  } else if (!validation.empty() && validation != "Warn") {
    return {errorResponse(badRequest("fieldValidation must be one of Ignore, Warn, Strict, got \"" +
                                     validation + "\"")),
            std::nullopt};
  }
  auto parseBody = [&](json& out) -> std::optional<ApiError> {
    auto decoded = decodeObjectBody(req.contentType, req.body, type->kind);  // JSON, YAML or protobuf
    if (!decoded) return decoded.error();
    out = std::move(*decoded);
    return std::nullopt;
  };

  const std::string& m = req.method;
  if (eviction) {
    if (m != "POST") return {errorResponse(methodNotAllowed(m, "pods/eviction")), std::nullopt};
    return answer(evictPod(registry_, *type, ns, name, req, writeOptions.dryRun), 201);
  }
  if (m == "GET") {
    if (name.empty()) {
      if (auto w = boolParam(queryParam(req.target, "watch")); w.value_or(false)) {
        WatchPlan plan;
        plan.type = type;
        plan.ns = ns;
        plan.options = {queryParam(req.target, "resourceVersion"), queryParam(req.target, "labelSelector"),
                        queryParam(req.target, "fieldSelector")};
        plan.bookmarks = boolParam(queryParam(req.target, "allowWatchBookmarks")).value_or(false);
        std::string timeout = queryParam(req.target, "timeoutSeconds");
        if (!timeout.empty()) {
          try {
            plan.timeout = std::chrono::seconds(std::stoll(timeout));
          } catch (const std::exception&) {
            return {errorResponse(badRequest("invalid timeoutSeconds: " + timeout)), std::nullopt};
          }
        }
        return {HttpResponse{}, plan};
      }
      ListOptions lo;
      lo.resourceVersion = queryParam(req.target, "resourceVersion");
      lo.resourceVersionMatch = queryParam(req.target, "resourceVersionMatch");
      lo.labelSelector = queryParam(req.target, "labelSelector");
      lo.fieldSelector = queryParam(req.target, "fieldSelector");
      lo.continueToken = queryParam(req.target, "continue");
      std::string limit = queryParam(req.target, "limit");
      if (!limit.empty()) {
        try {
          lo.limit = std::stoll(limit);
        } catch (const std::exception&) {
          return {errorResponse(badRequest("invalid limit: " + limit)), std::nullopt};
        }
      }
      return answer(registry_.list(*type, ns, lo), 200);
    }
    if (sub != Subresource::kMain) return answer(registry_.getSubresource(*type, ns, name, sub), 200);
    return answer(registry_.get(*type, ns, name), 200);
  }
  if (m == "POST") {
    if (!name.empty()) return {errorResponse(methodNotAllowed("create", type->resource)), std::nullopt};
    if (type->namespaced && ns.empty()) return {notFoundPath(), std::nullopt};
    json body;
    if (auto bad = parseBody(body)) return {errorResponse(*bad), std::nullopt};
    return answer(registry_.create(*type, ns, std::move(body), writeOptions), 201);
  }
  if (m == "PUT") {
    if (name.empty()) return {errorResponse(methodNotAllowed("update", type->resource)), std::nullopt};
    json body;
    if (auto bad = parseBody(body)) return {errorResponse(*bad), std::nullopt};
    return answer(registry_.update(*type, ns, name, sub, std::move(body), writeOptions), 200);
  }
  if (m == "PATCH") {
    if (name.empty()) return {errorResponse(methodNotAllowed("patch", type->resource)), std::nullopt};
    std::string ct = req.contentType.substr(0, req.contentType.find(';'));
    PatchType pt = PatchType::kMerge;
    if (ct == "application/merge-patch+json") {
      pt = PatchType::kMerge;
    } else if (ct == "application/json-patch+json") {
      pt = PatchType::kJson;
    } else if (ct == "application/strategic-merge-patch+json" && !type->custom) {
      pt = PatchType::kStrategic;
    } else {
      // Server-side apply (application/apply-patch+yaml) is not implemented: kubectl reads this 415 and
      // says so clearly.
      std::string accepted = "application/json-patch+json, application/merge-patch+json";
      if (!type->custom) accepted += ", application/strategic-merge-patch+json";
      return {errorResponse(unsupportedMediaType(accepted)), std::nullopt};
    }
    return answer(registry_.patch(*type, ns, name, sub, pt, req.body, writeOptions), 200);
  }
  if (m == "DELETE") {
    DeleteOptions opts;
    opts.dryRun = writeOptions.dryRun;
    opts.propagationPolicy = queryParam(req.target, "propagationPolicy");
    if (std::string orphan = queryParam(req.target, "orphanDependents"); !orphan.empty()) {
      opts.orphanDependents = orphan == "true";
    }
    if (!req.body.empty()) {
      json body = kube::parseJsonBounded(req.body).value;
      if (body.is_discarded() || !body.is_object()) {
        return {errorResponse(badRequest("the DeleteOptions body is not a JSON object")), std::nullopt};
      }
      if (body.contains("dryRun") && body["dryRun"].is_array()) {
        for (const auto& d : body["dryRun"]) opts.dryRun = opts.dryRun || d == "All";
      }
      if (body.contains("propagationPolicy") && body["propagationPolicy"].is_string()) {
        opts.propagationPolicy = body["propagationPolicy"];
      }
      if (body.contains("orphanDependents") && body["orphanDependents"].is_boolean()) {
        opts.orphanDependents = body["orphanDependents"].get<bool>();
      }
      if (body.contains("preconditions") && body["preconditions"].is_object()) {
        const json& p = body["preconditions"];
        if (p.contains("uid") && p["uid"].is_string()) opts.preconditionUid = p["uid"];
        if (p.contains("resourceVersion") && p["resourceVersion"].is_string()) {
          opts.preconditionResourceVersion = p["resourceVersion"];
        }
      }
    }
    if (!name.empty()) return answer(registry_.remove(*type, ns, name, opts), 200);
    // deletecollection: every object the selectors match.
    ListOptions lo;
    lo.labelSelector = queryParam(req.target, "labelSelector");
    lo.fieldSelector = queryParam(req.target, "fieldSelector");
    auto listed = registry_.list(*type, ns, lo);
    if (!listed) return {errorResponse(listed.error()), std::nullopt};
    for (const auto& item : (*listed)["items"]) {
      const json& meta = item["metadata"];
      auto r = registry_.remove(*type, meta.value("namespace", ""), meta.value("name", ""), opts);
      if (!r && r.error().code != 404) return {errorResponse(r.error()), std::nullopt};
    }
    return {jsonResponse(200, *listed), std::nullopt};
  }
  return {errorResponse(methodNotAllowed(m, type->resource)), std::nullopt};
}

}  // namespace sluice::apiserver
