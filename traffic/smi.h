// SMI (spec.strategy.canary.trafficRouting.smi): one TrafficSplit, `trafficSplitName` (default: the
// Rollout's name), owned by the Rollout, splitting the root Service between the canary and stable Services.
// Written at the configured version of split.smi-spec.io: v1alpha1's backend weights are quantities
// (written as whole-number strings, "30", as Argo Rollouts writes them), v1alpha2's and v1alpha3's integers.
#pragma once

#include <string>

#include "traffic/router.h"
#include "traffic/router_options.h"

namespace sluice::traffic {

inline constexpr const char* kTrafficSplitGroup = "split.smi-spec.io";

// The TrafficSplit's name: smi.trafficSplitName, else the Rollout's name.
std::string trafficSplitName(const engine::Rollout& rollout);

// The TrafficSplit wanted at `weights`, owned by `rollout`: spec.service the root Service (smi.rootService,
// else the stable Service), spec.backends the canary then the stable Service at their weights, the hashes
// the weights were set for as annotations; at `version` (one of kTrafficSplitVersions). Precondition:
// trafficRouting.smi is set.
nlohmann::json desiredTrafficSplit(const engine::Rollout& rollout, const engine::SetTrafficWeight& weights,
                                   const std::string& version = kDefaultTrafficSplitVersion);

class SmiRouter final : public Router {
 public:
  // Keeps what it needs of `rollout` (not its pod template); writes TrafficSplits at `version` (one of
  // kTrafficSplitVersions). Precondition: trafficRouting.smi is set.
  explicit SmiRouter(const engine::Rollout& rollout, std::string version = kDefaultTrafficSplitVersion);

  std::vector<std::string> kinds() const override { return {"TrafficSplit"}; }
  // The backends' weights (integers or quantities of any version: 30, "30", "30000m") and the hash
  // annotations; nullopt while there is no TrafficSplit, a weight is not a whole number, or it is not what
  // setting those weights would make. An error: a TrafficSplit of that name the Rollout does not own.
  Result<std::optional<engine::TrafficInForce>> inForce(const ObjectLookup& get) const override;
  // Creates the TrafficSplit when it is missing, else merge-patches its spec and hash annotations (other
  // annotations kept); none when in force. An error: a TrafficSplit of that name the Rollout does not own.
  Result<Writes> setWeight(const ObjectLookup& get, const engine::SetTrafficWeight& weights) const override;
  // A TrafficSplit splits by weight only: header and mirror routes are errors (validation refuses them
  // before, as Argo Rollouts' does).
  Result<Writes> setHeaderRoute(const ObjectLookup& get,
                                const engine::SetHeaderRouteStep& route) const override;
  Result<Writes> setMirrorRoute(const ObjectLookup& get,
                                const engine::SetMirrorRouteStep& route) const override;
  // There are none to remove.
  Result<Writes> removeManagedRoutes(const ObjectLookup&) const override { return Writes{}; }

 private:
  // The live TrafficSplit; nullopt when there is none; an error when the Rollout does not control it.
  Result<std::optional<nlohmann::json>> ownTrafficSplit(const ObjectLookup& get) const;

  engine::Rollout rollout_;
  std::string version_;
};

}  // namespace sluice::traffic
