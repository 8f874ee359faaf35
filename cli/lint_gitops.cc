// GitRepository and Kustomization for `sluice lint`: the controller's loaders, and the checks across files.
#include "cli/lint_gitops.h"

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/source.h"
#include "gitops/git_repository.h"
#include "gitops/kustomization.h"

namespace sluice::cli {

using nlohmann::json;

namespace {

std::string stringAt(const json& obj, std::initializer_list<const char*> path) {
  const json* v = &obj;
  for (const char* key : path) {
    if (!v->is_object() || !v->contains(key)) return "";
    v = &(*v)[key];
  }
  return v->is_string() ? v->get<std::string>() : "";
}

std::string keyOf(const std::string& ns, const std::string& name) {
  return ns.empty() ? name : ns + "/" + name;
}

}  // namespace

bool GitOpsLint::handles(const std::string& kind, const std::string& apiVersion) {
  if (kind == gitops::kGitRepositoryKind)
    return apiVersion == gitops::kSluiceSourceApiVersion ||
           apiVersion.starts_with("source.toolkit.fluxcd.io/");
  if (kind == "Kustomization")
    return apiVersion == gitops::kKustomizationApiVersion ||
           apiVersion.starts_with("kustomize.toolkit.fluxcd.io/");
  return false;
}

void GitOpsLint::lint(const Document& doc, Diagnostics& diags) {
  const json& obj = doc.json;
  const std::string ns = stringAt(obj, {"metadata", "namespace"});
  const std::string name = stringAt(obj, {"metadata", "name"});
  if (obj.value("kind", "") == gitops::kGitRepositoryKind) {
    (void)gitops::parseGitRepository(obj, doc.source, diags);
    // The controller fetches `master` then, which a repository whose default branch is main lacks.
    if (obj.contains("spec") && obj["spec"].is_object() && obj["spec"].contains("ref")) {
      const json& ref = obj["spec"]["ref"];
      bool setsOne = false;
      for (const char* f : {"branch", "tag", "semver", "name", "commit"})
        setsOne = setsOne || !stringAt(ref, {f}).empty();
      if (ref.is_object() && !setsOne)
        diags.add(doc.source.diagnostic(Severity::Warning, "spec.ref",
                                        "names no branch, tag, semver, name or commit: the branch " +
                                            std::string(gitops::GitRepositoryRef::kDefaultBranch) +
                                            " is fetched"));
    }
    if (!name.empty()) gitRepositories_.push_back(keyOf(ns, name));
    return;
  }
  Diagnostics own;
  (void)gitops::readKustomization(obj, doc.source, own);
  diags.append(own);
  if (name.empty()) return;
  // Read from the object as written, so that a Kustomization with an unrelated error still takes part.
  KustomizationSeen k;
  k.key = keyOf(ns, name);
  k.sourceKind = stringAt(obj, {"spec", "sourceRef", "kind"});
  const std::string sourceNs = stringAt(obj, {"spec", "sourceRef", "namespace"});
  const std::string sourceName = stringAt(obj, {"spec", "sourceRef", "name"});
  if (!sourceName.empty()) k.sourceKey = keyOf(sourceNs.empty() ? ns : sourceNs, sourceName);
  k.sourceAt = doc.source.diagnostic(Severity::Warning, "spec.sourceRef.name", "");
  if (obj.contains("spec") && obj["spec"].is_object() && obj["spec"].contains("dependsOn") &&
      obj["spec"]["dependsOn"].is_array()) {
    const json& deps = obj["spec"]["dependsOn"];
    for (size_t i = 0; i < deps.size(); ++i) {
      const std::string depName = stringAt(deps[i], {"name"});
      if (depName.empty()) continue;
      const std::string depNs = stringAt(deps[i], {"namespace"});
      k.dependsOn.push_back(keyOf(depNs.empty() ? ns : depNs, depName));
      k.dependsOnAt.push_back(doc.source.diagnostic(Severity::Error, indexPath("spec.dependsOn", i), ""));
    }
  }
  kustomizations_.push_back(std::move(k));
}

Diagnostics GitOpsLint::crossChecks() const {
  Diagnostics out;
  for (const auto& k : kustomizations_) {
    if (k.sourceKind != gitops::kGitRepositoryKind || k.sourceKey.empty()) continue;
    if (std::find(gitRepositories_.begin(), gitRepositories_.end(), k.sourceKey) != gitRepositories_.end())
      continue;
    Diagnostic d = k.sourceAt;
    d.message = "GitRepository " + k.sourceKey +
                " is in none of the given files: it must exist in the cluster for the Kustomization to apply";
    out.add(std::move(d));
  }

  // dependsOn cycles: the strongly connected components of the graph among the given Kustomizations
  // (Tarjan's algorithm); every member of a component of two or more, or one that depends on itself,
  // waits for the others forever.
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < kustomizations_.size(); ++i) index.emplace(kustomizations_[i].key, i);
  const size_t n = kustomizations_.size();
  std::vector<int> order(n, -1), low(n, 0), component(n, -1);
  std::vector<bool> onStack(n, false);
  std::vector<size_t> stack;
  int counter = 0, components = 0;
  std::function<void(size_t)> connect = [&](size_t v) {
    order[v] = low[v] = counter++;
    stack.push_back(v);
    onStack[v] = true;
    for (const auto& dep : kustomizations_[v].dependsOn) {
      auto it = index.find(dep);
      if (it == index.end()) continue;
      const size_t w = it->second;
      if (order[w] < 0) {
        connect(w);
        low[v] = std::min(low[v], low[w]);
      } else if (onStack[w]) {
        low[v] = std::min(low[v], order[w]);
      }
    }
    if (low[v] == order[v]) {
      for (;;) {
        const size_t w = stack.back();
        stack.pop_back();
        onStack[w] = false;
        component[w] = components;
        if (w == v) break;
      }
      ++components;
    }
  };
  for (size_t v = 0; v < n; ++v)
    if (order[v] < 0) connect(v);

  std::map<int, std::vector<std::string>> members;
  for (size_t v = 0; v < n; ++v) members[component[v]].push_back(kustomizations_[v].key);
  for (size_t v = 0; v < n; ++v) {
    const auto& k = kustomizations_[v];
    const auto& cycle = members[component[v]];
    for (size_t i = 0; i < k.dependsOn.size(); ++i) {
      auto it = index.find(k.dependsOn[i]);
      if (it == index.end() || component[it->second] != component[v]) continue;
      if (cycle.size() == 1 && it->second != v) continue;
      std::string among;
      for (const auto& m : cycle) among += (among.empty() ? "" : ", ") + m;
      Diagnostic d = k.dependsOnAt[i];
      d.message = cycle.size() == 1 ? "Kustomization " + k.key + " depends on itself: it never becomes ready"
                                    : "dependsOn cycle among the Kustomizations " + among +
                                          ": none of them ever becomes ready";
      out.add(std::move(d));
    }
  }
  return out;
}

}  // namespace sluice::cli
