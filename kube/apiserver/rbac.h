// Authorization of impersonated requests with Kubernetes RBAC semantics: a request that carries
// Impersonate-User (and Impersonate-Group) is allowed only when a RoleBinding or ClusterRoleBinding
// stored in the server grants its verb on its resource to that user or one of its groups. Requests that
// impersonate no one keep the admin token's full access. Non-resource URLs (discovery, /version,
// /openapi) are open to every user, as the default system:discovery bindings make them on a real
// cluster; rules with nonResourceURLs are not evaluated. An aggregated ClusterRole (aggregationRule) grants
// the rules of the ClusterRoles its selectors pick, read at each request.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kube/apiserver/api_error.h"

namespace sluice::apiserver {

class Registry;

// Who a request acts as.
struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
};

// The user an impersonating request acts as, as kube-apiserver's impersonation filter builds it: a
// service account user ("system:serviceaccount:<ns>:<name>") with no group asked for is in
// system:serviceaccounts and system:serviceaccounts:<ns>; every user is also in system:authenticated
// unless the groups asked for hold it or system:unauthenticated. Pure.
UserInfo impersonatedUser(const std::string& user, const std::vector<std::string>& groups);

// What a resource request does, as the authorizer sees it (kube-apiserver's RequestInfo).
struct RequestAttributes {
  std::string verb;         // get, list, watch, create, update, patch, delete, deletecollection
  std::string group;        // "" for the core group
  std::string resource;     // plural: "deployments"
  std::string subresource;  // "status", "scale", "log", ...; empty for the object itself
  std::string ns;           // empty: cluster scope, or every namespace (a list of all namespaces)
  std::string name;         // empty for create, list, watch and deletecollection
};

// The RBAC objects that may grant a request in namespace `ns`: every ClusterRoleBinding and ClusterRole,
// and the RoleBindings and Roles of `ns` (none for a cluster-scoped request).
struct RbacPolicy {
  std::vector<nlohmann::json> clusterRoleBindings;
  std::vector<nlohmann::json> roleBindings;
  std::map<std::string, nlohmann::json> clusterRoles;  // by name
  std::map<std::string, nlohmann::json> roles;         // by name, of the request's namespace
};

struct Decision {
  bool allowed = false;
  // Why bindings that name the user could not be evaluated, as the real RBAC authorizer reports it:
  // `RBAC: role.rbac.authorization.k8s.io "deployer" not found`; empty when nothing failed.
  std::string reason;
};

// Whether `user` may do `request` under `policy`, with RBAC's rules: a ClusterRoleBinding grants its
// ClusterRole's rules everywhere; a RoleBinding grants its Role's, or its ClusterRole's, rules in its own
// namespace only; an aggregated ClusterRole adds the rules of the ClusterRoles it selects. Subjects: User and
// Group by name, ServiceAccount by namespace (default: the binding's) and name. A rule matches when it holds
// the verb, the API group and the resource ("*" for any; "pods/log" names a subresource, "*/scale" one of
// every resource) and, when it lists resourceNames, the request's object name (so a rule with resourceNames
// never grants create, list or watch). The group system:masters may do anything, as kube-apiserver's
// privileged group. Pure.
Decision authorize(const UserInfo& user, const RequestAttributes& request, const RbacPolicy& policy);

// kube-apiserver's wording of a denial: `User "<user>" cannot <verb> resource "<resource>[/<sub>]" in
// API group "<group>" in the namespace "<ns>"` (`at the cluster scope` without a namespace). Pure.
std::string forbiddenMessage(const UserInfo& user, const RequestAttributes& request);
// The 403 for a denied request: `<resource>[.<group>] ["<name>"] is forbidden: <forbiddenMessage>`,
// then `: <reason>` when the decision has one. Pure.
ApiError forbiddenError(const UserInfo& user, const RequestAttributes& request, const Decision& decision);

// The policy for a request in `ns`, read from the registry's stored RBAC objects. Blocks on the store.
ApiResult<RbacPolicy> loadPolicy(const Registry& registry, const std::string& ns);

}  // namespace sluice::apiserver
