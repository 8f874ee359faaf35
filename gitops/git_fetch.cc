// Fetching with libgit2 (see git_fetch.h). One fetch: connect, list the remote's refs, pick the one the
// spec names, download only it over the same connection (the cache's refs are offered as "haves", so a
// warm cache receives only new objects), then look the commit up in the cache.
#include "gitops/git_fetch.h"

#include <git2.h>

#include <memory>
#include <vector>

#include "base/base64.h"
#include "gitops/git_socket.h"
#include "gitops/git_url.h"
#include "gitops/known_hosts.h"
#include "gitops/semver.h"
#include "gitops/tls_verify.h"

namespace sluice::gitops {

namespace {

using Clock = std::chrono::steady_clock;

void initLibgit2() {
  // Initialised once for the process and never shut down: other threads may be fetching at exit.
  static const int once = git_libgit2_init();
  (void)once;
  registerDeadlineSockets();
}

std::string lastGitError() {
  const git_error* e = git_error_last();
  return e && e->message ? e->message : "unknown libgit2 error";
}

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const {
    if (p) Free(p);
  }
};
using RepoPtr = std::unique_ptr<git_repository, Deleter<git_repository, git_repository_free>>;
using RemotePtr = std::unique_ptr<git_remote, Deleter<git_remote, git_remote_free>>;
using CommitPtr = std::unique_ptr<git_commit, Deleter<git_commit, git_commit_free>>;
using TreePtr = std::unique_ptr<git_tree, Deleter<git_tree, git_tree_free>>;
using ObjectPtr = std::unique_ptr<git_object, Deleter<git_object, git_object_free>>;

std::string hex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &oid);
  return buf;
}

// What the callbacks saw, to tell a person why a libgit2 call failed.
struct CallbackState {
  const FetchRequest* request = nullptr;
  GitUrl url;
  Clock::time_point deadline;
  std::optional<KnownHosts> knownHosts;
  int secretAttempts = 0;
  bool authRefused = false;    // credentials were sent and the server asked again
  bool noCredentials = false;  // the server asked for a kind of credential the Secret lacks
  bool timedOut = false;
  std::string hostKeyError;
  std::string certificateError;  // why the HTTPS server's certificate was refused

  bool pastDeadline() {
    if (Clock::now() >= deadline) timedOut = true;
    return timedOut;
  }
};

int onCredentials(git_credential** out, const char* /*url*/, const char* userFromUrl, unsigned int allowed,
                  void* payload) {
  auto* s = static_cast<CallbackState*>(payload);
  if (s->pastDeadline()) return GIT_EUSER;
  const GitCredentials& c = s->request->credentials;
  std::string user = userFromUrl && *userFromUrl ? userFromUrl : c.username;
  if (user.empty()) user = "git";
  if ((allowed & GIT_CREDENTIAL_USERNAME) &&
      !(allowed & (GIT_CREDENTIAL_SSH_KEY | GIT_CREDENTIAL_USERPASS_PLAINTEXT)))
    return git_credential_username_new(out, user.c_str());
  // libgit2 asks again after the server refused what it was given: once refused, stop.
  if (s->secretAttempts > 0) {
    s->authRefused = true;
    return GIT_EAUTH;
  }
  if ((allowed & GIT_CREDENTIAL_SSH_KEY) && !c.identity.empty()) {
    ++s->secretAttempts;
    return git_credential_ssh_key_memory_new(
        out, user.c_str(), c.identityPub.empty() ? nullptr : c.identityPub.c_str(), c.identity.c_str(),
        c.password.empty() ? nullptr : c.password.c_str());
  }
  if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && !c.username.empty()) {
    ++s->secretAttempts;
    return git_credential_userpass_plaintext_new(out, c.username.c_str(), c.password.c_str());
  }
  if (!c.bearerToken.empty()) {
    // The token went in the Authorization header and the server still asks: it refused it.
    s->authRefused = true;
  } else {
    s->noCredentials = true;
  }
  return GIT_EAUTH;
}

const char* sshKeyType(git_cert_ssh_raw_type_t t) {
  switch (t) {
    case GIT_CERT_SSH_RAW_TYPE_RSA:
      return "ssh-rsa";
    case GIT_CERT_SSH_RAW_TYPE_DSS:
      return "ssh-dss";
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256:
      return "ecdsa-sha2-nistp256";
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384:
      return "ecdsa-sha2-nistp384";
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521:
      return "ecdsa-sha2-nistp521";
    case GIT_CERT_SSH_RAW_TYPE_KEY_ED25519:
      return "ssh-ed25519";
    default:
      return "";
  }
}

// "host" or "host:port" as the URL names the server.
std::string serverName(const GitUrl& url) {
  return url.port == 0 ? url.host : url.host + ":" + std::to_string(url.port);
}

// An HTTPS server's certificate. With CA certificates in the Secret, they decide (libgit2's own check used
// the system's trust store, so its verdict does not count); without, libgit2's verdict stands, and a
// refusal is explained.
int checkServerCertificate(CallbackState* s, const git_cert_x509* cert, bool valid, const char* host) {
  const std::string& ca = s->request->credentials.caCert;
  if (ca.empty() && valid) return 0;
  auto problem = verifyServerCertificate(std::string_view(static_cast<const char*>(cert->data), cert->len),
                                         ca, host ? host : s->url.host);
  if (!problem) return ca.empty() ? GIT_PASSTHROUGH : 0;
  using K = CertificateProblem::Kind;
  const std::string server = serverName(s->url);
  std::string hint;
  switch (problem->kind) {
    case K::UnknownAuthority:
      hint = ca.empty()
                 ? "the TLS certificate of " + server + " (issuer \"" + problem->issuer +
                       "\") is not signed by a CA of the system's trust store: put the certificate of "
                       "the CA that signed it (PEM) in ca.crt of the Secret of spec.secretRef"
                 : "the TLS certificate of " + server + " (issuer \"" + problem->issuer +
                       "\") is not signed by a CA in ca.crt of the Secret of spec.secretRef: put there "
                       "the certificate of the CA that issued it (the intermediate CA's own when an "
                       "intermediate issued it)";
      break;
    case K::HostMismatch:
      hint = "the TLS certificate of " + server +
             " is for another host: use in spec.url a host name the certificate names, or give the server a "
             "certificate for " +
             s->url.host;
      break;
    case K::Expired:
      hint = "the TLS certificate of " + server + " is outside its validity period: renew it on the server";
      break;
    case K::Other:
      hint = "the TLS certificate of " + server + " is not acceptable";
      break;
  }
  s->certificateError = problem->message + ": " + hint;
  return GIT_ECERTIFICATE;
}

int onCertificate(git_cert* cert, int valid, const char* host, void* payload) {
  auto* s = static_cast<CallbackState*>(payload);
  if (cert->cert_type == GIT_CERT_X509)
    return checkServerCertificate(s, reinterpret_cast<const git_cert_x509*>(cert), valid != 0, host);
  if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2) return GIT_PASSTHROUGH;
  const auto* key = reinterpret_cast<const git_cert_hostkey*>(cert);
  if (!s->knownHosts) {
    s->hostKeyError = "no known_hosts to check the SSH host key of " + s->url.knownHostsName() + " against";
    return GIT_ECERTIFICATE;
  }
  if (!(key->type & GIT_CERT_SSH_RAW)) {
    s->hostKeyError = "the SSH library gave no host key for " + s->url.knownHostsName() + " to check";
    return GIT_ECERTIFICATE;
  }
  Status ok = s->knownHosts->verify(s->url.knownHostsName(), sshKeyType(key->raw_type),
                                    std::string(key->hostkey, key->hostkey_len));
  if (!ok) {
    s->hostKeyError = ok.error();
    return GIT_ECERTIFICATE;
  }
  return 0;
}

int onTransfer(const git_indexer_progress* /*stats*/, void* payload) {
  return static_cast<CallbackState*>(payload)->pastDeadline() ? -1 : 0;
}

int onSideband(const char* /*text*/, int /*len*/, void* payload) {
  return static_cast<CallbackState*>(payload)->pastDeadline() ? -1 : 0;
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// A failed libgit2 call as a FetchError, the callbacks' findings first.
FetchError classify(CallbackState& s, int code, const std::string& doing) {
  const std::string url = s.url.redacted();
  const std::string detail = lastGitError();
  using K = FetchError::Kind;
  if (s.timedOut || s.pastDeadline())
    return {K::Timeout, doing + " " + quoted(url) + " timed out after " +
                            std::to_string(s.request->timeout.count() / 1000) + "s (spec.timeout)"};
  if (!s.hostKeyError.empty()) return {K::HostKey, doing + " " + quoted(url) + ": " + s.hostKeyError};
  if (!s.certificateError.empty())
    return {K::Certificate, doing + " " + quoted(url) + ": " + s.certificateError};
  if (s.authRefused)
    return {K::Auth, doing + " " + quoted(url) +
                         ": authentication failed: the server refused the credentials of spec.secretRef"};
  if (s.noCredentials)
    return {K::Auth,
            doing + " " + quoted(url) +
                ": authentication required: set spec.secretRef to a Secret with username and password "
                "(or bearerToken; identity and known_hosts for SSH)"};
  const git_error* e = git_error_last();
  const int klass = e ? e->klass : 0;
  // The TLS library refused the certificate (no CA in the Secret: libgit2's own check).
  if (code == GIT_ECERTIFICATE)
    return {K::Certificate, doing + " " + quoted(url) + ": TLS with " + serverName(s.url) + ": " + detail};
  // No TLS session at all: the server speaks plain HTTP, or no protocol or cipher in common.
  if (klass == GIT_ERROR_SSL)
    return {K::Unreachable, doing + " " + quoted(url) + ": cannot reach the repository: TLS with " +
                                serverName(s.url) + " failed: " + detail};
  if (code == GIT_EAUTH || detail.find("authentication") != std::string::npos ||
      detail.find("401") != std::string::npos)
    return {K::Auth, doing + " " + quoted(url) + ": authentication failed: " + detail};
  if (klass == GIT_ERROR_NET || klass == GIT_ERROR_OS || klass == GIT_ERROR_SSH || klass == GIT_ERROR_HTTP ||
      detail.find("could not find repository") != std::string::npos ||
      detail.find("not a git repository") != std::string::npos || detail.find("404") != std::string::npos)
    return {K::Unreachable, doing + " " + quoted(url) + ": cannot reach the repository: " + detail};
  return {K::Other, doing + " " + quoted(url) + ": " + detail};
}

Result<RepoPtr> openCache(const std::filesystem::path& dir) {
  git_repository* raw = nullptr;
  if (std::filesystem::exists(dir / "HEAD")) {
    if (git_repository_open_bare(&raw, dir.c_str()) == 0) return RepoPtr(raw);
    // A cache that no longer opens (a crash while it was created): start it again.
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::error_code ec;
  std::filesystem::create_directories(dir.parent_path(), ec);
  if (git_repository_init(&raw, dir.c_str(), 1) != 0)
    return Error{"cannot create the git cache " + dir.string() + ": " + lastGitError()};
  return RepoPtr(raw);
}

// What to fetch: refspecs into the cache, and how to find the commit afterwards.
struct Target {
  std::vector<std::string> refspecs;
  std::string revisionRef;     // the named pointer of the revision; empty for a bare commit
  std::optional<git_oid> oid;  // the commit (or tag) the remote advertised
};

Expected<Target, FetchError> resolve(CallbackState& s, const git_remote_head** heads, size_t count) {
  const GitRepositoryRef& ref = s.request->ref;
  const std::string url = quoted(s.url.redacted());
  using K = FetchError::Kind;
  auto find = [&](const std::string& name) -> const git_remote_head* {
    for (size_t i = 0; i < count; ++i) {
      if (name == heads[i]->name) return heads[i];
    }
    return nullptr;
  };
  // An annotated tag's commit: the remote advertises it as "<tag>^{}".
  auto peeled = [&](const std::string& tagRef) -> std::optional<git_oid> {
    if (const git_remote_head* p = find(tagRef + "^{}")) return p->oid;
    if (const git_remote_head* t = find(tagRef)) return t->oid;
    return std::nullopt;
  };
  Target t;
  if (!ref.commit.empty()) {
    if (!ref.branch.empty()) {
      const std::string name = "refs/heads/" + ref.branch;
      if (!find(name))
        return FetchError{K::RefNotFound,
                          "unable to fetch " + url + ": couldn't find remote ref \"" + name + "\""};
      t.refspecs = {"+" + name + ":" + name};
      t.revisionRef = ref.branch;
    } else {
      t.refspecs = {"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"};
    }
    return t;
  }
  if (!ref.name.empty()) {
    const git_remote_head* h = find(ref.name);
    if (!h)
      return FetchError{K::RefNotFound,
                        "unable to fetch " + url + ": couldn't find remote ref \"" + ref.name + "\""};
    t.refspecs = {"+" + ref.name + ":" + ref.name};
    t.revisionRef = ref.name;
    t.oid = ref.name.rfind("refs/tags/", 0) == 0 ? peeled(ref.name) : std::optional<git_oid>(h->oid);
    return t;
  }
  if (!ref.semver.empty()) {
    auto range = SemVerRange::parse(ref.semver);
    if (!range) return FetchError{K::Other, range.error()};
    std::vector<std::string> tags;
    for (size_t i = 0; i < count; ++i) {
      std::string name = heads[i]->name;
      if (name.rfind("refs/tags/", 0) != 0 || (name.size() > 3 && name.substr(name.size() - 3) == "^{}"))
        continue;
      tags.push_back(name.substr(10));
    }
    auto best = highestMatchingTag(*range, tags);
    if (!best)
      return FetchError{K::RefNotFound, "unable to fetch " + url + ": no tag matches the semver range \"" +
                                            ref.semver + "\" (" + std::to_string(tags.size()) + " tags)"};
    const std::string name = "refs/tags/" + *best;
    t.refspecs = {"+" + name + ":" + name};
    t.revisionRef = *best;
    t.oid = peeled(name);
    return t;
  }
  if (!ref.tag.empty()) {
    const std::string name = "refs/tags/" + ref.tag;
    if (!find(name))
      return FetchError{K::RefNotFound,
                        "unable to fetch " + url + ": couldn't find remote ref \"" + name + "\""};
    t.refspecs = {"+" + name + ":" + name};
    t.revisionRef = ref.tag;
    t.oid = peeled(name);
    return t;
  }
  const std::string name = "refs/heads/" + ref.branch;
  const git_remote_head* h = find(name);
  if (!h)
    return FetchError{K::RefNotFound,
                      "unable to fetch " + url + ": couldn't find remote ref \"" + name + "\""};
  t.refspecs = {"+" + name + ":" + name};
  t.revisionRef = ref.branch;
  t.oid = h->oid;
  return t;
}

std::string firstLine(const char* message) {
  std::string m = message ? message : "";
  return m.substr(0, m.find('\n'));
}

}  // namespace

Result<GitCredentials> credentialsFromSecret(const nlohmann::json& secret) {
  GitCredentials c;
  std::string caFile;  // the older key of the CA certificates; ca.crt wins when both are given
  std::map<std::string, std::string*> fields = {{"username", &c.username},
                                                {"password", &c.password},
                                                {"bearerToken", &c.bearerToken},
                                                {"identity", &c.identity},
                                                {"identity.pub", &c.identityPub},
                                                {"known_hosts", &c.knownHosts},
                                                {"ca.crt", &c.caCert},
                                                {"caFile", &caFile}};
  const nlohmann::json data = secret.value("data", nlohmann::json::object());
  const nlohmann::json stringData = secret.value("stringData", nlohmann::json::object());
  for (auto& [key, out] : fields) {
    if (data.is_object() && data.contains(key) && data[key].is_string()) {
      auto decoded = sluice::base64Decode(data[key].get<std::string>());
      if (!decoded) return Error{"Secret key \"" + key + "\" is not valid base64"};
      *out = *decoded;
    }
    if (stringData.is_object() && stringData.contains(key) && stringData[key].is_string())
      *out = stringData[key].get<std::string>();
  }
  const char* caKey = "ca.crt";
  if (c.caCert.empty() && !caFile.empty()) {
    c.caCert = std::move(caFile);
    caKey = "caFile";
  }
  if (!c.caCert.empty()) {
    if (Status ok = checkCaBundle(c.caCert); !ok)
      return Error{std::string("Secret key \"") + caKey +
                   "\" (the CA certificates for HTTPS): " + ok.error()};
  }
  return c;
}

Expected<FetchResult, FetchError> fetchRef(const FetchRequest& request) {
  initLibgit2();
  using K = FetchError::Kind;
  auto url = parseGitUrl(request.url);
  if (!url) return FetchError{K::InvalidUrl, url.error()};
  CallbackState s;
  s.request = &request;
  s.url = *url;
  s.deadline = Clock::now() + request.timeout;
  SocketDeadline socketDeadline(s.deadline);
  if (url->scheme == "ssh") {
    if (request.credentials.knownHosts.empty())
      return FetchError{K::HostKey,
                        "unable to fetch " + quoted(url->redacted()) +
                            ": SSH needs known_hosts in the Secret of spec.secretRef, to check the "
                            "host key of " +
                            url->knownHostsName()};
    auto known = KnownHosts::parse(request.credentials.knownHosts);
    if (!known)
      return FetchError{K::HostKey, "unable to fetch " + quoted(url->redacted()) +
                                        ": bad known_hosts in the "
                                        "Secret of spec.secretRef: " +
                                        known.error()};
    s.knownHosts = std::move(*known);
  }

  auto repo = openCache(request.cacheDir);
  if (!repo) return FetchError{K::Storage, repo.error()};
  git_remote* rawRemote = nullptr;
  if (git_remote_create_anonymous(&rawRemote, repo->get(), request.url.c_str()) != 0)
    return FetchError{K::InvalidUrl, "URL " + quoted(url->redacted()) + ": " + lastGitError()};
  RemotePtr remote(rawRemote);

  git_remote_callbacks callbacks;
  git_remote_init_callbacks(&callbacks, GIT_REMOTE_CALLBACKS_VERSION);
  callbacks.credentials = onCredentials;
  callbacks.certificate_check = onCertificate;
  callbacks.transfer_progress = onTransfer;
  callbacks.sideband_progress = onSideband;
  callbacks.payload = &s;
  std::string bearer = "Authorization: Bearer " + request.credentials.bearerToken;
  char* headerList[] = {bearer.data()};
  git_strarray headers = {headerList, request.credentials.bearerToken.empty() ? 0u : 1u};
  git_proxy_options proxy;
  git_proxy_options_init(&proxy, GIT_PROXY_OPTIONS_VERSION);

  int rc = git_remote_connect(remote.get(), GIT_DIRECTION_FETCH, &callbacks, &proxy, &headers);
  if (rc != 0) return classify(s, rc, "unable to fetch");
  const git_remote_head** heads = nullptr;
  size_t count = 0;
  if ((rc = git_remote_ls(&heads, &count, remote.get())) != 0) return classify(s, rc, "unable to list");
  auto target = resolve(s, heads, count);
  if (!target) return std::move(target).error();

  std::vector<char*> specs;
  for (auto& spec : target->refspecs) specs.push_back(spec.data());
  git_strarray refspecs = {specs.data(), specs.size()};
  git_fetch_options options;
  git_fetch_options_init(&options, GIT_FETCH_OPTIONS_VERSION);
  options.callbacks = callbacks;
  options.custom_headers = headers;
  options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  if ((rc = git_remote_download(remote.get(), &refspecs, &options)) != 0)
    return classify(s, rc, "unable to fetch");
  if ((rc = git_remote_update_tips(remote.get(), &callbacks, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE, nullptr)) != 0)
    return classify(s, rc, "unable to store the refs of");
  const git_indexer_progress* stats = git_remote_stats(remote.get());
  git_remote_disconnect(remote.get());

  // The commit: as advertised, or (spec.ref.commit) looked up among what was fetched.
  git_object* rawObject = nullptr;
  if (target->oid) {
    rc = git_object_lookup(&rawObject, repo->get(), &*target->oid, GIT_OBJECT_ANY);
  } else {
    git_oid prefix;
    const std::string& commit = request.ref.commit;
    rc = git_oid_fromstrn(&prefix, commit.c_str(), commit.size());
    if (rc == 0)
      rc = git_object_lookup_prefix(&rawObject, repo->get(), &prefix, commit.size(), GIT_OBJECT_COMMIT);
    if (rc != 0) {
      return FetchError{K::RefNotFound,
                        "unable to fetch " + quoted(url->redacted()) + ": commit \"" + commit +
                            "\" not found in " +
                            (request.ref.branch.empty() ? std::string("any branch or tag")
                                                        : "branch \"" + request.ref.branch + "\"")};
    }
  }
  if (rc != 0) return FetchError{K::Other, "fetched " + quoted(url->redacted()) + " but: " + lastGitError()};
  ObjectPtr object(rawObject);
  git_object* rawPeeled = nullptr;
  if (git_object_peel(&rawPeeled, object.get(), GIT_OBJECT_COMMIT) != 0)
    return FetchError{K::Other,
                      "the ref of " + quoted(url->redacted()) + " is not a commit: " + lastGitError()};
  ObjectPtr peeledCommit(rawPeeled);
  const auto* commit = reinterpret_cast<git_commit*>(peeledCommit.get());

  FetchResult out;
  out.commit = hex(*git_commit_id(commit));
  out.revision = Revision{target->revisionRef, "sha1", out.commit};
  out.commitMessage = firstLine(git_commit_message(commit));
  out.receivedObjects = stats ? stats->received_objects : 0;
  out.receivedBytes = stats ? stats->received_bytes : 0;
  return out;
}

Status checkoutCommit(const std::filesystem::path& cacheDir, const std::string& commit,
                      const std::filesystem::path& destination) {
  initLibgit2();
  git_repository* rawRepo = nullptr;
  if (git_repository_open_bare(&rawRepo, cacheDir.c_str()) != 0)
    return Error{"cannot open the git cache " + cacheDir.string() + ": " + lastGitError()};
  RepoPtr repo(rawRepo);
  git_oid oid;
  if (git_oid_fromstr(&oid, commit.c_str()) != 0) return Error{"\"" + commit + "\" is not a commit id"};
  git_commit* rawCommit = nullptr;
  if (git_commit_lookup(&rawCommit, repo.get(), &oid) != 0)
    return Error{"commit " + commit + " is not in the cache: " + lastGitError()};
  CommitPtr c(rawCommit);
  git_tree* rawTree = nullptr;
  if (git_commit_tree(&rawTree, c.get()) != 0) return Error{"commit " + commit + ": " + lastGitError()};
  TreePtr tree(rawTree);
  std::error_code ec;
  std::filesystem::create_directories(destination, ec);
  if (ec) return Error{"cannot create " + destination.string() + ": " + ec.message()};
  git_checkout_options options;
  git_checkout_options_init(&options, GIT_CHECKOUT_OPTIONS_VERSION);
  // The blobs as committed: no index of the cache touched, no line-ending or attribute filters.
  options.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
  options.disable_filters = 1;
  const std::string dest = destination.string();
  options.target_directory = dest.c_str();
  if (git_checkout_tree(repo.get(), reinterpret_cast<const git_object*>(tree.get()), &options) != 0)
    return Error{"cannot check commit " + commit + " out: " + lastGitError()};
  return Status::Ok();
}

}  // namespace sluice::gitops
