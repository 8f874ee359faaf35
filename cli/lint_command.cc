// `sluice lint FILE...`: loads manifests offline and reports every problem in the Rollouts they hold, so a
// plan can be checked in CI before it reaches a cluster.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "analysis/model_json.h"
#include "base/source.h"
#include "cli/commands.h"
#include "engine/rollout_json.h"

namespace sluice::cli {

namespace {

std::string plural(size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// Counts of what the lint run found, for the summary line and the exit status.
struct LintTally {
  size_t errors = 0;
  size_t warnings = 0;
  bool unreadable = false;
};

void lintFile(const std::string& file, LintTally& tally) {
  auto text = readFile(file);
  if (!text) {
    std::cerr << "sluice lint: " << text.error() << "\n";
    tally.unreadable = true;
    return;
  }
  auto docs = parseYamlDocuments(*text, file);
  if (!docs) {
    std::cout << docs.error() << "\n";
    ++tally.errors;
    return;
  }
  for (const Document& doc : *docs) {
    // Services, Ingresses and the rest of an application's manifests often share the file: skip them.
    const auto kind = doc.json.is_object() ? doc.json.find("kind") : doc.json.end();
    if (kind == doc.json.end() || !kind->is_string()) continue;
    Diagnostics diags;
    if (*kind == "Rollout") {
      (void)engine::parseRollout(doc.json, doc.source, diags);
    } else if (*kind == analysis::kAnalysisTemplateKind || *kind == analysis::kClusterAnalysisTemplateKind) {
      (void)analysis::parseAnalysisTemplate(doc.json, doc.source, diags);
    } else if (*kind == analysis::kAnalysisRunKind) {
      (void)analysis::parseAnalysisRun(doc.json, doc.source, diags);
    } else {
      continue;
    }
    std::cout << diags.format();
    tally.errors += diags.errorCount();
    tally.warnings += diags.warningCount();
  }
}

}  // namespace

void addLintCommand(CLI::App& app, int& exitCode) {
  auto* cmd = app.add_subcommand(
      "lint",
      "Check Rollout and analysis manifests offline.\n"
      "Every YAML document of kind Rollout, AnalysisTemplate, ClusterAnalysisTemplate or AnalysisRun\n"
      "(apiVersion sluice.dev/v1alpha1 or argoproj.io/v1alpha1) in the given files is parsed and validated;\n"
      "other kinds are skipped. Each problem is printed on its own line\n"
      "as FILE:LINE:COL: error|warning: FIELD.PATH: MESSAGE, followed by a summary line.\n"
      "Exit status: 0 no errors (warnings allowed), 1 errors found (including malformed YAML),\n"
      "2 a file could not be read or no file was given.");
  auto files = std::make_shared<std::vector<std::string>>();
  cmd->add_option("files", *files, "Manifest files (multi-document YAML)")->required();
  cmd->callback([files, &exitCode] {
    LintTally tally;
    for (const auto& file : *files) lintFile(file, tally);
    std::cout << plural(tally.errors, "error") << ", " << plural(tally.warnings, "warning") << " in "
              << plural(files->size(), "file") << "\n";
    exitCode = tally.unreadable ? kExitInvalidInput : tally.errors > 0 ? kExitFailure : kExitOk;
  });
}

}  // namespace sluice::cli
