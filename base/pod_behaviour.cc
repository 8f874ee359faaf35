// Reads the stand-in worlds' pod annotations.
#include "base/pod_behaviour.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/duration_millis.h"
#include "base/result.h"

namespace sluice {

namespace {

const nlohmann::json* child(const nlohmann::json* obj, const char* key) {
  if (!obj || !obj->is_object()) return nullptr;
  auto it = obj->find(key);
  return it == obj->end() ? nullptr : &*it;
}

std::string annotation(const nlohmann::json& pod, const char* key) {
  const nlohmann::json* value = child(child(child(&pod, "metadata"), "annotations"), key);
  return value && value->is_string() ? value->get<std::string>() : std::string();
}

// "0.25" as 0.25: a decimal number from 0 to 1, nothing else in the text.
Result<double> parseFraction(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !(v >= 0 && v <= 1))
    return Error{"\"" + text + "\" is not a fraction from 0 to 1"};
  return v;
}

}  // namespace

PodBehaviour podBehaviour(const nlohmann::json& pod, std::chrono::milliseconds defaultReadyAfter) {
  PodBehaviour behaviour;
  auto addProblem = [&behaviour](const std::string& problem) {
    if (!behaviour.problem.empty()) behaviour.problem += "; ";
    behaviour.problem += problem;
  };
  behaviour.readyAfter = defaultReadyAfter;
  const std::string readyAfter = annotation(pod, kReadyAfterAnnotation);
  if (!readyAfter.empty()) {
    auto parsed = parseDurationMillis(readyAfter);
    if (parsed) {
      behaviour.readyAfter = *parsed;
    } else {
      addProblem(std::string("annotation ") + kReadyAfterAnnotation + ": " + parsed.error() +
                 "; using the default " + std::to_string(defaultReadyAfter.count()) + "ms");
    }
  }
  const std::string fail = annotation(pod, kFailAnnotation);
  if (fail == "CrashLoopBackOff") {
    behaviour.crashLoop = true;
  } else if (!fail.empty()) {
    addProblem(std::string("annotation ") + kFailAnnotation + ": unknown value \"" + fail +
               "\" (supported: CrashLoopBackOff); the pod runs normally");
  }
  const std::string errorRate = annotation(pod, kErrorRateAnnotation);
  if (!errorRate.empty()) {
    auto parsed = parseFraction(errorRate);
    if (parsed) {
      behaviour.errorRate = *parsed;
    } else {
      addProblem(std::string("annotation ") + kErrorRateAnnotation + ": " + parsed.error() +
                 "; the pod answers without errors");
    }
  }
  const std::string latency = annotation(pod, kLatencyAnnotation);
  if (!latency.empty()) {
    auto parsed = parseDurationMillis(latency);
    if (parsed) {
      behaviour.latency = *parsed;
    } else {
      addProblem(std::string("annotation ") + kLatencyAnnotation + ": " + parsed.error() +
                 "; using the default " + std::to_string(kDefaultLatency.count()) + "ms");
    }
  }
  return behaviour;
}

}  // namespace sluice
