// The GitRepository kind (see git_repository.h).
#include "gitops/git_repository.h"

#include <algorithm>
#include <cctype>

#include "base/json_fields.h"
#include "gitops/git_url.h"
#include "gitops/semver.h"

namespace sluice::gitops {

using json = nlohmann::json;
using namespace json_fields;

namespace {

bool isHex(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c); });
}

void readRef(ObjectReader& o, GitRepositoryRef& ref) {
  o.read("branch", ref.branch, readString);
  o.read("tag", ref.tag, readString);
  o.read("semver", ref.semver, readString);
  o.read("name", ref.name, readString);
  o.read("commit", ref.commit, readString);
  Reporter& r = o.reporter();
  if (!ref.semver.empty()) {
    if (auto range = SemVerRange::parse(ref.semver); !range) r.error(o.path("semver"), range.error());
  }
  if (!ref.name.empty() && ref.name.rfind("refs/", 0) != 0)
    r.error(o.path("name"),
            "must be a full reference starting with refs/ (refs/heads/main), got \"" + ref.name + "\"");
  if (!ref.commit.empty() && (!isHex(ref.commit) || ref.commit.size() < 7 || ref.commit.size() > 64))
    r.error(o.path("commit"), "must be a commit id in hex (7 to 64 digits), got \"" + ref.commit + "\"");
}

void readSpec(ObjectReader& o, GitRepositorySpec& spec) {
  Reporter& r = o.reporter();
  o.readRequired("url", spec.url);
  if (!spec.url.empty()) {
    if (auto url = parseGitUrl(spec.url); !url) r.error(o.path("url"), url.error());
  }
  if (!o.has("interval")) {
    r.error(o.path("interval"), "is required");
  } else {
    std::optional<Duration> interval;
    o.read("interval", interval, readDuration);
    if (interval) {
      if (interval->count() <= 0) {
        r.error(o.path("interval"), "must be more than 0s");
      } else {
        spec.interval = *interval;
      }
    }
  }
  std::optional<Duration> timeout;
  o.read("timeout", timeout, readDuration);
  if (timeout) {
    if (timeout->count() <= 0) {
      r.error(o.path("timeout"), "must be more than 0s");
    } else {
      spec.timeout = *timeout;
    }
  }
  if (const json* ref = o.get("ref")) {
    readObject(r, *ref, o.path("ref"), [&](ObjectReader& ro) { readRef(ro, spec.ref); });
  }
  const GitRepositoryRef& ref = spec.ref;
  if (ref.branch.empty() && ref.tag.empty() && ref.semver.empty() && ref.name.empty() && ref.commit.empty())
    spec.ref.branch = GitRepositoryRef::kDefaultBranch;
  if (const json* secret = o.get("secretRef")) {
    readObject(r, *secret, o.path("secretRef"),
               [&](ObjectReader& so) { so.readRequired("name", spec.secretRefName); });
  }
  if (const json* ignore = o.get("ignore")) {
    if (auto text = readString(r, *ignore, o.path("ignore"))) spec.ignore = *text;
  }
  o.read("suspend", spec.suspend, readBool);
  if (const json* provider = o.get("provider")) {
    if (!provider->is_string() || *provider != "generic")
      r.error(o.path("provider"),
              "only \"generic\" is supported by sluice (credentials from spec.secretRef)");
  }
  for (const char* key : {"verify", "include", "proxySecretRef"})
    o.rejectUnsupported(key, "is not supported by sluice yet");
  if (const json* submodules = o.get("recurseSubmodules")) {
    if (submodules->is_boolean() && submodules->get<bool>())
      r.error(o.path("recurseSubmodules"), "is not supported by sluice yet: submodules are left out");
  }
  o.ignoreUnsupported("sparseCheckout");
}

}  // namespace

std::optional<GitRepository> parseGitRepository(const json& object, const SourceMap& source,
                                                Diagnostics& diags) {
  GitRepository repo;
  ObjectMeta meta;
  std::string kind;
  const bool ok = readInOrder(source, diags, [&](Reporter& r, Diagnostics&) {
    readEnvelope(
        r, object, repo.apiVersion, kind,
        {kSluiceSourceApiVersion, kFluxSourceApiVersion, kFluxSourceApiVersionBeta2}, {kGitRepositoryKind},
        meta, [&](ObjectReader& so) { readSpec(so, repo.spec); },
        [](ObjectReader& o) { o.get("status"); });  // the controller's; read by statusFromJson
  });
  if (!ok) return std::nullopt;
  repo.name = std::move(meta.name);
  repo.ns = std::move(meta.ns);
  repo.generation = meta.generation;
  repo.annotations = std::move(meta.annotations);
  return repo;
}

// ---- status -------------------------------------------------------------------------------------

const Condition* GitRepositoryStatus::find(const std::string& type) const {
  for (const auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

void GitRepositoryStatus::set(Condition c, Time now) {
  for (auto& existing : conditions) {
    if (existing.type != c.type) continue;
    c.lastTransitionTime = existing.status == c.status ? existing.lastTransitionTime : now;
    existing = std::move(c);
    return;
  }
  c.lastTransitionTime = now;
  conditions.push_back(std::move(c));
}

void GitRepositoryStatus::remove(const std::string& type) {
  conditions.erase(std::remove_if(conditions.begin(), conditions.end(),
                                  [&](const Condition& c) { return c.type == type; }),
                   conditions.end());
}

json artifactToJson(const Artifact& a) {
  json j = json::object();
  putString(j, "path", a.path);
  putString(j, "url", a.url);
  putString(j, "revision", a.revision);
  putString(j, "digest", a.digest);
  j["lastUpdateTime"] = formatRfc3339(a.lastUpdateTime);
  j["size"] = a.size;
  return j;
}

json statusToJson(const GitRepositoryStatus& s) {
  json j = json::object();
  putInt(j, "observedGeneration", s.observedGeneration);
  if (!s.conditions.empty()) {
    json list = json::array();
    for (const auto& c : s.conditions) {
      list.push_back({{"type", c.type},
                      {"status", c.status},
                      {"reason", c.reason},
                      {"message", c.message},
                      {"observedGeneration", c.observedGeneration},
                      {"lastTransitionTime", formatRfc3339(c.lastTransitionTime)}});
    }
    j["conditions"] = list;
  }
  if (s.artifact) j["artifact"] = artifactToJson(*s.artifact);
  if (s.observedIgnore) j["observedIgnore"] = *s.observedIgnore;
  putString(j, "lastHandledReconcileAt", s.lastHandledReconcileAt);
  return j;
}

Result<GitRepositoryStatus> statusFromJson(const json& status) {
  return readWithoutSource<GitRepositoryStatus>(
      status, "status", false, [](ObjectReader& o, GitRepositoryStatus& s) {
        Reporter& r = o.reporter();
        o.read("observedGeneration", s.observedGeneration, readInt64);
        if (const json* list = o.get("conditions")) {
          forEachObject(r, *list, o.path("conditions"), [&](ObjectReader& co) {
            Condition c;
            co.read("type", c.type, readString);
            co.read("status", c.status, readString);
            co.read("reason", c.reason, readString);
            co.read("message", c.message, readString);
            co.read("observedGeneration", c.observedGeneration, readInt64);
            co.read("lastTransitionTime", c.lastTransitionTime, readTime);
            s.conditions.push_back(std::move(c));
          });
        }
        if (const json* a = o.get("artifact")) {
          readStatusObject(r, *a, o.path("artifact"), [&](ObjectReader& ao) {
            Artifact art;
            ao.read("path", art.path, readString);
            ao.read("url", art.url, readString);
            ao.read("revision", art.revision, readString);
            ao.read("digest", art.digest, readString);
            ao.read("lastUpdateTime", art.lastUpdateTime, readTime);
            ao.read("size", art.size, readInt64);
            s.artifact = std::move(art);
          });
        }
        if (const json* ignore = o.get("observedIgnore")) {
          if (auto text = readString(r, *ignore, o.path("observedIgnore"))) s.observedIgnore = *text;
        }
        o.read("lastHandledReconcileAt", s.lastHandledReconcileAt, readString);
      });
}

}  // namespace sluice::gitops
