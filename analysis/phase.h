// The phase of an AnalysisRun or of one of its metrics and measurements, with its order of badness.
// Header-only and dependency-free, so the engine reads run phases as this enum without linking analysis/.
#pragma once

namespace sluice::analysis {

enum class Phase { Unset, Pending, Running, Successful, Failed, Error, Inconclusive };

// "Successful", ... ("" for Unset).
constexpr const char* phaseName(Phase phase) {
  switch (phase) {
    case Phase::Unset:
      return "";
    case Phase::Pending:
      return "Pending";
    case Phase::Running:
      return "Running";
    case Phase::Successful:
      return "Successful";
    case Phase::Failed:
      return "Failed";
    case Phase::Error:
      return "Error";
    case Phase::Inconclusive:
      return "Inconclusive";
  }
  return "";
}

// Successful, Failed, Error and Inconclusive are final.
constexpr bool phaseCompleted(Phase phase) {
  return phase == Phase::Successful || phase == Phase::Failed || phase == Phase::Error ||
         phase == Phase::Inconclusive;
}

// The order of badness (docs/design.md, "Analysis"): Successful < Running < Pending < Inconclusive <
// Error < Failed; Unset below all. A run that combines several outcomes takes the worst.
constexpr int phaseSeverity(Phase phase) {
  switch (phase) {
    case Phase::Unset:
      return -1;
    case Phase::Successful:
      return 0;
    case Phase::Running:
      return 1;
    case Phase::Pending:
      return 2;
    case Phase::Inconclusive:
      return 3;
    case Phase::Error:
      return 4;
    case Phase::Failed:
      return 5;
  }
  return -1;
}

}  // namespace sluice::analysis
