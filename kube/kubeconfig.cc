// Kubeconfig loading and merging, and in-cluster configuration, following client-go's clientcmd rules.
#include "kube/kubeconfig.h"

#include "base/base64.h"

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <system_error>

#include "base/source.h"

namespace sluice::kube {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Field problems inside one file, thrown while reading it and turned into an Error with the file name.
struct EntryError {
  std::string message;
};

std::string quote(std::string_view s) { return json(std::string(s)).dump(); }

// A string field; YAML scalars that read as numbers or booleans count as their text, as kubectl's
// typed decoding accepts them.
std::string text(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number() || it->is_boolean()) return it->dump();
  throw EntryError{where + "." + key + ": must be a string"};
}

bool flag(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string() && (*it == "true" || *it == "false")) return *it == "true";
  throw EntryError{where + "." + key + ": must be true or false"};
}

std::string base64Decode(const std::string& in, const std::string& where) {
  std::optional<std::string> out = sluice::base64Decode(in);
  if (!out) throw EntryError{where + ": invalid base64"};
  return std::move(*out);
}

std::string data(const json& obj, const char* key, const std::string& where) {
  const std::string encoded = text(obj, key, where);
  return encoded.empty() ? encoded : base64Decode(encoded, where + "." + key);
}

std::string resolve(const std::string& path, const fs::path& dir) {
  if (path.empty()) return path;
  fs::path p(path);
  if (p.is_absolute()) return path;
  return (dir / p).lexically_normal().string();
}

// The list entries `{name: ..., <inner>: {...}}` of clusters, users or contexts.
template <typename F>
void forEachEntry(const json& doc, const char* list, const char* inner, F&& f) {
  auto it = doc.find(list);
  if (it == doc.end() || it->is_null()) return;
  if (!it->is_array()) throw EntryError{std::string(list) + ": must be a list"};
  for (size_t i = 0; i < it->size(); ++i) {
    const json& entry = (*it)[i];
    const std::string at = std::string(list) + "[" + std::to_string(i) + "]";
    if (!entry.is_object()) throw EntryError{at + ": must be a mapping"};
    const std::string name = text(entry, "name", at);
    if (name.empty()) throw EntryError{at + ".name: Required value"};
    const std::string where = std::string(list) + "[" + name + "]." + inner;
    auto body = entry.find(inner);
    static const json kEmpty = json::object();
    if (body != entry.end() && !body->is_null() && !body->is_object())
      throw EntryError{where + ": must be a mapping"};
    f(name, body == entry.end() || body->is_null() ? kEmpty : *body, where);
  }
}

std::optional<ExecConfig> readExec(const json& user, const std::string& where, const fs::path& dir) {
  auto it = user.find("exec");
  if (it == user.end() || it->is_null()) return std::nullopt;
  const std::string at = where + ".exec";
  if (!it->is_object()) throw EntryError{at + ": must be a mapping"};
  ExecConfig e;
  e.apiVersion = text(*it, "apiVersion", at);
  e.command = text(*it, "command", at);
  if (e.command.find('/') != std::string::npos) e.command = resolve(e.command, dir);
  if (auto a = it->find("args"); a != it->end() && !a->is_null()) {
    if (!a->is_array()) throw EntryError{at + ".args: must be a list"};
    for (const auto& arg : *a) e.args.push_back(arg.is_string() ? arg.get<std::string>() : arg.dump());
  }
  if (auto env = it->find("env"); env != it->end() && !env->is_null()) {
    if (!env->is_array()) throw EntryError{at + ".env: must be a list"};
    for (size_t i = 0; i < env->size(); ++i) {
      const std::string envAt = at + ".env[" + std::to_string(i) + "]";
      if (!(*env)[i].is_object()) throw EntryError{envAt + ": must be a mapping"};
      e.env.emplace_back(text((*env)[i], "name", envAt), text((*env)[i], "value", envAt));
    }
  }
  e.interactiveMode = text(*it, "interactiveMode", at);
  e.provideClusterInfo = flag(*it, "provideClusterInfo", at);
  e.installHint = text(*it, "installHint", at);
  return e;
}

void mergeFile(Kubeconfig& out, const json& doc, const fs::path& dir) {
  forEachEntry(doc, "clusters", "cluster",
               [&](const std::string& name, const json& c, const std::string& at) {
                 if (out.clusters.count(name)) return;  // the first file that defines a name wins entirely
                 Kubeconfig::Cluster cluster;
                 cluster.server = text(c, "server", at);
                 cluster.tlsServerName = text(c, "tls-server-name", at);
                 cluster.caFile = resolve(text(c, "certificate-authority", at), dir);
                 cluster.caData = data(c, "certificate-authority-data", at);
                 cluster.insecureSkipTLSVerify = flag(c, "insecure-skip-tls-verify", at);
                 out.clusters.emplace(name, std::move(cluster));
               });
  forEachEntry(doc, "users", "user", [&](const std::string& name, const json& u, const std::string& at) {
    if (out.users.count(name)) return;
    Kubeconfig::User user;
    user.clientCertFile = resolve(text(u, "client-certificate", at), dir);
    user.clientCertData = data(u, "client-certificate-data", at);
    user.clientKeyFile = resolve(text(u, "client-key", at), dir);
    user.clientKeyData = data(u, "client-key-data", at);
    user.token = text(u, "token", at);
    user.tokenFile = resolve(text(u, "tokenFile", at), dir);
    user.username = text(u, "username", at);
    user.password = text(u, "password", at);
    user.exec = readExec(u, at, dir);
    user.impersonate.user = text(u, "as", at);
    user.impersonate.uid = text(u, "as-uid", at);
    if (auto g = u.find("as-groups"); g != u.end() && !g->is_null()) {
      if (!g->is_array()) throw EntryError{at + ".as-groups: must be a list"};
      for (const auto& group : *g) {
        if (!group.is_string()) throw EntryError{at + ".as-groups: must be a list of strings"};
        user.impersonate.groups.push_back(group.get<std::string>());
      }
    }
    out.users.emplace(name, std::move(user));
  });
  forEachEntry(
      doc, "contexts", "context", [&](const std::string& name, const json& c, const std::string& at) {
        if (out.contexts.count(name)) return;
        out.contexts.emplace(
            name, Kubeconfig::Context{text(c, "cluster", at), text(c, "user", at), text(c, "namespace", at)});
      });
  if (out.currentContext.empty()) out.currentContext = text(doc, "current-context", "");
}

bool isIPv6(std::string_view host) { return host.find(':') != std::string_view::npos; }

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

}  // namespace

bool ClientConfig::hasCredentials() const {
  return !token.empty() || !tokenFile.empty() || !clientCertData.empty() || !clientCertFile.empty() ||
         exec.has_value();
}

Result<Kubeconfig> loadKubeconfigFiles(const std::vector<std::string>& paths, bool skipMissing) {
  Kubeconfig out;
  std::set<std::string> seen;
  for (const auto& path : paths) {
    if (path.empty() || !seen.insert(path).second) continue;
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      if (skipMissing) continue;
      return Error{path + ": no such kubeconfig file"};
    }
    auto docs = loadYamlFile(path);
    if (!docs.ok()) return Error{docs.error()};
    out.files.push_back(path);
    if (docs->empty()) continue;  // an empty file is an empty config
    const json& doc = docs->front().json;
    if (!doc.is_object()) return Error{path + ": not a kubeconfig: the document is not a mapping"};
    const fs::path dir = fs::absolute(fs::path(path), ec).parent_path();
    try {
      mergeFile(out, doc, dir);
    } catch (const EntryError& e) {
      return Error{path + ": " + e.message};
    } catch (const json::exception& e) {
      return Error{path + ": " + e.what()};
    }
  }
  return out;
}

Result<ClientConfig> clientConfigFor(const Kubeconfig& config, const std::string& contextOverride,
                                     const std::string& nsOverride) {
  if (config.contexts.empty() && config.clusters.empty() && contextOverride.empty())
    return Error{"invalid configuration: no configuration has been provided"};
  const std::string contextName = contextOverride.empty() ? config.currentContext : contextOverride;
  if (contextName.empty()) return Error{"invalid configuration: current-context is not set; use --context"};
  auto ctx = config.contexts.find(contextName);
  if (ctx == config.contexts.end())
    return Error{"context was not found for specified context: " + contextName};
  auto cluster = config.clusters.find(ctx->second.cluster);
  if (cluster == config.clusters.end())
    return Error{"invalid configuration: context " + quote(contextName) + " names cluster " +
                 quote(ctx->second.cluster) + ", which is not defined"};
  const auto& c = cluster->second;
  if (c.server.empty())
    return Error{"invalid configuration: no server found for cluster " + quote(cluster->first)};
  if (c.insecureSkipTLSVerify && (!c.caFile.empty() || !c.caData.empty()))
    return Error{
        "invalid configuration: specifying a root certificates file with the insecure flag is not "
        "allowed for cluster " +
        quote(cluster->first)};

  ClientConfig out;
  out.contextName = contextName;
  out.clusterName = cluster->first;
  out.server = c.server.find("://") == std::string::npos ? "https://" + c.server : c.server;
  out.tlsServerName = c.tlsServerName;
  out.insecureSkipTLSVerify = c.insecureSkipTLSVerify;
  out.caFile = c.caFile;
  out.caData = c.caData;
  out.ns = !nsOverride.empty() ? nsOverride : !ctx->second.ns.empty() ? ctx->second.ns : "default";

  if (!ctx->second.user.empty()) {
    auto user = config.users.find(ctx->second.user);
    if (user == config.users.end())
      return Error{"invalid configuration: context " + quote(contextName) + " names user " +
                   quote(ctx->second.user) + ", which is not defined"};
    const auto& u = user->second;
    const std::string who = quote(user->first);
    const bool hasCert = !u.clientCertFile.empty() || !u.clientCertData.empty();
    const bool hasKey = !u.clientKeyFile.empty() || !u.clientKeyData.empty();
    if (hasCert && !hasKey)
      return Error{"invalid configuration: client-key-data or client-key must be specified for " + who +
                   " to use the clientCert authentication method"};
    if (hasKey && !hasCert)
      return Error{"invalid configuration: client-cert-data or client-cert must be specified for " + who +
                   " to use the clientCert authentication method"};
    const bool basic = !u.username.empty() || !u.password.empty();
    if (!u.token.empty() && basic)
      return Error{"invalid configuration: more than one authentication method found for " + who +
                   "; found [token basicAuth], only one is allowed"};
    if (u.exec) {
      const auto& e = *u.exec;
      const std::string suffix = " must be specified for " + who + " to use exec authentication plugin";
      if (e.command.empty()) return Error{"invalid configuration: command" + suffix};
      if (e.apiVersion.empty()) return Error{"invalid configuration: apiVersion" + suffix};
      if (e.apiVersion != "client.authentication.k8s.io/v1" &&
          e.apiVersion != "client.authentication.k8s.io/v1beta1")
        return Error{"invalid configuration: exec plugin for " + who + ": unsupported apiVersion " +
                     quote(e.apiVersion) + " (want client.authentication.k8s.io/v1 or v1beta1)"};
      if (e.apiVersion == "client.authentication.k8s.io/v1" && e.interactiveMode.empty())
        return Error{"invalid configuration: interactiveMode" + suffix};
      if (!e.interactiveMode.empty() && e.interactiveMode != "Never" && e.interactiveMode != "IfAvailable" &&
          e.interactiveMode != "Always")
        return Error{"invalid configuration: invalid interactiveMode for " + who + ": " + e.interactiveMode +
                     " (want Never, IfAvailable or Always)"};
    }
    out.userName = user->first;
    out.clientCertFile = u.clientCertFile;
    out.clientCertData = u.clientCertData;
    out.clientKeyFile = u.clientKeyFile;
    out.clientKeyData = u.clientKeyData;
    out.token = u.token;
    out.tokenFile = u.tokenFile;
    out.exec = u.exec;
    if (u.impersonate.user.empty() && (!u.impersonate.groups.empty() || !u.impersonate.uid.empty()))
      return Error{"invalid configuration: user " + who +
                   ": as-groups and as-uid need as (the user to impersonate)"};
    out.impersonate = u.impersonate;
    if (out.exec && out.exec->interactiveMode.empty()) out.exec->interactiveMode = "IfAvailable";
    if (basic)
      out.warnings.push_back("user " + who + ": basic authentication is not supported; it is ignored");
  }

  if (out.server.rfind("http://", 0) == 0 && out.hasCredentials()) {
    // kubectl applies credentials only to https servers; a token over plain http would travel in clear.
    out.token.clear();
    out.tokenFile.clear();
    out.clientCertFile.clear();
    out.clientCertData.clear();
    out.clientKeyFile.clear();
    out.clientKeyData.clear();
    out.exec.reset();
    out.warnings.push_back("server " + out.server + " is plain http: the credentials of user " +
                           quote(out.userName) + " are not sent (use https)");
  }
  return out;
}

Result<ClientConfig> loadClientConfig(const KubeconfigOptions& options) {
  std::vector<std::string> paths;
  bool skipMissing = true;
  if (!options.kubeconfigFlag.empty()) {
    paths.push_back(options.kubeconfigFlag);
    skipMissing = false;
  } else if (!options.kubeconfigEnv.empty()) {
    std::string_view rest = options.kubeconfigEnv;
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      paths.emplace_back(rest.substr(0, colon));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  } else if (!options.home.empty()) {
    paths.push_back((fs::path(options.home) / ".kube" / "config").string());
  }
  auto merged = loadKubeconfigFiles(paths, skipMissing);
  if (!merged.ok()) return Error{merged.error()};
  return clientConfigFor(*merged, options.context, options.ns);
}

InClusterOptions InClusterOptions::fromEnvironment() {
  InClusterOptions o;
  auto env = [](const char* name) {
    const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read once at start-up
    return v ? std::string(v) : std::string();
  };
  o.serviceHost = env("KUBERNETES_SERVICE_HOST");
  o.servicePort = env("KUBERNETES_SERVICE_PORT");
  o.podNamespace = env("POD_NAMESPACE");
  return o;
}

Result<ClientConfig> inClusterConfig(const InClusterOptions& options) {
  if (options.serviceHost.empty() || options.servicePort.empty())
    return Error{
        "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
        "must be defined"};
  const fs::path dir(options.serviceAccountDir);
  ClientConfig out;
  const std::string host =
      isIPv6(options.serviceHost) ? "[" + options.serviceHost + "]" : options.serviceHost;
  out.server = "https://" + host + ":" + options.servicePort;
  out.tokenFile = (dir / "token").string();
  auto token = readFile(out.tokenFile);
  if (!token.ok()) return Error{"in-cluster configuration: " + token.error()};
  out.token = trim(*token);
  std::error_code ec;
  if (fs::exists(dir / "ca.crt", ec)) out.caFile = (dir / "ca.crt").string();
  if (!options.podNamespace.empty()) {
    out.ns = options.podNamespace;
  } else if (auto ns = readFile((dir / "namespace").string()); ns.ok() && !trim(*ns).empty()) {
    out.ns = trim(*ns);
  }
  out.contextName = "in-cluster";
  return out;
}

Result<ExecCredential> parseExecCredential(std::string_view stdoutText,
                                           std::string_view configuredApiVersion) {
  const json doc = json::parse(stdoutText, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return Error{"decoding stdout: the exec plugin did not print an ExecCredential JSON object"};
  try {
    const std::string apiVersion = text(doc, "apiVersion", "");
    if (apiVersion != configuredApiVersion)
      return Error{"exec plugin is configured to use API version " + std::string(configuredApiVersion) +
                   ", plugin returned version " + apiVersion};
    auto status = doc.find("status");
    if (status == doc.end() || !status->is_object()) return Error{"exec plugin didn't return a status field"};
    ExecCredential out;
    out.token = text(*status, "token", "status");
    out.clientCertificateData = text(*status, "clientCertificateData", "status");
    out.clientKeyData = text(*status, "clientKeyData", "status");
    if (out.token.empty() && out.clientCertificateData.empty() && out.clientKeyData.empty())
      return Error{"exec plugin didn't return a token or cert/key pair"};
    if (out.clientCertificateData.empty() != out.clientKeyData.empty())
      return Error{"exec plugin returned only certificate or key, not both"};
    const std::string expiry = text(*status, "expirationTimestamp", "status");
    if (!expiry.empty()) {
      auto t = parseRfc3339(expiry);
      if (!t.ok()) return Error{"exec plugin returned an invalid expirationTimestamp: " + t.error()};
      out.expirationTimestamp = *t;
    }
    return out;
  } catch (const EntryError& e) {
    return Error{"decoding stdout: " + e.message};
  }
}

std::string currentBearerToken(const ClientConfig& config) {
  if (!config.tokenFile.empty()) {
    auto t = readFile(config.tokenFile);
    if (t.ok() && !trim(*t).empty()) return trim(*t);
  }
  return config.token;
}

}  // namespace sluice::kube
