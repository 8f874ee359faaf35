// `sluice lint PATH...`: loads manifests offline and reports every problem in the Rollouts, analysis
// objects and GitOps objects they hold, so a plan can be checked in CI before it reaches a cluster.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "analysis/model_json.h"
#include "base/input_limits.h"
#include "base/json_fields.h"
#include "base/source.h"
#include "cli/commands.h"
#include "cli/lint_gitops.h"
#include "cli/lint_refs.h"
#include "engine/experiment_json.h"
#include "engine/rollout_json.h"
#include "kube/names.h"
#include "sim/scenario.h"

namespace sluice::cli {

namespace {

namespace fs = std::filesystem;

constexpr std::array<const char*, 8> kKnownKinds = {"Rollout",
                                                    "Experiment",
                                                    analysis::kAnalysisTemplateKind,
                                                    analysis::kClusterAnalysisTemplateKind,
                                                    analysis::kAnalysisRunKind,
                                                    sim::kScenarioKind,
                                                    "GitRepository",
                                                    "Kustomization"};
constexpr const char* kKnownKindsText =
    "Rollout, Experiment, AnalysisTemplate, ClusterAnalysisTemplate, AnalysisRun, Scenario, GitRepository or "
    "Kustomization";

std::string plural(size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// What the lint run found, for the summary line and the exit status.
struct LintTally {
  size_t errors = 0;
  size_t warnings = 0;
  size_t filesChecked = 0;  // read and parsed, whatever they held
  size_t unreadable = 0;    // paths that could not be read: nothing in them was checked
};

void print(const Diagnostics& diags, LintTally& tally) {
  std::cout << diags.format();
  tally.errors += diags.errorCount();
  tally.warnings += diags.warningCount();
}

bool sameIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The known kind `kind` differs from only in case ("rollout"), or null.
const char* knownKindIgnoringCase(std::string_view kind) {
  for (const char* known : kKnownKinds) {
    if (sameIgnoringCase(kind, known)) return known;
  }
  return nullptr;
}

// Checks that lint makes beyond the loaders: the object's name as the API server would take it, and
// replica counts no one means.
void checkObject(const Document& doc, Diagnostics& diags) {
  const nlohmann::json& object = doc.json;
  const auto meta = object.find("metadata");
  if (meta != object.end() && meta->is_object()) {
    const auto name = meta->find("name");
    if (name != meta->end() && name->is_string() && !name->get_ref<const std::string&>().empty()) {
      for (const auto& e : kube::validateObjectName(name->get<std::string>(), false, "metadata.name"))
        diags.add(doc.source.diagnostic(Severity::Error, e.field, e.detail));
    }
    const auto prefix = meta->find("generateName");
    if (prefix != meta->end() && prefix->is_string() && !prefix->get_ref<const std::string&>().empty()) {
      // Checked as Kubernetes does: a name, once the trailing '-' (before the random suffix) is masked.
      std::string masked = prefix->get<std::string>();
      if (masked.back() == '-') masked.back() = 'a';
      for (const auto& e : kube::validateObjectName(masked, false, "metadata.generateName"))
        diags.add(doc.source.diagnostic(Severity::Error, e.field, e.detail));
    }
  }
  const auto spec = object.find("spec");
  if (object.value("kind", "") != "Rollout" || spec == object.end() || !spec->is_object()) return;
  const auto replicas = spec->find("replicas");
  if (replicas != spec->end() && replicas->is_number() &&
      replicas->get<double>() > static_cast<double>(limits::kReplicasWarningAbove)) {
    diags.add(doc.source.diagnostic(Severity::Warning, "spec.replicas",
                                    replicas->dump() + " replicas is more than " +
                                        std::to_string(limits::kReplicasWarningAbove) +
                                        ", most likely a mistake"));
  }
}

// Lints one document. Returns whether it was of a kind lint checks; a document that looks meant to be
// one but is not (no kind, `kind: rollout`) gets a warning saying it was not checked.
// What the checks across files remember of each document.
struct CrossFileLint {
  GitOpsLint gitops;
  AnalysisRefLint analysisRefs;
};

bool lintDocument(const Document& doc, CrossFileLint& across, Diagnostics& diags) {
  auto notChecked = [&](const std::string& path, const std::string& why) {
    diags.add(doc.source.diagnostic(Severity::Warning, path,
                                    why + ": no known kind (" + kKnownKindsText + "), not checked"));
  };
  if (!doc.json.is_object()) {
    notChecked("", "the document is " + json_fields::describeValue(doc.json) + ", not an object");
    return false;
  }
  const auto kind = doc.json.find("kind");
  if (kind == doc.json.end()) {
    notChecked("", "the document has no kind");
    return false;
  }
  if (!kind->is_string()) {
    notChecked("kind", "must be a string, got " + json_fields::describeValue(*kind));
    return false;
  }
  const std::string& k = kind->get_ref<const std::string&>();
  if (k == "Rollout") {
    if (auto rollout = engine::parseRollout(doc.json, doc.source, diags))
      across.analysisRefs.rollout(doc, *rollout);
  } else if (k == analysis::kAnalysisTemplateKind || k == analysis::kClusterAnalysisTemplateKind) {
    (void)analysis::parseAnalysisTemplate(doc.json, doc.source, diags);
    across.analysisRefs.analysisTemplate(doc);
  } else if (k == "Experiment") {
    (void)engine::parseExperiment(doc.json, doc.source, diags);
  } else if (k == analysis::kAnalysisRunKind) {
    (void)analysis::parseAnalysisRun(doc.json, doc.source, diags);
  } else if (GitOpsLint::handles(k, doc.json.value("apiVersion", ""))) {
    across.gitops.lint(doc, diags);
  } else if (k == sim::kScenarioKind) {
    (void)sim::parseScenario(doc.json, doc.source, diags);
    return true;  // a simulator input, not an API object: no name to check
  } else {
    // A known kind of another API (kustomize's own Kustomization in a kustomization.yaml) is skipped too.
    if (const char* meant = knownKindIgnoringCase(k); meant && k != meant) {
      notChecked("kind", "\"" + k + "\" is not " + meant + " (kinds are case-sensitive)");
    }
    // Services, Ingresses and the rest of an application's manifests often share the file: skip them.
    return false;
  }
  checkObject(doc, diags);
  return true;
}

void lintFile(const std::string& file, CrossFileLint& across, LintTally& tally) {
  auto text = readFile(file, limits::kMaxFileBytes);
  if (!text) {
    std::cerr << "sluice lint: " << text.error() << "\n";
    ++tally.unreadable;
    return;
  }
  ++tally.filesChecked;
  auto docs = parseYamlStream(*text, file);
  if (!docs) {
    std::cout << docs.error().format() << "\n";
    ++tally.errors;
    return;
  }
  Diagnostics diags;
  size_t checked = 0;
  for (const Document& doc : *docs) checked += lintDocument(doc, across, diags);
  if (checked == 0 && diags.empty()) {
    diags.add(Diagnostic{Severity::Warning, file, 0, 0, "",
                         std::string(docs->empty() ? "the file holds no document" : "no document") +
                             " of a known kind (" + kKnownKindsText + "): nothing was checked"});
  }
  print(diags, tally);
}

// Every .yaml and .yml file under `dir`, in name order, hidden directories (.git) left out.
Result<std::vector<std::string>> manifestsUnder(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& p = it->path();
    const bool hidden = p.filename().string().starts_with(".");
    if (it->is_directory(ec)) {
      if (hidden) it.disable_recursion_pending();
      continue;
    }
    const std::string ext = p.extension().string();
    if (!hidden && (ext == ".yaml" || ext == ".yml") && it->is_regular_file(ec)) files.push_back(p.string());
  }
  if (ec) return Error{dir + ": " + ec.message()};
  std::sort(files.begin(), files.end());
  if (files.empty()) return Error{dir + ": a directory with no .yaml or .yml file in it"};
  return files;
}

void lintPath(const std::string& path, CrossFileLint& across, LintTally& tally) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    lintFile(path, across, tally);
    return;
  }
  auto files = manifestsUnder(path);
  if (!files) {
    std::cerr << "sluice lint: " << files.error() << "\n";
    ++tally.unreadable;
    return;
  }
  for (const auto& file : *files) lintFile(file, across, tally);
}

std::string summary(const LintTally& tally) {
  std::string out = plural(tally.errors, "error") + ", " + plural(tally.warnings, "warning") + " in " +
                    plural(tally.filesChecked, "file");
  if (tally.unreadable > 0) out += "; " + std::to_string(tally.unreadable) + " not read";
  return out;
}

}  // namespace

void addLintCommand(CLI::App& app, int& exitCode) {
  auto* cmd = app.add_subcommand(
      "lint",
      "Check Rollout, analysis and GitOps manifests offline.\n"
      "Every YAML document of kind Rollout, AnalysisTemplate, ClusterAnalysisTemplate or AnalysisRun\n"
      "(apiVersion sluice.dev/v1alpha1 or argoproj.io/v1alpha1), GitRepository or Kustomization\n"
      "(sluice.dev/v1alpha1, or Flux's source.toolkit.fluxcd.io and kustomize.toolkit.fluxcd.io), and\n"
      "every sluice sim Scenario, in the given files is parsed and validated,\n"
      "its conditions compiled and its {{args.NAME}} references resolved; other kinds are skipped.\n"
      "Across the files: a Kustomization whose sourceRef names a GitRepository none of them holds gets a\n"
      "warning, a dependsOn cycle among the Kustomizations an error; a Rollout's analysis naming an\n"
      "AnalysisTemplate or ClusterAnalysisTemplate none of them holds gets a warning. A\n"
      "document with no kind, or a file with no document of these kinds, gets a warning that nothing was\n"
      "checked. A directory is linted recursively: every .yaml and .yml file in it, hidden directories left\n"
      "out. Each problem is printed on its own line\n"
      "as FILE:LINE:COL: error|warning: FIELD.PATH: MESSAGE, followed by a summary line.\n"
      "Exit status: 0 no errors (warnings allowed), 1 errors found (including malformed YAML),\n"
      "2 a file could not be read or no file was given.");
  auto files = std::make_shared<std::vector<std::string>>();
  cmd->add_option("files", *files, "Manifest files (multi-document YAML) or directories")->required();
  cmd->callback([files, &exitCode] {
    LintTally tally;
    CrossFileLint across;
    for (const auto& path : *files) lintPath(path, across, tally);
    print(across.gitops.crossChecks(), tally);
    print(across.analysisRefs.crossChecks(), tally);
    std::cout << summary(tally) << "\n";
    exitCode = tally.unreadable > 0 ? kExitInvalidInput : tally.errors > 0 ? kExitFailure : kExitOk;
  });
}

}  // namespace sluice::cli
