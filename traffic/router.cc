// Choosing a Rollout's router (see router.h).
#include "traffic/router.h"

#include "traffic/nginx.h"

namespace sluice::traffic {

Result<std::unique_ptr<Router>> makeRouter(const engine::Rollout& rollout) {
  const auto& routing = rollout.spec.canary.trafficRouting;
  if (!routing) return std::unique_ptr<Router>();
  if (routing->nginx && !routing->istio && !routing->smi && routing->plugins.empty())
    return std::unique_ptr<Router>(std::make_unique<NginxRouter>(rollout));
  std::string which = routing->istio   ? "istio"
                      : routing->smi   ? "smi"
                      : routing->nginx ? "nginx with others"
                                       : "plugins";
  return Error{"traffic routing with " + which +
               " (spec.strategy.canary.trafficRouting) is not supported by this controller yet; nginx is"};
}

nlohmann::json ownerReference(const engine::Rollout& rollout) {
  return {{"apiVersion", engine::kApiVersion}, {"kind", "Rollout"},  {"name", rollout.metadata.name},
          {"uid", rollout.metadata.uid},       {"controller", true}, {"blockOwnerDeletion", true}};
}

}  // namespace sluice::traffic
