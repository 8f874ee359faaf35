// RBAC evaluation over the stored Role, ClusterRole, RoleBinding and ClusterRoleBinding objects.
#include "kube/apiserver/rbac.h"

#include <algorithm>

#include "kube/apiserver/registry.h"
#include "kube/apiserver/workloads.h"
#include "kube/selectors.h"

namespace sluice::apiserver {

using nlohmann::json;

namespace {

constexpr const char* kServiceAccountPrefix = "system:serviceaccount:";
constexpr const char* kAuthenticated = "system:authenticated";
constexpr const char* kUnauthenticated = "system:unauthenticated";
constexpr const char* kRbacGroup = "rbac.authorization.k8s.io";

std::string str(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

std::vector<std::string> strings(const json& obj, const char* key) {
  std::vector<std::string> out;
  if (!obj.is_object()) return out;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

bool has(const std::vector<std::string>& values, const std::string& v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

bool hasOrAll(const std::vector<std::string>& values, const std::string& v) {
  return has(values, "*") || has(values, v);
}

// A rule's resources against "resource" or "resource/subresource": "*" any, an exact match, or
// "*/<subresource>" any resource's subresource.
bool resourceMatches(const std::vector<std::string>& ruleResources, const RequestAttributes& r) {
  const std::string combined = r.subresource.empty() ? r.resource : r.resource + "/" + r.subresource;
  for (const auto& rr : ruleResources) {
    if (rr == "*" || rr == combined) return true;
    if (!r.subresource.empty() && rr == "*/" + r.subresource) return true;
  }
  return false;
}

bool ruleAllows(const json& rule, const RequestAttributes& r) {
  if (!hasOrAll(strings(rule, "verbs"), r.verb)) return false;
  if (!hasOrAll(strings(rule, "apiGroups"), r.group)) return false;
  if (!resourceMatches(strings(rule, "resources"), r)) return false;
  const auto names = strings(rule, "resourceNames");
  return names.empty() || has(names, r.name);
}

bool rulesAllow(const json& role, const RequestAttributes& r) {
  auto rules = role.find("rules");
  if (rules == role.end() || !rules->is_array()) return false;
  return std::any_of(rules->begin(), rules->end(), [&](const json& rule) { return ruleAllows(rule, r); });
}

// A ClusterRole's rules and, for an aggregated one, those of every other ClusterRole its
// aggregationRule.clusterRoleSelectors select: on a real cluster the aggregation controller copies them
// into the aggregate's rules; here they are read when a request is authorized (one level deep).
bool clusterRoleAllows(const json& role, const RequestAttributes& r, const RbacPolicy& policy) {
  if (rulesAllow(role, r)) return true;
  auto aggregation = role.find("aggregationRule");
  if (aggregation == role.end() || !aggregation->is_object()) return false;
  auto selectors = aggregation->find("clusterRoleSelectors");
  if (selectors == aggregation->end() || !selectors->is_array()) return false;
  for (const auto& s : *selectors) {
    auto query = labelSelectorQuery(s);
    if (!query || query->empty()) continue;  // an empty selector would select every ClusterRole
    auto selector = kube::LabelSelector::parse(*query);
    if (!selector) continue;
    for (const auto& [name, other] : policy.clusterRoles) {
      if (&other == &role || !selector->matchesObject(other)) continue;
      if (rulesAllow(other, r)) return true;
    }
  }
  return false;
}

// Whether a binding (its namespace `bindingNs`, "" for a ClusterRoleBinding) names the user.
bool appliesTo(const UserInfo& user, const json& binding, const std::string& bindingNs) {
  auto subjects = binding.find("subjects");
  if (subjects == binding.end() || !subjects->is_array()) return false;
  for (const auto& s : *subjects) {
    const std::string kind = str(s, "kind");
    const std::string name = str(s, "name");
    if (kind == "User" && name == user.name) return true;
    if (kind == "Group" && has(user.groups, name)) return true;
    if (kind == "ServiceAccount") {
      std::string saNs = str(s, "namespace");
      if (saNs.empty()) saNs = bindingNs;
      if (saNs.empty()) continue;
      std::string account = kServiceAccountPrefix;
      account.append(saNs).append(":").append(name);
      if (user.name == account) return true;
    }
  }
  return false;
}

// The role a binding refers to, or nullptr with `error` set as the real authorizer words it.
const json* referencedRole(const json& binding, bool clusterBinding, const RbacPolicy& policy,
                           std::string& error) {
  const json roleRef = binding.is_object() ? binding.value("roleRef", json::object()) : json::object();
  const std::string kind = str(roleRef, "kind");
  const std::string name = str(roleRef, "name");
  if (kind == "ClusterRole") {
    auto it = policy.clusterRoles.find(name);
    if (it != policy.clusterRoles.end()) return &it->second;
    error = std::string("clusterrole.") + kRbacGroup + " \"" + name + "\" not found";
    return nullptr;
  }
  if (kind == "Role" && !clusterBinding) {
    auto it = policy.roles.find(name);
    if (it != policy.roles.end()) return &it->second;
    error = std::string("role.") + kRbacGroup + " \"" + name + "\" not found";
    return nullptr;
  }
  error = "unsupported role reference kind: \"" + kind + "\"";
  return nullptr;
}

}  // namespace

UserInfo impersonatedUser(const std::string& user, const std::vector<std::string>& groups) {
  UserInfo u{user, groups};
  const std::string prefix = kServiceAccountPrefix;
  if (groups.empty() && user.rfind(prefix, 0) == 0) {
    const std::string rest = user.substr(prefix.size());
    const auto colon = rest.find(':');
    if (colon != std::string::npos && colon > 0 && colon + 1 < rest.size()) {
      u.groups.emplace_back("system:serviceaccounts");
      u.groups.push_back("system:serviceaccounts:" + rest.substr(0, colon));
    }
  }
  if (!has(u.groups, kAuthenticated) && !has(u.groups, kUnauthenticated) && user != "system:anonymous")
    u.groups.emplace_back(kAuthenticated);
  return u;
}

Decision authorize(const UserInfo& user, const RequestAttributes& request, const RbacPolicy& policy) {
  Decision d;
  // kube-apiserver lets system:masters do anything before RBAC is asked.
  if (has(user.groups, "system:masters")) {
    d.allowed = true;
    return d;
  }
  std::vector<std::string> errors;
  auto visit = [&](const json& binding, bool clusterBinding, const std::string& bindingNs) {
    if (!appliesTo(user, binding, bindingNs)) return false;
    std::string error;
    const json* role = referencedRole(binding, clusterBinding, policy, error);
    if (!role) {
      errors.push_back(error);
      return false;
    }
    const bool clusterRole = str(binding.value("roleRef", json::object()), "kind") == "ClusterRole";
    return clusterRole ? clusterRoleAllows(*role, request, policy) : rulesAllow(*role, request);
  };
  for (const auto& b : policy.clusterRoleBindings) {
    if (visit(b, true, "")) {
      d.allowed = true;
      return d;
    }
  }
  if (!request.ns.empty()) {
    for (const auto& b : policy.roleBindings) {
      const std::string bindingNs = b.contains("metadata") ? str(b["metadata"], "namespace") : "";
      if (bindingNs != request.ns) continue;
      if (visit(b, false, bindingNs)) {
        d.allowed = true;
        return d;
      }
    }
  }
  if (!errors.empty()) {
    std::string joined;
    for (const auto& e : errors) joined += (joined.empty() ? "" : ", ") + e;
    d.reason = "RBAC: " + (errors.size() == 1 ? joined : "[" + joined + "]");
  }
  return d;
}

std::string forbiddenMessage(const UserInfo& user, const RequestAttributes& request) {
  const std::string resource =
      request.subresource.empty() ? request.resource : request.resource + "/" + request.subresource;
  std::string m = "User \"" + user.name + "\" cannot " + request.verb + " resource \"" + resource +
                  "\" in API group \"" + request.group + "\"";
  if (!request.ns.empty()) return m + " in the namespace \"" + request.ns + "\"";
  return m + " at the cluster scope";
}

ApiError forbiddenError(const UserInfo& user, const RequestAttributes& request, const Decision& decision) {
  std::string why = forbiddenMessage(user, request);
  if (!decision.reason.empty()) why += ": " + decision.reason;
  return forbidden(request.resource, request.group, request.name, why);
}

ApiResult<RbacPolicy> loadPolicy(const Registry& registry, const std::string& ns) {
  RbacPolicy policy;
  auto listed = [&](const char* resource, const std::string& inNs) -> ApiResult<std::vector<json>> {
    auto type = registry.find(kRbacGroup, "v1", resource);
    if (!type) return internalError(std::string("the RBAC resource ") + resource + " is not served");
    auto list = registry.list(*type, inNs, {});
    if (!list) return list.error();
    std::vector<json> items;
    if (list->contains("items") && (*list)["items"].is_array())
      for (auto& item : (*list)["items"]) items.push_back(std::move(item));
    return items;
  };
  auto byName = [](std::vector<json> items) {
    std::map<std::string, json> out;
    for (auto& item : items) {
      std::string name = item.contains("metadata") ? str(item["metadata"], "name") : "";
      out.emplace(std::move(name), std::move(item));
    }
    return out;
  };
  auto crb = listed("clusterrolebindings", "");
  if (!crb) return crb.error();
  policy.clusterRoleBindings = std::move(*crb);
  auto cr = listed("clusterroles", "");
  if (!cr) return cr.error();
  policy.clusterRoles = byName(std::move(*cr));
  if (!ns.empty()) {
    auto rb = listed("rolebindings", ns);
    if (!rb) return rb.error();
    policy.roleBindings = std::move(*rb);
    auto roles = listed("roles", ns);
    if (!roles) return roles.error();
    policy.roles = byName(std::move(*roles));
  }
  return policy;
}

}  // namespace sluice::apiserver
