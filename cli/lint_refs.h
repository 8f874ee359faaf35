// `sluice lint` across files for the analysis kinds: a Rollout's analysis (canary steps, background,
// blue-green pre- and post-promotion) that names an AnalysisTemplate or ClusterAnalysisTemplate none of
// the given files holds, or that leaves an argument of its templates without a value.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/diagnostics.h"

namespace sluice {
struct Document;
}

namespace sluice::engine {
struct Rollout;
}

namespace sluice::cli {

class AnalysisRefLint {
 public:
  // Remembers the templates a parsed Rollout names, each at its field path.
  void rollout(const Document& doc, const engine::Rollout& rollout);
  // Remembers an AnalysisTemplate or ClusterAnalysisTemplate document by its namespace and name.
  void analysisTemplate(const Document& doc);

  // A reference to a template no given file holds: a warning at the reference (the template may be in
  // the cluster already), saying the simulator cannot run the analysis without it. An argument that one
  // of an analysis's templates declares without a value, and that the analysis does not give: a warning
  // at the analysis (its run would end in Error at once), not an error, since files of two applications
  // linted together may hold two templates of one name, and the cluster only one of them.
  Diagnostics crossChecks() const;

 private:
  struct Reference {
    std::string key;  // "AnalysisTemplate ns/name" or "ClusterAnalysisTemplate name"
    Diagnostic at;    // the templateName field; message to fill
  };
  // One analysis of a Rollout: the templates it names and the arguments it gives.
  struct Use {
    std::vector<Reference> templates;
    std::set<std::string> args;
    Diagnostic at;  // the analysis; message to fill
  };
  // Each template by key: the arguments it declares without a value. Given twice (two applications'
  // files linted together), only the arguments both leave without a value count.
  std::map<std::string, std::set<std::string>> templates_;
  std::vector<Use> uses_;
};

}  // namespace sluice::cli
