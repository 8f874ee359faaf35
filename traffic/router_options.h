// How the routers write what they write, set once for the controller (its flags).
#pragma once

#include <string>

namespace sluice::traffic {

// The TrafficSplit versions the SMI router writes and reads, as Argo Rollouts' --traffic-split-api-version
// takes them; its default is v1alpha1.
inline constexpr const char* kTrafficSplitVersions[] = {"v1alpha1", "v1alpha2", "v1alpha3"};
inline constexpr const char* kDefaultTrafficSplitVersion = "v1alpha1";

// The API groups of Traefik's TraefikService (at v1alpha1 in both), as Argo Rollouts' --traefik-api-group
// takes them: traefik.containo.us, Argo's default, served by Traefik 2; traefik.io by Traefik 2.10 and later
// (the only one Traefik 3 serves).
inline constexpr const char* kTraefikApiGroups[] = {"traefik.containo.us", "traefik.io"};
inline constexpr const char* kDefaultTraefikApiGroup = "traefik.containo.us";

// The apiVersions of Ambassador's Mapping, as Argo Rollouts' --ambassador-api-version takes them; its default
// is getambassador.io/v2 (Emissary-ingress 2 and 3 serve v2 beside v3alpha1).
inline constexpr const char* kAmbassadorVersions[] = {"getambassador.io/v2", "getambassador.io/v3alpha1"};
inline constexpr const char* kDefaultAmbassadorVersion = "getambassador.io/v2";

struct RouterOptions {
  std::string trafficSplitVersion = kDefaultTrafficSplitVersion;  // one of kTrafficSplitVersions
  std::string traefikApiGroup = kDefaultTraefikApiGroup;          // one of kTraefikApiGroups
  std::string ambassadorVersion = kDefaultAmbassadorVersion;      // one of kAmbassadorVersions
};

}  // namespace sluice::traffic
