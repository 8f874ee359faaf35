// Scenario loading: a strict reader, since a typo in a scenario silently changes what is simulated.
#include "sim/scenario.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>

#include "base/duration_millis.h"
#include "base/input_limits.h"

namespace sluice::sim {

namespace {

using nlohmann::json;

// Reads one scenario object, adding located errors to `diags`.
class ScenarioReader {
 public:
  ScenarioReader(const SourceMap& source, Diagnostics& diags) : source_(source), diags_(diags) {}

  void error(const std::string& path, std::string message) {
    diags_.add(source_.diagnostic(Severity::Error, path, std::move(message)));
  }
  void warning(const std::string& path, std::string message) {
    diags_.add(source_.diagnostic(Severity::Warning, path, std::move(message)));
  }

  // Errors for keys of `object` not in `known`; a scenario typo must not pass unnoticed.
  void rejectUnknown(const json& object, const std::string& path, std::initializer_list<const char*> known) {
    for (auto it = object.begin(); it != object.end(); ++it) {
      const std::string& key = it.key();
      const bool ok = std::any_of(known.begin(), known.end(), [&key](const char* k) { return key == k; });
      if (!ok) error(childPath(path, key), "unknown field");
    }
  }

  bool expectObject(const json& value, const std::string& path) {
    if (value.is_object()) return true;
    error(path, "must be a mapping");
    return false;
  }

  // A duration: a Go-style string ("5m", "1h30m") or a number of seconds.
  std::optional<Duration> duration(const json& value, const std::string& path) {
    if (value.is_number_integer() && value.get<int64_t>() >= 0) return Duration{value.get<int64_t>()};
    if (value.is_string()) {
      auto d = parseDuration(value.get<std::string>());
      if (d) return *d;
      error(path, d.error());
      return std::nullopt;
    }
    error(path, "must be a duration such as 30s, 5m or 1h30m");
    return std::nullopt;
  }

  std::optional<std::string> string(const json& value, const std::string& path) {
    if (value.is_string()) return value.get<std::string>();
    error(path, "must be a string");
    return std::nullopt;
  }

  void analysisRuns(const json& value, const std::string& path, Scenario& out) {
    if (!expectObject(value, path)) return;
    for (const auto& [name, item] : value.items()) {
      const std::string p = childPath(path, name);
      if (!expectObject(item, p)) continue;
      rejectUnknown(item, p, {"phase", "after", "message"});
      AnalysisOutcome outcome;
      outcome.path = p;
      if (!item.contains("phase")) {
        error(p, "phase is required (Successful, Failed, Error or Inconclusive)");
      } else if (auto phase = string(item["phase"], childPath(p, "phase"))) {
        static const char* const kPhases[] = {"Successful", "Failed", "Error", "Inconclusive"};
        if (std::find(std::begin(kPhases), std::end(kPhases), *phase) == std::end(kPhases)) {
          error(childPath(p, "phase"),
                "unknown phase \"" + *phase + "\" (expected Successful, Failed, Error or Inconclusive)");
        }
        outcome.phase = *phase;
      }
      if (item.contains("after")) {
        if (auto d = duration(item["after"], childPath(p, "after"))) outcome.after = *d;
      }
      if (item.contains("message")) {
        if (auto m = string(item["message"], childPath(p, "message"))) outcome.message = *m;
      }
      out.analysisRuns[name] = outcome;
    }
  }

  // A metric value: a number, a list of numbers, nan or .nan; or a web answer's string, bool, object or
  // list of values.
  bool metricValue(const json& value, const std::string& path, MetricPoint& point) {
    if (value.is_number()) {
      const double v = value.get<double>();
      point.kind = std::isnan(v) ? MetricPoint::Kind::NaN : MetricPoint::Kind::Value;
      point.values = {v};
      return true;
    }
    if (value.is_string() && (value == "nan" || value == "NaN")) {
      point.kind = MetricPoint::Kind::NaN;
      point.values = {std::nan("")};
      return true;
    }
    const bool numbers = value.is_array() &&
                         std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_number(); });
    if (numbers && !value.empty()) {
      point.kind = MetricPoint::Kind::Values;
      for (const auto& v : value) point.values.push_back(v.get<double>());
      return true;
    }
    // Anything else a web metric's jsonPath can give: a string, a bool, an object or a list of values.
    if (value.is_string() || value.is_boolean() || value.is_object() ||
        (value.is_array() && !value.empty())) {
      point.kind = MetricPoint::Kind::Document;
      point.document = value;
      return true;
    }
    error(path, "must be a number, a non-empty list, nan, a string, a bool or an object");
    return false;
  }

  // {after, fails}: how a metric's Jobs run.
  bool jobBehaviour(const json& value, const std::string& path, MetricPoint& point) {
    if (!expectObject(value, path)) return false;
    rejectUnknown(value, path, {"after", "fails"});
    point.kind = MetricPoint::Kind::Job;
    bool ok = true;
    if (value.contains("after")) {
      auto d = duration(value["after"], childPath(path, "after"));
      ok = d.has_value();
      if (d) point.jobAfter = *d;
    }
    if (value.contains("fails")) {
      if (value["fails"].is_boolean()) {
        point.jobFails = value["fails"].get<bool>();
      } else {
        error(childPath(path, "fails"), "must be true or false");
        ok = false;
      }
    }
    return ok;
  }

  void metrics(const json& value, const std::string& path, Scenario& out) {
    if (!expectObject(value, path)) return;
    for (const auto& [name, series] : value.items()) {
      const std::string p = childPath(path, name);
      if (series.is_object()) {
        // The short form for a job metric: every Job behaves alike.
        rejectUnknown(series, p, {"job"});
        MetricPoint point;
        if (!series.contains("job")) {
          error(p, "must be a list of {at, value | error | empty | job}, or {job: {after, fails}}");
        } else if (jobBehaviour(series["job"], childPath(p, "job"), point)) {
          out.metrics[name] = {point};
        }
        continue;
      }
      if (!series.is_array() || series.empty()) {
        error(p, "must be a non-empty list of {at, value | error | empty | job}, or {job: {after, fails}}");
        continue;
      }
      std::vector<MetricPoint> points;
      std::vector<std::string> pointPaths;  // by point, for warnings
      for (size_t i = 0; i < series.size(); ++i) {
        const std::string ip = indexPath(p, i);
        const json& item = series[i];
        if (!expectObject(item, ip)) continue;
        rejectUnknown(item, ip, {"at", "value", "error", "empty", "job"});
        MetricPoint point;
        if (!item.contains("at")) {
          error(ip, "at is required");
        } else if (auto at = duration(item["at"], childPath(ip, "at"))) {
          point.at = *at;
        }
        const int given =
            item.contains("value") + item.contains("error") + item.contains("empty") + item.contains("job");
        if (given != 1) {
          error(ip, "needs exactly one of value, error, empty or job");
          continue;
        }
        if (item.contains("job")) {
          if (!jobBehaviour(item["job"], childPath(ip, "job"), point)) continue;
        } else if (item.contains("value")) {
          if (!metricValue(item["value"], childPath(ip, "value"), point)) continue;
        } else if (item.contains("error")) {
          auto e = string(item["error"], childPath(ip, "error"));
          if (!e) continue;
          point.kind = MetricPoint::Kind::Error;
          point.error = *e;
        } else {
          if (item["empty"] != true) {
            error(childPath(ip, "empty"), "must be true");
            continue;
          }
          point.kind = MetricPoint::Kind::Empty;
        }
        points.push_back(std::move(point));
        pointPaths.push_back(ip);
      }
      warnRepeatedTimes(points, pointPaths);
      std::stable_sort(points.begin(), points.end(),
                       [](const auto& a, const auto& b) { return a.at < b.at; });
      out.metrics[name] = std::move(points);
    }
  }

  // Two points of one metric at the same time: the later in the list silently replaces the earlier.
  void warnRepeatedTimes(const std::vector<MetricPoint>& points, const std::vector<std::string>& paths) {
    std::map<int64_t, size_t> first;  // at, in seconds -> the first point there
    for (size_t i = 0; i < points.size(); ++i) {
      auto [it, added] = first.emplace(points[i].at.count(), i);
      if (added) continue;
      warning(childPath(paths[i], "at"), formatDuration(points[i].at) + " is also the time of " +
                                             paths[it->second] + ": only the later of the two is used");
    }
  }

  void action(const json& item, const std::string& path, Scenario& out) {
    if (!expectObject(item, path)) return;
    rejectUnknown(item, path, {"at", "promote", "abort", "retry", "pause", "resume", "update", "restart"});
    PersonAction action;
    action.path = path;
    bool ok = true;
    if (!item.contains("at")) {
      error(path, "at is required");
      ok = false;
    } else if (auto at = duration(item["at"], childPath(path, "at"))) {
      action.at = *at;
    } else {
      ok = false;
    }
    struct Verb {
      const char* name;
      PersonAction::Kind kind;
    };
    static const Verb kVerbs[] = {
        {"promote", PersonAction::Kind::Promote}, {"abort", PersonAction::Kind::Abort},
        {"retry", PersonAction::Kind::Retry},     {"pause", PersonAction::Kind::Pause},
        {"resume", PersonAction::Kind::Resume},   {"update", PersonAction::Kind::Update},
        {"restart", PersonAction::Kind::Restart}};
    const Verb* found = nullptr;
    int count = 0;
    for (const auto& verb : kVerbs) {
      if (item.contains(verb.name)) {
        found = &verb;
        ++count;
      }
    }
    if (count != 1) {
      error(path, "needs exactly one of promote, abort, retry, pause, resume, update or restart");
      return;
    }
    action.kind = found->kind;
    const std::string vp = childPath(path, found->name);
    const json& body = item[found->name];
    if (body.is_null()) {
      if (action.kind == PersonAction::Kind::Update) {
        error(vp, "update needs an image");
        return;
      }
    } else if (!expectObject(body, vp)) {
      return;
    } else if (action.kind == PersonAction::Kind::Promote) {
      rejectUnknown(body, vp, {"full"});
      if (body.contains("full")) {
        if (!body["full"].is_boolean()) {
          error(childPath(vp, "full"), "must be true or false");
          ok = false;
        } else if (body["full"] == true) {
          action.kind = PersonAction::Kind::PromoteFull;
        }
      }
    } else if (action.kind == PersonAction::Kind::Update) {
      rejectUnknown(body, vp, {"image", "container"});
      if (!body.contains("image")) {
        error(vp, "image is required");
        ok = false;
      } else if (auto image = string(body["image"], childPath(vp, "image"))) {
        action.image = *image;
        if (image->empty()) {
          error(childPath(vp, "image"), "must not be empty");
          ok = false;
        }
      } else {
        ok = false;
      }
      if (body.contains("container")) {
        if (auto c = string(body["container"], childPath(vp, "container"))) action.container = *c;
      }
    } else if (action.kind == PersonAction::Kind::Restart) {
      rejectUnknown(body, vp, {"in"});
      if (body.contains("in")) {
        if (auto in = duration(body["in"], childPath(vp, "in"))) {
          action.in = *in;
        } else {
          ok = false;
        }
      }
    } else {
      rejectUnknown(body, vp, {});
    }
    if (ok && action.at > out.duration) {
      warning(childPath(path, "at"), formatDuration(action.at) +
                                         " is after the end of the simulation (spec.duration " +
                                         formatDuration(out.duration) + "): the action never happens");
    }
    if (ok) out.actions.push_back(std::move(action));
  }

  // A number from `min` to `max`.
  std::optional<double> number(const json& value, const std::string& path, double min, double max) {
    if (!value.is_number() || !(value.get<double>() >= min && value.get<double>() <= max)) {
      auto text = [](double v) {
        std::string t = json(v).dump();
        return t.size() > 2 && t.compare(t.size() - 2, 2, ".0") == 0 ? t.substr(0, t.size() - 2) : t;
      };
      error(path, "must be a number from " + text(min) + " to " + text(max));
      return std::nullopt;
    }
    return value.get<double>();
  }

  void traffic(const json& value, const std::string& path, Scenario& out) {
    if (!expectObject(value, path)) return;
    rejectUnknown(value, path, {"rps", "scrapeInterval", "versions"});
    TrafficSpec traffic;
    traffic.path = path;
    if (value.contains("rps")) {
      if (auto rps = number(value["rps"], childPath(path, "rps"), 0, 1e6)) traffic.requestsPerSecond = *rps;
    }
    if (value.contains("scrapeInterval")) {
      if (auto d = duration(value["scrapeInterval"], childPath(path, "scrapeInterval"))) {
        if (d->count() == 0) error(childPath(path, "scrapeInterval"), "must be longer than 0s");
        traffic.scrapeInterval = *d;
      }
    }
    if (value.contains("versions")) {
      const std::string vp = childPath(path, "versions");
      if (expectObject(value["versions"], vp)) {
        for (const auto& [image, body] : value["versions"].items()) {
          const std::string ip = childPath(vp, image);
          if (!expectObject(body, ip)) continue;
          rejectUnknown(body, ip, {"errorRate", "latency"});
          VersionAnswers answers;
          if (body.contains("errorRate"))
            answers.errorRate = number(body["errorRate"], childPath(ip, "errorRate"), 0, 1);
          if (body.contains("latency")) {
            const std::string lp = childPath(ip, "latency");
            auto text = string(body["latency"], lp);
            if (text) {
              if (auto ms = parseDurationMillis(*text)) {
                answers.latency = *ms;
              } else {
                error(lp, ms.error());
              }
            }
          }
          traffic.versions[image] = answers;
        }
      }
    }
    out.traffic = std::move(traffic);
  }

  // The spec at `path`, or (`rolloutName` set) one Rollout's section of it, which `out` already holds the
  // shared spec for: each field the section sets replaces the shared one.
  void spec(const json& value, Scenario& out, const std::string& path = "spec",
            const std::string& rolloutName = "") {
    if (!expectObject(value, path)) return;
    rejectUnknown(value, path,
                  {"duration", "readiness", "stableImage", "analysisRuns", "metrics", "actions", "traffic",
                   "rollouts"});
    const auto at = [&](const char* field) { return childPath(path, field); };
    if (value.contains("duration")) {
      if (auto d = duration(value["duration"], at("duration"))) {
        if (d->count() == 0) error(at("duration"), "must be longer than 0s");
        out.duration = *d;
      }
    }
    if (value.contains("readiness")) {
      if (auto d = duration(value["readiness"], at("readiness"))) out.readiness = *d;
    }
    if (value.contains("stableImage")) {
      if (auto image = string(value["stableImage"], at("stableImage"))) out.stableImage = *image;
    }
    if (value.contains("analysisRuns")) {
      out.analysisRuns.clear();
      analysisRuns(value["analysisRuns"], at("analysisRuns"), out);
    }
    if (value.contains("traffic")) {
      out.traffic.reset();
      traffic(value["traffic"], at("traffic"), out);
    }
    if (value.contains("metrics")) {
      out.metrics.clear();
      metrics(value["metrics"], at("metrics"), out);
    }
    if (value.contains("actions")) {
      out.actions.clear();
      const json& actions = value["actions"];
      if (!actions.is_array()) {
        error(at("actions"), "must be a list");
      } else {
        for (size_t i = 0; i < actions.size(); ++i) action(actions[i], indexPath(at("actions"), i), out);
      }
      std::stable_sort(out.actions.begin(), out.actions.end(),
                       [](const auto& a, const auto& b) { return a.at < b.at; });
    }
    if (!value.contains("rollouts")) return;
    if (rolloutName.empty()) {
      rollouts(value["rollouts"], at("rollouts"), out);
    } else {
      error(at("rollouts"), "belongs in spec only: a Rollout's section has no sections of its own");
    }
  }

  // spec.rollouts: a section per Rollout, by its metadata.name, each starting from the shared spec.
  void rollouts(const json& value, const std::string& path, Scenario& out) {
    if (!expectObject(value, path)) return;
    for (const auto& [name, section] : value.items()) {
      Scenario own = out;
      own.sections.clear();
      own.rolloutName = name;
      own.path = childPath(path, name);
      spec(section, own, own.path, name);
      out.sections.push_back(std::move(own));
    }
  }

 private:
  const SourceMap& source_;
  Diagnostics& diags_;
};

}  // namespace

std::string describeAction(const PersonAction& action) {
  switch (action.kind) {
    case PersonAction::Kind::Promote:
      return "promote";
    case PersonAction::Kind::PromoteFull:
      return "promote --full";
    case PersonAction::Kind::Abort:
      return "abort";
    case PersonAction::Kind::Retry:
      return "retry";
    case PersonAction::Kind::Pause:
      return "pause";
    case PersonAction::Kind::Resume:
      return "resume";
    case PersonAction::Kind::Update:
      return "set image " + (action.container.empty() ? std::string() : action.container + "=") +
             action.image;
    case PersonAction::Kind::Restart:
      return action.in.count() == 0 ? std::string("restart") : "restart --in " + formatDuration(action.in);
  }
  return "";
}

Scenario defaultScenario() { return Scenario{}; }

const Scenario& Scenario::forRollout(const std::string& name) const {
  for (const auto& section : sections) {
    if (section.rolloutName == name) return section;
  }
  return *this;
}

std::optional<Scenario> parseScenario(const nlohmann::json& object, const SourceMap& source,
                                      Diagnostics& diags) {
  const size_t errorsBefore = diags.errorCount();
  ScenarioReader reader(source, diags);
  Scenario out;
  out.source = source;
  if (!reader.expectObject(object, "")) return std::nullopt;
  reader.rejectUnknown(object, "", {"apiVersion", "kind", "metadata", "spec"});
  if (object.value("apiVersion", json()) != kScenarioApiVersion) {
    reader.error("apiVersion", std::string("must be ") + kScenarioApiVersion);
  }
  if (object.value("kind", json()) != kScenarioKind) reader.error("kind", "must be Scenario");
  if (object.contains("spec")) reader.spec(object["spec"], out);
  if (diags.errorCount() > errorsBefore) return std::nullopt;
  return out;
}

std::optional<Scenario> loadScenarioFile(const std::string& path, Diagnostics& diags) {
  auto text = readFile(path, limits::kMaxFileBytes);
  if (!text) {
    diags.add(Diagnostic{Severity::Error, "", 0, 0, "", text.error()});
    return std::nullopt;
  }
  auto docs = parseYamlStream(*text, path);
  if (!docs) {
    diags.add(docs.error());
    return std::nullopt;
  }
  if (docs->size() != 1) {
    diags.add(Diagnostic{Severity::Error, path, 0, 0, "",
                         "expected one Scenario document, found " + std::to_string(docs->size())});
    return std::nullopt;
  }
  return parseScenario(docs->front().json, docs->front().source, diags);
}

}  // namespace sluice::sim
