// The REST client: request building, credentials (token file, exec plugin), rate limit, retries,
// Status decoding, discovery cache and watch framing over net::HttpClient.
#include "kube/client.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "net/http_client.h"

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace sluice::kube {

using nlohmann::json;

std::string ResourceRef::path(const std::string& ns, const std::string& name, const std::string& sub) const {
  std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) p += "/namespaces/" + ns;
  p += "/" + resource;
  if (!name.empty()) p += "/" + name;
  if (!name.empty() && !sub.empty()) p += "/" + sub;
  return p;
}

namespace {

net::HttpClient& threadHttpClient() {
  thread_local net::HttpClient client;
  return client;
}

std::string readFile(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])) != 0) ++i;
  return s.substr(i);
}

// Runs `argv` with extra environment entries and returns its stdout; an error when it cannot start or
// exits non-zero.
Result<std::string> runPlugin(const std::vector<std::string>& argv,
                              const std::vector<std::pair<std::string, std::string>>& extraEnv) {
  std::vector<std::string> envStore;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) envStore.emplace_back(*e);
  for (const auto& [k, v] : extraEnv) {
    std::string entry = k;
    entry += '=';
    entry += v;
    envStore.push_back(std::move(entry));
  }
  std::vector<char*> envp;
  envp.reserve(envStore.size() + 1);
  for (auto& e : envStore) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argStore = argv;
  std::vector<char*> args;
  args.reserve(argStore.size() + 1);
  for (auto& a : argStore) args.push_back(a.data());
  args.push_back(nullptr);

  int fds[2];
  if (pipe(fds) != 0) return Error{"exec plugin " + argv[0] + ": cannot create a pipe"};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return Error{"exec plugin " + argv[0] + ": cannot run it: " + std::strerror(rc)};
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Error{"exec plugin " + argv[0] + ": exited with status " +
                 std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status))};
  }
  return out;
}

ApiError decodeError(long code, const std::string& body, const std::string& verb, const std::string& path) {
  ApiError e;
  e.kind = ApiErrorKind::kStatus;
  e.code = static_cast<int>(code);
  e.verb = verb;
  e.path = path;
  json s = json::parse(body, nullptr, false);
  if (s.is_object() && s.value("kind", "") == "Status") {
    if (s.contains("reason") && s["reason"].is_string()) e.reason = s["reason"];
    if (s.contains("message") && s["message"].is_string()) e.message = s["message"];
    if (s.contains("details") && s["details"].is_object()) e.details = s["details"];
    if (s.contains("code") && s["code"].is_number_integer()) e.code = s["code"];
  }
  if (e.reason.empty()) {
    // As client-go's reasonForCode when the body is not a Status.
    static const std::map<int, std::string> kReasons = {{400, "BadRequest"},
                                                        {401, "Unauthorized"},
                                                        {403, "Forbidden"},
                                                        {404, "NotFound"},
                                                        {405, "MethodNotAllowed"},
                                                        {406, "NotAcceptable"},
                                                        {409, "Conflict"},
                                                        {410, "Expired"},
                                                        {413, "RequestEntityTooLarge"},
                                                        {415, "UnsupportedMediaType"},
                                                        {422, "Invalid"},
                                                        {429, "TooManyRequests"},
                                                        {500, "InternalError"},
                                                        {503, "ServiceUnavailable"},
                                                        {504, "Timeout"}};
    auto it = kReasons.find(e.code);
    if (it != kReasons.end()) e.reason = it->second;
  }
  if (e.message.empty())
    e.message = body.empty() ? "the server answered " + std::to_string(code) : body.substr(0, 512);
  return e;
}

std::string contentTypeFor(PatchType t) {
  switch (t) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kStrategic:
      return "application/strategic-merge-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";  // JSON is YAML
  }
  return "application/merge-patch+json";
}

void addParam(std::string& q, const std::string& key, const std::string& value) {
  if (value.empty()) return;
  q += (q.empty() ? "" : "&") + key + "=" + net::urlEncode(value);
}

}  // namespace

struct Client::Impl {
  ClientConfig config;
  ClientOptions options;
  std::unique_ptr<TokenBucket> bucket;

  const Clock& clock() const { return options.clock != nullptr ? *options.clock : realClock(); }

  // Credentials that change while the client lives.
  mutable std::mutex credMu;
  std::string tokenFileContent;
  struct timespec tokenFileMtime {};
  off_t tokenFileSize = -1;
  std::optional<ExecCredential> execCred;
  std::atomic<int> execRunCount{0};

  std::mutex discoveryMu;
  std::map<std::string, std::vector<ResourceRef>> discovery;  // by group/version

  // The bearer token from the token file, re-read when the file changes (rotated service account
  // tokens), falling back to the static token.
  std::string fileToken() {
    struct stat st {};
    if (stat(config.tokenFile.c_str(), &st) != 0) return config.token;
    if (st.st_mtim.tv_sec != tokenFileMtime.tv_sec || st.st_mtim.tv_nsec != tokenFileMtime.tv_nsec ||
        st.st_size != tokenFileSize) {
      bool ok = false;
      std::string text = readFile(config.tokenFile, &ok);
      if (!ok) return config.token;
      tokenFileContent = trim(text);
      tokenFileMtime = st.st_mtim;
      tokenFileSize = st.st_size;
    }
    return tokenFileContent.empty() ? config.token : tokenFileContent;
  }

  Result<ExecCredential> runExec() {
    const ExecConfig& ex = *config.exec;
    json info = {
        {"apiVersion", ex.apiVersion}, {"kind", "ExecCredential"}, {"spec", {{"interactive", false}}}};
    if (ex.provideClusterInfo) {
      json cluster = {{"server", config.server}, {"insecure-skip-tls-verify", config.insecureSkipTLSVerify}};
      if (!config.tlsServerName.empty()) cluster["tls-server-name"] = config.tlsServerName;
      info["spec"]["cluster"] = cluster;
    }
    std::vector<std::string> argv{ex.command};
    argv.insert(argv.end(), ex.args.begin(), ex.args.end());
    auto env = ex.env;
    env.emplace_back("KUBERNETES_EXEC_INFO", info.dump());
    ++execRunCount;
    auto out = runPlugin(argv, env);
    if (!out) return Error{out.error()};
    auto cred = parseExecCredential(*out, ex.apiVersion);
    if (!cred) return Error{"exec plugin " + ex.command + ": " + cred.error()};
    return cred;
  }

  // The credential for the next request: the cached one unless expired (or `refresh`).
  Result<ExecCredential> execCredential(bool refresh) {
    std::lock_guard lock(credMu);
    auto now = std::chrono::time_point_cast<Duration>(clock().wallNow());
    if (!refresh && execCred && (!execCred->expirationTimestamp || *execCred->expirationTimestamp > now)) {
      return *execCred;
    }
    auto cred = runExec();
    if (!cred) return cred;
    execCred = *cred;
    return cred;
  }

  // Adds credentials, TLS and the impersonation headers to `req`. A kClient error when the exec plugin
  // fails.
  std::optional<ApiError> authorize(net::Request& req, bool refreshExec, const Impersonation& as) {
    if (!as.user.empty()) {
      req.headers.emplace_back("Impersonate-User", as.user);
      for (const auto& g : as.groups) req.headers.emplace_back("Impersonate-Group", g);
      if (!as.uid.empty()) req.headers.emplace_back("Impersonate-Uid", as.uid);
    }
    const ClientConfig& c = config;
    req.tls.caFile = c.caFile;
    req.tls.caPem = c.caData;
    req.tls.clientCertFile = c.clientCertFile;
    req.tls.clientCertPem = c.clientCertData;
    req.tls.clientKeyFile = c.clientKeyFile;
    req.tls.clientKeyPem = c.clientKeyData;
    req.tls.insecureSkipVerify = c.insecureSkipTLSVerify;
    req.tls.serverName = c.tlsServerName;
    std::string token;
    if (c.exec) {
      auto cred = execCredential(refreshExec);
      if (!cred) return ApiError::client("getting credentials: " + cred.error(), req.method, req.url);
      if (!cred->token.empty()) {
        token = cred->token;
      } else {
        req.tls.clientCertPem = cred->clientCertificateData;
        req.tls.clientKeyPem = cred->clientKeyData;
        req.tls.clientCertFile.clear();
        req.tls.clientKeyFile.clear();
      }
    } else if (!c.tokenFile.empty()) {
      std::lock_guard lock(credMu);
      token = fileToken();
    } else {
      token = c.token;
    }
    if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
    return std::nullopt;
  }

  std::chrono::milliseconds backoff(int attempt, const net::Response* response) const {
    if (response != nullptr) {
      if (const std::string* ra = response->header("Retry-After")) {
        try {
          long secs = std::stol(*ra);
          if (secs >= 0)
            return std::min<std::chrono::milliseconds>(std::chrono::seconds(secs), options.retryMax);
        } catch (const std::exception&) {
          // an HTTP date or garbage: fall back to exponential backoff
        }
      }
    }
    auto d = options.retryBase * (1LL << std::min(attempt, 20));
    return std::min<std::chrono::milliseconds>(d, options.retryMax);
  }

  // One API call: rate limit, credentials, retries; the decoded JSON body or an ApiError.
  // Sleeps `d` unless `cancel` is cancelled meanwhile; false when it was.
  static bool pauseUnlessCancelled(std::chrono::milliseconds d, const net::Cancellation* cancel) {
    if (cancel == nullptr) {
      std::this_thread::sleep_for(d);
      return true;
    }
    constexpr auto kStep = std::chrono::milliseconds(20);
    for (auto slept = std::chrono::milliseconds(0); slept < d; slept += kStep) {
      if (cancel->cancelled()) return false;
      std::this_thread::sleep_for(std::min(kStep, d - slept));
    }
    return !cancel->cancelled();
  }

  ApiResult<json> call(const Impersonation& as, const std::string& verb, const std::string& path,
                       const std::string& query, const std::string& body, const std::string& contentType,
                       bool retryServerErrors, const net::Cancellation* cancel = nullptr,
                       bool retryTooManyRequests = true) {
    net::Request req;
    req.method = verb;
    req.url = config.server + path + (query.empty() ? "" : "?" + query);
    req.timeout = options.timeout;
    bool refreshedExec = false;
    for (int attempt = 0;; ++attempt) {
      if (cancel != nullptr && cancel->cancelled()) {
        return ApiError::client("cancelled", verb, path);
      }
      auto wait = bucket->reserve();
      if (wait.count() > 0) std::this_thread::sleep_for(wait);
      net::Request r = req;
      r.headers = {{"Accept", "application/json"}, {"User-Agent", options.userAgent}};
      if (!body.empty()) {
        r.body = body;
        r.headers.emplace_back("Content-Type", contentType);
      }
      if (auto err = authorize(r, false, as)) {
        err->path = path;
        return *err;
      }
      net::Outcome out = threadHttpClient().send(r);
      if (options.onRequest)
        options.onRequest({verb, path, query, out.ok() ? static_cast<int>(out.response().status) : 0});
      if (!out.ok()) {
        if (retryServerErrors && attempt < options.maxRetries) {
          pauseUnlessCancelled(backoff(attempt, nullptr), cancel);  // a cancel ends the loop at the top
          continue;
        }
        ApiError e;
        e.kind = ApiErrorKind::kTransport;
        e.verb = verb;
        e.path = path;
        e.message = out.failure().message;
        return e;
      }
      const net::Response& resp = out.response();
      if (resp.status == 401 && config.exec && !refreshedExec) {
        // The cached credential was rejected: run the plugin again once (client-go does the same).
        refreshedExec = true;
        std::lock_guard lock(credMu);
        execCred.reset();
        --attempt;
        continue;
      }
      bool retry = (resp.status == 429 && retryTooManyRequests) || (retryServerErrors && resp.status >= 500);
      if (retry && attempt < options.maxRetries) {
        pauseUnlessCancelled(backoff(attempt, &resp), cancel);  // a cancel ends the loop at the top
        continue;
      }
      if (resp.status >= 400 || resp.status < 200) return decodeError(resp.status, resp.body, verb, path);
      if (resp.body.empty()) return json::object();
      json parsed = json::parse(resp.body, nullptr, false);
      if (parsed.is_discarded()) {
        return ApiError::client("the server's answer is not JSON: " + resp.body.substr(0, 200), verb, path);
      }
      return parsed;
    }
  }

  std::string nsOr(const std::string& ns) const { return ns.empty() ? config.ns : ns; }
};

Client::Client(std::shared_ptr<Impl> impl, ClientConfig config)
    : impl_(std::move(impl)), config_(std::move(config)) {}
Client::~Client() = default;

std::unique_ptr<Client> Client::impersonating(Impersonation as) const {
  ClientConfig config = config_;
  config.impersonate = std::move(as);
  return std::unique_ptr<Client>(new Client(impl_, std::move(config)));
}

Result<std::unique_ptr<Client>> Client::create(ClientConfig config, ClientOptions options) {
  const std::string& s = config.server;
  bool https = s.rfind("https://", 0) == 0;
  bool http = s.rfind("http://", 0) == 0;
  if (!https && !http) return Error{"server " + s + ": not an http:// or https:// URL"};
  if (http && config.hasCredentials()) {
    return Error{"server " + s +
                 ": credentials are configured but the server is plain http://; they are never sent "
                 "unencrypted (use https://)"};
  }
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  for (const std::string* f : {&config.caFile, &config.clientCertFile, &config.clientKeyFile}) {
    if (!f->empty() && !std::filesystem::exists(*f)) return Error{"TLS file " + *f + " does not exist"};
  }
  if (options.qps <= 0 || options.burst <= 0)
    return Error{"client rate limit: qps and burst must be positive"};
  auto impl = std::make_shared<Impl>();
  impl->config = config;
  impl->options = std::move(options);
  impl->bucket = std::make_unique<TokenBucket>(impl->options.qps, impl->options.burst, impl->clock());
  return std::unique_ptr<Client>(new Client(std::move(impl), std::move(config)));
}

const ClientConfig& Client::config() const { return config_; }
int Client::execRuns() const { return impl_->execRunCount.load(); }

ApiResult<json> Client::get(const ResourceRef& r, const std::string& ns, const std::string& name) {
  if (name.empty()) return ApiError::client("get " + r.resource + ": an object name is required");
  return impl_->call(config_.impersonate, "GET", r.path(impl_->nsOr(ns), name), "", "", "", true);
}

ApiResult<json> Client::list(const ResourceRef& r, const std::string& ns, const ListOptions& o) {
  std::string q;
  addParam(q, "labelSelector", o.labelSelector);
  addParam(q, "fieldSelector", o.fieldSelector);
  if (o.limit > 0) addParam(q, "limit", std::to_string(o.limit));
  addParam(q, "continue", o.continueToken);
  addParam(q, "resourceVersion", o.resourceVersion);
  return impl_->call(config_.impersonate, "GET", r.path(ns), q, "", "", true, o.cancel);
}

ApiResult<std::string> Client::listPages(const ResourceRef& r, const std::string& ns, ListOptions o,
                                         const std::function<void(json& page)>& onPage) {
  std::string resourceVersion;
  bool first = true;
  for (;;) {
    auto page = list(r, ns, o);
    if (!page) return page.error();
    json& p = *page;
    std::string next;
    if (p.contains("metadata") && p["metadata"].is_object()) {
      if (first) resourceVersion = p["metadata"].value("resourceVersion", "");
      if (p["metadata"].contains("continue") && p["metadata"]["continue"].is_string()) {
        next = p["metadata"]["continue"];
      }
    }
    first = false;
    onPage(p);
    if (next.empty()) break;
    o.continueToken = next;
    o.resourceVersion.clear();  // a continue token carries the snapshot
  }
  return resourceVersion;
}

ApiResult<json> Client::listAll(const ResourceRef& r, const std::string& ns, ListOptions o) {
  json all;
  auto listed = listPages(r, ns, std::move(o), [&all](json& p) {
    if (all.is_null()) {
      all = p;
      all["items"] = json::array();
    }
    if (p.contains("items") && p["items"].is_array()) {
      for (auto& item : p["items"]) all["items"].push_back(std::move(item));
    }
  });
  if (!listed) return listed.error();
  if (all["metadata"].is_object()) {
    all["metadata"].erase("continue");
    all["metadata"]["resourceVersion"] = *listed;
  }
  return all;
}

namespace {
std::string writeQuery(const WriteOptions& o) {
  std::string q;
  if (o.dryRun) addParam(q, "dryRun", "All");
  addParam(q, "fieldManager", o.fieldManager);
  return q;
}
std::string metaString(const json& obj, const char* field) {
  if (!obj.is_object() || !obj.contains("metadata") || !obj["metadata"].is_object()) return "";
  const json& m = obj["metadata"];
  return m.contains(field) && m[field].is_string() ? m[field].get<std::string>() : "";
}
}  // namespace

ApiResult<json> Client::create(const ResourceRef& r, const std::string& ns, const json& obj,
                               const WriteOptions& o) {
  if (!obj.is_object())
    return ApiError::client("create " + r.resource + ": the object must be a JSON object");
  std::string objNs = metaString(obj, "namespace");
  return impl_->call(config_.impersonate, "POST", r.path(impl_->nsOr(objNs.empty() ? ns : objNs)),
                     writeQuery(o), obj.dump(), "application/json", false);
}

ApiResult<json> Client::createSubresource(const ResourceRef& r, const std::string& ns,
                                          const std::string& name, const std::string& subresource,
                                          const json& body, const WriteOptions& o) {
  if (name.empty() || subresource.empty())
    return ApiError::client("create " + r.resource + ": an object name and a subresource are required");
  return impl_->call(config_.impersonate, "POST", r.path(impl_->nsOr(ns), name, subresource), writeQuery(o),
                     body.dump(), "application/json", false, /*cancel=*/nullptr,
                     /*retryTooManyRequests=*/false);
}

ApiResult<json> Client::update(const ResourceRef& r, const json& obj, const WriteOptions& o) {
  std::string name = metaString(obj, "name");
  if (name.empty()) return ApiError::client("update " + r.resource + ": metadata.name is required");
  return impl_->call(config_.impersonate, "PUT", r.path(impl_->nsOr(metaString(obj, "namespace")), name),
                     writeQuery(o), obj.dump(), "application/json", false);
}

ApiResult<json> Client::updateStatus(const ResourceRef& r, const json& obj, const WriteOptions& o) {
  std::string name = metaString(obj, "name");
  if (name.empty()) return ApiError::client("update status of " + r.resource + ": metadata.name is required");
  return impl_->call(config_.impersonate, "PUT",
                     r.path(impl_->nsOr(metaString(obj, "namespace")), name, "status"), writeQuery(o),
                     obj.dump(), "application/json", false);
}

ApiResult<json> Client::patch(const ResourceRef& r, const std::string& ns, const std::string& name,
                              PatchType type, const json& patch, const WriteOptions& o,
                              const std::string& subresource) {
  if (name.empty()) return ApiError::client("patch " + r.resource + ": an object name is required");
  if (type == PatchType::kJson && !patch.is_array()) {
    return ApiError::client("patch " + r.resource + "/" + name +
                            ": a JSON patch must be an array of operations");
  }
  if (type != PatchType::kJson && !patch.is_object()) {
    return ApiError::client("patch " + r.resource + "/" + name + ": a merge patch must be a JSON object");
  }
  return impl_->call(config_.impersonate, "PATCH", r.path(impl_->nsOr(ns), name, subresource), writeQuery(o),
                     patch.dump(), contentTypeFor(type), false);
}

ApiResult<json> Client::remove(const ResourceRef& r, const std::string& ns, const std::string& name,
                               const DeleteOptions& o) {
  if (name.empty()) return ApiError::client("delete " + r.resource + ": an object name is required");
  json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (o.dryRun) body["dryRun"] = json::array({"All"});
  if (!o.propagationPolicy.empty()) body["propagationPolicy"] = o.propagationPolicy;
  bool preconditioned = o.preconditionUid || o.preconditionResourceVersion;
  if (o.preconditionUid) body["preconditions"]["uid"] = *o.preconditionUid;
  if (o.preconditionResourceVersion)
    body["preconditions"]["resourceVersion"] = *o.preconditionResourceVersion;
  // A delete with preconditions is safe to repeat after a 5xx: a second attempt deletes the same
  // object or fails its precondition. A bare delete by name might remove a re-created object.
  return impl_->call(config_.impersonate, "DELETE", r.path(impl_->nsOr(ns), name), "", body.dump(),
                     "application/json", preconditioned);
}

ApiResult<ResourceRef> Client::resourceFor(const std::string& apiVersion, const std::string& kind) {
  std::string group;
  std::string version = apiVersion;
  if (auto slash = apiVersion.find('/'); slash != std::string::npos) {
    group = apiVersion.substr(0, slash);
    version = apiVersion.substr(slash + 1);
  }
  if (version.empty()) return ApiError::client("apiVersion \"" + apiVersion + "\" has no version");
  for (int pass = 0; pass < 2; ++pass) {
    {
      std::lock_guard lock(impl_->discoveryMu);
      auto it = impl_->discovery.find(apiVersion);
      if (it != impl_->discovery.end() && pass == 0) {
        for (const auto& r : it->second) {
          if (r.kind == kind) return r;
        }
      }
    }
    std::string path = group.empty() ? "/api/" + version : "/apis/" + group;
    if (!group.empty()) path += "/" + version;
    auto res = impl_->call(config_.impersonate, "GET", path, "", "", "", true);
    if (!res) return res.error();
    std::vector<ResourceRef> refs;
    if (res->contains("resources") && (*res)["resources"].is_array()) {
      for (const auto& e : (*res)["resources"]) {
        std::string name = e.value("name", "");
        if (name.empty() || name.find('/') != std::string::npos) continue;
        refs.push_back({group, version, name, e.value("namespaced", false), e.value("kind", "")});
      }
    }
    std::lock_guard lock(impl_->discoveryMu);
    impl_->discovery[apiVersion] = refs;
    for (const auto& r : refs) {
      if (r.kind == kind) return r;
    }
    break;
  }
  return ApiError::client("the server does not serve kind " + kind + " in " + apiVersion, "GET", apiVersion);
}

ApiResult<Done> Client::watch(const ResourceRef& r, const std::string& ns, const WatchOptions& o,
                              const std::function<bool(const WatchEvent&)>& handler, const WatchStop* stop) {
  std::string resourceVersion = o.resourceVersion;
  int failures = 0;
  const std::string path = r.path(ns);
  if (resourceVersion.empty() && o.reconnect) {
    // "From now" must mean one instant even across reconnects: pin it to the collection's current
    // resourceVersion before the first connection.
    ListOptions lo;
    lo.labelSelector = o.labelSelector;
    lo.fieldSelector = o.fieldSelector;
    lo.limit = 1;
    auto page = list(r, ns, lo);
    if (!page) return page.error();
    resourceVersion = page->contains("metadata") ? (*page)["metadata"].value("resourceVersion", "") : "";
  }
  for (;;) {
    if (stop != nullptr && stop->stopped()) return Done{};
    std::string q = "watch=true";
    addParam(q, "resourceVersion", resourceVersion);
    addParam(q, "labelSelector", o.labelSelector);
    addParam(q, "fieldSelector", o.fieldSelector);
    if (o.allowBookmarks) addParam(q, "allowWatchBookmarks", "true");
    if (o.timeoutSeconds > 0) addParam(q, "timeoutSeconds", std::to_string(o.timeoutSeconds));
    net::Request req;
    req.method = "GET";
    req.url = impl_->config.server + path;
    req.url += "?" + q;
    req.timeout = std::chrono::milliseconds(0);
    req.headers = {{"Accept", "application/json"}, {"User-Agent", impl_->options.userAgent}};
    auto wait = impl_->bucket->reserve();
    if (wait.count() > 0) std::this_thread::sleep_for(wait);
    if (auto err = impl_->authorize(req, false, config_.impersonate)) {
      err->path = path;
      return *err;
    }
    std::string buffer;
    std::optional<ApiError> streamError;
    bool declined = false;
    bool gotEvent = false;
    auto onData = [&](std::string_view chunk) {
      if (stop != nullptr && stop->stopped()) return false;
      buffer.append(chunk);
      std::size_t start = 0;
      for (;;) {
        auto nl = buffer.find('\n', start);
        if (nl == std::string::npos) break;
        std::string_view line(buffer.data() + start, nl - start);
        start = nl + 1;
        if (line.empty()) continue;
        json e = json::parse(line, nullptr, false);
        if (!e.is_object() || !e.contains("type") || !e["type"].is_string()) {
          streamError =
              ApiError::client("undecodable watch event: " + std::string(line.substr(0, 200)), "WATCH", path);
          return false;
        }
        WatchEvent ev{e["type"], e.contains("object") ? e["object"] : json::object()};
        if (ev.type == "ERROR") {
          std::string body = ev.object.dump();
          int code = ev.object.value("code", 500);
          streamError = decodeError(code, body, "WATCH", path);
          return false;
        }
        gotEvent = true;
        std::string rv = metaString(ev.object, "resourceVersion");
        if (!rv.empty()) resourceVersion = rv;
        if (ev.type == "BOOKMARK") continue;
        if (!handler(ev)) {
          declined = true;
          return false;
        }
      }
      buffer.erase(0, start);
      return true;
    };
    if (o.timeoutSeconds > 0) req.timeout = std::chrono::milliseconds((o.timeoutSeconds + 5) * 1000);
    net::Outcome out =
        threadHttpClient().stream(req, onData, stop != nullptr ? &stop->cancellation() : nullptr);
    if (impl_->options.onRequest)
      impl_->options.onRequest({"WATCH", path, q, out.ok() ? static_cast<int>(out.response().status) : 0});
    if (declined || (stop != nullptr && stop->stopped())) return Done{};
    if (streamError) return *streamError;
    if (out.ok() && out.response().status >= 400) {
      return decodeError(out.response().status, buffer, "WATCH", path);
    }
    if (!o.reconnect) {
      if (!out.ok()) {
        ApiError e;
        e.kind = ApiErrorKind::kTransport;
        e.verb = "WATCH";
        e.path = path;
        e.message = out.failure().message;
        return e;
      }
      return Done{};
    }
    failures = gotEvent ? 0 : failures + 1;
    auto delay = impl_->backoff(std::min(failures, 6), nullptr);
    // Sleep in small steps so that stop() is noticed.
    for (auto slept = std::chrono::milliseconds(0); slept < delay; slept += std::chrono::milliseconds(50)) {
      if (stop != nullptr && stop->stopped()) return Done{};
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

}  // namespace sluice::kube
