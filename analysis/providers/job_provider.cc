// The job provider (see job_provider.h).
#include "analysis/providers/job_provider.h"

namespace sluice::analysis {

namespace {

using nlohmann::json;

// The Job's condition of `type` when it is True.
std::optional<json> trueCondition(const json& job, const char* type) {
  const json conditions = job.value(json::json_pointer("/status/conditions"), json::array());
  if (!conditions.is_array()) return std::nullopt;
  for (const auto& c : conditions) {
    if (c.is_object() && c.value("type", "") == type && c.value("status", "") == "True") return c;
  }
  return std::nullopt;
}

std::string controllerUid(const json& object) {
  const json refs = object.value(json::json_pointer("/metadata/ownerReferences"), json::array());
  if (!refs.is_array()) return "";
  for (const auto& ref : refs) {
    if (ref.is_object() && ref.value("controller", false)) return ref.value("uid", "");
  }
  return "";
}

Result<std::string> jobName(const Measurement& inFlight) {
  const auto it = inFlight.metadata.find(kJobNameMetadata);
  if (it == inFlight.metadata.end() || it->second.empty())
    return Error{"the measurement names no Job (metadata job-name)"};
  return it->second;
}

class JobProvider final : public Provider {
 public:
  JobProvider(JobCluster& cluster, JobRunOwner run, Provider& others)
      : cluster_(cluster), run_(std::move(run)), others_(others) {}

  Result<ProviderResult> measure(const Metric& metric, Time at) override {
    if (!metric.provider.job) return others_.measure(metric, at);
    const json job = metricJob(run_, metric);
    const std::string name = job["metadata"]["name"];
    auto created = cluster_.create(job);
    if (!created) return Error{"cannot create Job " + name + ": " + created.error()};
    if (controllerUid(*created) != run_.uid)
      return Error{"Job " + name + " exists and is not this AnalysisRun's"};
    ProviderResult r;
    r.phase = Phase::Running;
    r.metadata[kJobNameMetadata] = name;
    return r;
  }

  Result<ProviderResult> resume(const Metric& metric, const Measurement& inFlight, Time at) override {
    if (!metric.provider.job) return others_.resume(metric, inFlight, at);
    auto name = jobName(inFlight);
    if (!name) return Error{name.error()};
    auto job = cluster_.get(run_.ns, *name);
    if (!job) return Error{"cannot read Job " + *name + ": " + job.error()};
    if (!*job) return Error{"Job " + *name + " is gone before it finished"};
    ProviderResult r;
    r.metadata = inFlight.metadata;
    r.phase = Phase::Running;
    if (trueCondition(**job, "Complete")) {
      r.phase = Phase::Successful;
    } else if (const auto failed = trueCondition(**job, "Failed")) {
      r.phase = Phase::Failed;
      r.message = "Job " + *name + " failed";
      const std::string reason = failed->value("reason", "");
      const std::string message = failed->value("message", "");
      if (!reason.empty()) r.message += ": " + reason;
      if (!message.empty())
        r.message += (reason.empty() ? ": " : " (") + message + (reason.empty() ? "" : ")");
    }
    return r;
  }

  Status terminate(const Metric& metric, const Measurement& inFlight, Time at) override {
    if (!metric.provider.job) return others_.terminate(metric, inFlight, at);
    auto name = jobName(inFlight);
    if (!name) return Error{name.error()};
    if (Status removed = cluster_.remove(run_.ns, *name); !removed)
      return Error{"cannot delete Job " + *name + ": " + removed.error()};
    return {};
  }

 private:
  JobCluster& cluster_;
  JobRunOwner run_;
  Provider& others_;
};

}  // namespace

json metricJob(const JobRunOwner& run, const Metric& metric) {
  int taken = 0;
  if (const MetricResult* r = run.status.result(metric.name)) taken = r->count + r->error;
  const JobMetric& spec = metric.provider.job ? *metric.provider.job : JobMetric{};
  json labels = spec.metadata.value("labels", json::object());
  json annotations = spec.metadata.value("annotations", json::object());
  labels[kJobRunUidLabel] = run.uid;
  annotations[kJobRunNameAnnotation] = run.name;
  annotations[kJobMetricNameAnnotation] = metric.name;
  return {{"apiVersion", "batch/v1"},
          {"kind", "Job"},
          {"metadata",
           {{"name", run.uid + "." + metric.name + "." + std::to_string(taken + 1)},
            {"namespace", run.ns},
            {"labels", labels},
            {"annotations", annotations},
            {"ownerReferences", json::array({{{"apiVersion", run.apiVersion},
                                              {"kind", kAnalysisRunKind},
                                              {"name", run.name},
                                              {"uid", run.uid},
                                              {"controller", true},
                                              {"blockOwnerDeletion", true}}})}}},
          {"spec", spec.spec}};
}

std::unique_ptr<Provider> makeJobProvider(JobCluster& cluster, JobRunOwner run, Provider& others) {
  return std::make_unique<JobProvider>(cluster, std::move(run), others);
}

}  // namespace sluice::analysis
