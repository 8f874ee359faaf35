// The job provider (Argo Rollouts' `provider: {job: ...}`): each measurement is a batch/v1 Job the run
// owns, Successful when the Job completes, Failed when it fails, Running in between. Only the controller
// runs Jobs; it hands the provider the cluster through JobCluster.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "analysis/model.h"
#include "analysis/provider.h"
#include "base/result.h"

namespace sluice::analysis {

// Labels and annotations Argo Rollouts puts on a metric's Job; kept, so tools written for Argo find them.
inline constexpr const char* kJobRunUidLabel = "analysisrun.argoproj.io/uid";
inline constexpr const char* kJobRunNameAnnotation = "analysisrun.argoproj.io/name";
inline constexpr const char* kJobMetricNameAnnotation = "analysisrun.argoproj.io/metric-name";
// The measurement's metadata key naming its Job.
inline constexpr const char* kJobNameMetadata = "job-name";

// The cluster as the job provider sees it. The controller backs it with its client and its Job cache.
class JobCluster {
 public:
  JobCluster() = default;
  JobCluster(const JobCluster&) = delete;
  JobCluster& operator=(const JobCluster&) = delete;
  virtual ~JobCluster() = default;

  // Creates `job`; when a Job of that name exists already, that Job. The Job as stored.
  virtual Result<nlohmann::json> create(const nlohmann::json& job) = 0;
  // The Job as last seen; nullopt when there is none.
  virtual Result<std::optional<nlohmann::json>> get(const std::string& ns, const std::string& name) = 0;
  // Deletes the Job, its pods after it (propagation Background); a Job already gone is no error.
  virtual Status remove(const std::string& ns, const std::string& name) = 0;
};

// The AnalysisRun whose job metrics a JobProvider runs.
struct JobRunOwner {
  std::string apiVersion;  // of the run, for the Jobs' ownerReference
  std::string name;
  std::string ns;
  std::string uid;
  AnalysisRunStatus status;  // as stored when the pass began: each metric's next Job number comes from it
};

// The Job of `metric`'s next measurement, as Argo names and marks it: "<run uid>.<metric>.<n>", n being
// the metric's count + error + 1; the metric's labels and annotations plus the run's uid label and its
// name and metric-name annotations; controlled by the run; the metric's JobSpec.
nlohmann::json metricJob(const JobRunOwner& run, const Metric& metric);

// The provider of one pass over `run` (the driver takes at most one new measurement of a metric per
// pass): a metric with provider.job creates its Job and stays Running (metadata job-name) until the
// Job's Complete condition (Successful) or Failed condition (Failed, with the Job's reason) is True; a
// terminating run deletes it. A Job of that name controlled by another run is an Error, as is a Job gone
// before it finished. Every other metric goes to `others`. `cluster` and `others` must outlive it.
std::unique_ptr<Provider> makeJobProvider(JobCluster& cluster, JobRunOwner run, Provider& others);

}  // namespace sluice::analysis
