// The controller's log on spdlog (see log.h). JSON records are built with nlohmann/json so that any
// message, quotes and newlines included, stays one valid JSON line.
#include "controller/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <nlohmann/json.hpp>

namespace sluice::controller {

namespace {
std::atomic<LogFormat> gFormat{LogFormat::Text};

spdlog::level::level_enum levelOf(LogLevel level) {
  switch (level) {
    case LogLevel::Warn:
      return spdlog::level::warn;
    case LogLevel::Error:
      return spdlog::level::err;
    case LogLevel::Info:
      break;
  }
  return spdlog::level::info;
}
}  // namespace

void configureLog(LogFormat format) {
  gFormat = format;
  auto logger = spdlog::stderr_logger_mt("sluice-controller");
  if (format == LogFormat::Json) {
    // The body is a complete JSON object's members, made by log(); spdlog adds time and level.
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  }
  spdlog::set_default_logger(logger);
}

void log(LogLevel level, const std::string& object, const std::string& message) {
  if (gFormat == LogFormat::Json) {
    std::string body;
    const auto slash = object.find('/');
    if (!object.empty()) {
      body +=
          "\"namespace\":" +
          nlohmann::json(slash == std::string::npos ? "" : object.substr(0, slash)).dump() +
          ",\"name\":" + nlohmann::json(object.substr(slash == std::string::npos ? 0 : slash + 1)).dump() +
          ",";
    }
    body +=
        "\"msg\":" + nlohmann::json(message).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    spdlog::log(levelOf(level), "{}", body);
  } else {
    spdlog::log(levelOf(level), "{}{}{}", object.empty() ? "" : object, object.empty() ? "" : ": ", message);
  }
}

}  // namespace sluice::controller
