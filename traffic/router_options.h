// How the routers write what they write, set once for the controller (its flags).
#pragma once

#include <string>

namespace sluice::traffic {

// The TrafficSplit versions the SMI router writes and reads, as Argo Rollouts' --traffic-split-api-version
// takes them; its default is v1alpha1.
inline constexpr const char* kTrafficSplitVersions[] = {"v1alpha1", "v1alpha2", "v1alpha3"};
inline constexpr const char* kDefaultTrafficSplitVersion = "v1alpha1";

struct RouterOptions {
  std::string trafficSplitVersion = kDefaultTrafficSplitVersion;  // one of kTrafficSplitVersions
};

}  // namespace sluice::traffic
