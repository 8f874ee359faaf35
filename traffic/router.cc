// Choosing a Rollout's router (see router.h).
#include "traffic/router.h"

#include "traffic/istio.h"
#include "traffic/nginx.h"

namespace sluice::traffic {

Result<std::unique_ptr<Router>> makeRouter(const engine::Rollout& rollout) {
  const auto& routing = rollout.spec.canary.trafficRouting;
  if (!routing) return std::unique_ptr<Router>();
  if (routing->nginx && !routing->istio && !routing->smi && routing->plugins.empty())
    return std::unique_ptr<Router>(std::make_unique<NginxRouter>(rollout));
  if (routing->istio && !routing->nginx && !routing->smi && routing->plugins.empty())
    return std::unique_ptr<Router>(std::make_unique<IstioRouter>(rollout));
  std::string which = routing->istio   ? "istio with others"
                      : routing->smi   ? "smi"
                      : routing->nginx ? "nginx with others"
                                       : "plugins";
  return Error{"traffic routing with " + which +
               " (spec.strategy.canary.trafficRouting) is not supported yet; the routers are nginx and "
               "istio, one at a "
               "time"};
}

engine::Rollout routedPart(const engine::Rollout& rollout) {
  engine::Rollout kept;
  kept.apiVersion = rollout.apiVersion;
  kept.metadata = rollout.metadata;
  kept.spec.canary.canaryService = rollout.spec.canary.canaryService;
  kept.spec.canary.stableService = rollout.spec.canary.stableService;
  kept.spec.canary.trafficRouting = rollout.spec.canary.trafficRouting;
  return kept;
}

nlohmann::json ownerReference(const engine::Rollout& rollout) {
  return {{"apiVersion", engine::kApiVersion}, {"kind", "Rollout"},  {"name", rollout.metadata.name},
          {"uid", rollout.metadata.uid},       {"controller", true}, {"blockOwnerDeletion", true}};
}

}  // namespace sluice::traffic
