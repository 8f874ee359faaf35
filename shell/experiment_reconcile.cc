// The Experiment shell's passes and settle loop (see experiment_reconcile.h).
#include "shell/experiment_reconcile.h"

#include <nlohmann/json.hpp>
#include <variant>

#include "analysis/model.h"
#include "base/diagnostics.h"
#include "base/source.h"
#include "engine/experiment_json.h"
#include "shell/analysis_run_builder.h"

namespace sluice::shell {

ShellResult<PassOutcome> reconcileExperimentOnce(nlohmann::json& experiment, ExperimentWorld& world,
                                                 Time now) {
  Diagnostics diags;
  const auto parsed = engine::parseExperiment(experiment, SourceMap(), diags);
  if (!parsed) return ReconcileError{ReconcileError::Kind::InvalidSpec, diags.format()};
  auto observed = world.observeExperiment(now);
  if (!observed) return ReconcileError{ReconcileError::Kind::Observe, observed.error()};

  engine::ExperimentDecision decision = engine::reconcileExperiment(*parsed, *observed, now);
  PassOutcome outcome;
  outcome.requeueAfter = decision.requeueAfter;
  const analysis::TemplateLookup lookup = [&world](const std::string& name, bool clusterScope) {
    return world.findTemplate(name, clusterScope);
  };
  for (const auto& action : decision.actions) {
    Result<bool> applied = false;
    if (const auto* create = std::get_if<engine::CreateAnalysisRun>(&action)) {
      // Args' fieldRefs read the Experiment object; there is no stable hash to refer to.
      applied = world.createAnalysisRun(*create, buildAnalysisRun(*create, experiment, "", lookup), now);
    } else {
      applied = world.apply(action, now);
    }
    if (!applied) {
      return ReconcileError{ReconcileError::Kind::Action,
                            std::string(actionName(action)) + ": " + applied.error()};
    }
    outcome.changed = *applied || outcome.changed;
  }
  if (decision.status != parsed->status) {
    const auto stored = experiment.find("status");
    auto wrote =
        writeStatusIfChanged(stored == experiment.end() ? nullptr : &*stored,
                             engine::experimentStatusToJson(decision.status), [&](nlohmann::json status) {
                               return world.writeExperimentStatus(experiment, std::move(status), now);
                             });
    if (!wrote) return std::move(wrote).error();
    outcome.changed = *wrote || outcome.changed;
  }
  return outcome;
}

ShellResult<Settled> settleExperiment(nlohmann::json& experiment, ExperimentWorld& world, Time now) {
  const nlohmann::json spec = experiment.value("spec", nlohmann::json::object());
  const auto count = [&spec](const char* key) {
    const auto it = spec.find(key);
    return it != spec.end() && it->is_array() ? static_cast<int>(it->size()) : 0;
  };
  const int bound = 16 + 2 * (count("templates") + count("analyses"));
  return settleWithin(bound, [&] { return reconcileExperimentOnce(experiment, world, now); });
}

}  // namespace sluice::shell
