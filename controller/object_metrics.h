// The per-object series (rollout_info*, analysis_run_*), computed from objects as a cache holds them, so
// that a deleted object's series vanish with it and nothing is retained per object between scrapes.
#pragma once

#include <prometheus/metric_family.h>
#include <nlohmann/json.hpp>
#include <vector>

namespace sluice::controller {

// rollout_info{namespace,name,strategy,traffic_router,phase} and
// rollout_info_replicas_{desired,available,unavailable,updated}{namespace,name} for `rollouts`.
std::vector<prometheus::MetricFamily> rolloutFamilies(const std::vector<nlohmann::json>& rollouts);

// analysis_run_info{namespace,name,phase}, analysis_run_metric_type{namespace,name,metric,type} and
// analysis_run_metric_phase{namespace,name,metric,type,dry_run,phase} (1 for the metric's phase, 0 for
// the others) for `runs`.
std::vector<prometheus::MetricFamily> analysisRunFamilies(const std::vector<nlohmann::json>& runs);

}  // namespace sluice::controller
