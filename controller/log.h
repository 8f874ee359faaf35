// The controller's log: one line per record, text or JSON (--log-format), each naming the object it is
// about (namespace and name) so a person can follow one Rollout through the log. On spdlog.
#pragma once

#include <string>

namespace sluice::controller {

enum class LogFormat { Text, Json };
enum class LogLevel { Info, Warn, Error };

// Configures the process-wide logger (stderr). Call once, before any record.
void configureLog(LogFormat format);

// One record about `object` ("namespace/name", or empty for the controller itself).
void log(LogLevel level, const std::string& object, const std::string& message);

}  // namespace sluice::controller
