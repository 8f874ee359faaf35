// The reports: table columns and time format, JSON fields, and an SVG that is well-formed XML with the
// marks a reader looks for.
#include <catch2/catch.hpp>
#include <regex>

#include "sim/report.h"

using namespace sluice;
using namespace sluice::sim;

namespace {

TimelineRow row(int t, std::optional<int> step, int canary, const char* phase, const char* event,
                const char* message) {
  TimelineRow r;
  r.t = Duration{t};
  r.step = step;
  r.canaryWeight = canary;
  r.stableWeight = 100 - canary;
  r.canary = ReplicaCount{canary / 10, canary / 10};
  r.stable = ReplicaCount{10, 10};
  r.phase = phase;
  r.event = event;
  r.message = message;
  return r;
}

SimResult abortedResult() {
  SimResult r;
  r.rolloutName = "web";
  r.steps = {"setWeight: 20", "pause: 5m", "analysis: success-rate", "setWeight: 60"};
  r.trafficRouted = true;
  r.duration = Duration{6 * 3600};
  r.phase = "Degraded";
  r.aborted = true;
  r.endedAt = Duration{1260};
  r.message = "RolloutAborted: Rollout aborted update to revision 2";
  r.timeline = {
      row(0, 0, 0, "Progressing", "Update", "new revision app:v2"),
      row(30, 1, 20, "Progressing", "RolloutStepCompleted", "Rollout step 1/4 completed (setWeight: 20)"),
      row(30, 1, 20, "Paused", "", "CanaryPauseStep"),
      row(330, 2, 20, "Progressing", "RolloutStepCompleted", "Rollout step 2/4 completed (pause: 5m)"),
      row(930, 0, 0, "Degraded", "RolloutAborted", "Rollout aborted <update> & \"stopped\""),
      row(1260, 0, 0, "Degraded", "", "")};
  r.analysisRuns = {AnalysisRunRecord{"web-abc-2-2",
                                      {"success-rate"},
                                      2,
                                      Duration{330},
                                      Duration{930},
                                      "Failed",
                                      "error rate too high",
                                      true,
                                      {}}};
  r.aborts = {AbortRecord{Duration{930}, "Rollout aborted update to revision 2: <rate> & more"}};
  return r;
}

// Checks that every tag is closed in order; returns the first problem, or "" if well-formed.
std::string tagBalance(const std::string& svg) {
  std::vector<std::string> open;
  const std::regex tag(R"(<(/?)([a-zA-Z]+)[^>]*?(/?)>)");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tag); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    if (m[1] == "/") {
      if (open.empty() || open.back() != m[2]) return "unexpected </" + m[2].str() + ">";
      open.pop_back();
    } else if (m[3] != "/") {
      open.push_back(m[2]);
    }
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

}  // namespace

TEST_CASE("simulated time reads as 0s, 5m30s, 1h2m", "[sim][report]") {
  CHECK(formatSimTime(Duration{0}) == "0s");
  CHECK(formatSimTime(Duration{330}) == "5m30s");
  CHECK(formatSimTime(Duration{3720}) == "1h2m");
  CHECK(formatStep(2, 6) == "2/6");
  CHECK(formatStep(std::nullopt, 0) == "-");
}

TEST_CASE("the table has a header with the outcome, the columns, and a line per row", "[sim][report]") {
  const std::string table = formatTable(abortedResult());
  std::vector<std::string> lines;
  for (size_t start = 0, end; (end = table.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(table.substr(start, end - start));
  }
  REQUIRE(lines.size() == 2 + abortedResult().timeline.size());
  CHECK(
      lines[0] ==
      "Rollout web: Degraded (aborted at 15m30s, at rest at 21m) - RolloutAborted: Rollout aborted update to "
      "revision 2");
  CHECK(std::regex_match(lines[1],
                         std::regex("TIME +STEP +CANARY +STABLE +CANARY-RS +STABLE-RS +PHASE +MESSAGE")));
  CHECK(std::regex_match(lines[3],
                         std::regex("30s +1/4 +20% +80% +2/2 +10/10 +Progressing +"
                                    "RolloutStepCompleted: Rollout step 1/4 completed \\(setWeight: 20\\)")));
  CHECK(std::regex_match(lines[5], std::regex("5m30s +2/4 .*")));
  // Columns line up: PHASE starts at the same offset on every line.
  const size_t phaseColumn = lines[1].find("PHASE");
  CHECK(lines[3].find("Progressing") == phaseColumn);
  CHECK(lines[6].find("Degraded") == phaseColumn);
}

TEST_CASE("the JSON report carries the result and every timeline field", "[sim][report]") {
  const auto j = toJson(abortedResult());
  CHECK(j["result"]["phase"] == "Degraded");
  CHECK(j["result"]["aborted"] == true);
  CHECK(j["result"]["endedAt"] == 1260);
  CHECK(j["result"]["message"] == "RolloutAborted: Rollout aborted update to revision 2");
  REQUIRE(j["timeline"].size() == 6);
  const auto& r = j["timeline"][1];
  CHECK(r["t"] == 30);
  CHECK(r["step"] == 1);
  CHECK(r["canaryWeight"] == 20);
  CHECK(r["stableWeight"] == 80);
  CHECK(r["canaryReplicas"] == nlohmann::json{{"ready", 2}, {"desired", 2}});
  CHECK(r["stableReplicas"] == nlohmann::json{{"ready", 10}, {"desired", 10}});
  CHECK(r["phase"] == "Progressing");
  CHECK(r["event"] == "RolloutStepCompleted");
  CHECK(j["timeline"][2]["event"].is_null());
  CHECK(j["analysisRuns"][0]["phase"] == "Failed");
  CHECK(j["analysisRuns"][0]["endedAt"] == 930);
  CHECK(j["steps"].size() == 4);
}

TEST_CASE("the SVG is well-formed and shows the weight, steps, pauses, runs and the abort", "[sim][report]") {
  const std::string svg = renderSvg(abortedResult());
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(tagBalance(svg).empty());
  CHECK(svg.find("Rollout web: Degraded (aborted at 15m30s, at rest at 21m)") != std::string::npos);
  CHECK(svg.find("class=\"weight\"") != std::string::npos);
  CHECK(svg.find("class=\"step\"") != std::string::npos);
  CHECK(svg.find(">step 3: analysis: success-rate</text>") != std::string::npos);
  CHECK(svg.find("class=\"pause\"") != std::string::npos);
  CHECK(svg.find("class=\"run\"") != std::string::npos);
  CHECK(svg.find("#dc2626") != std::string::npos);  // the failed run and the abort, in red
  CHECK(svg.find("class=\"abort\"") != std::string::npos);
  CHECK(svg.find("class=\"person\"") == std::string::npos);  // nobody acted in this run
  // Text is escaped, so a message with markup cannot break the document.
  CHECK(svg.find("aborted: Rollout aborted update to revision 2: &lt;rate&gt; &amp; more") !=
        std::string::npos);
  CHECK(svg.find("<rate>") == std::string::npos);
}

TEST_CASE("the SVG without aborts or runs has no abort marker and no run lane, and marks actions",
          "[sim][report]") {
  SimResult r = abortedResult();
  r.aborts.clear();
  r.analysisRuns.clear();
  r.aborted = false;
  r.timeline[3].byPerson = true;
  r.timeline[3].event = "promote";
  const std::string svg = renderSvg(r);
  CHECK(svg.find("class=\"person\"") != std::string::npos);
  CHECK(svg.find(">promote</text>") != std::string::npos);
  CHECK(tagBalance(svg).empty());
  CHECK(svg.find("class=\"abort\"") == std::string::npos);
  CHECK(svg.find("analysis runs") == std::string::npos);
}

TEST_CASE("after a promotion the SVG line stays at 100% and the promotion is marked in green",
          "[sim][report]") {
  SimResult r;
  r.rolloutName = "web";
  r.steps = {"setWeight: 50"};
  r.trafficRouted = true;
  r.duration = Duration{3600};
  r.phase = "Healthy";
  r.endedAt = Duration{120};
  // The canary weight in force goes back to 0 once the new revision is stable: the chart must not drop.
  r.timeline = {row(0, 0, 0, "Progressing", "Update", "new revision app:v2"),
                row(30, 1, 50, "Progressing", "RolloutStepCompleted", "Rollout step 1/1 completed"),
                row(60, 1, 100, "Progressing", "", "waiting for all steps to complete"),
                row(60, 1, 0, "Healthy", "RolloutCompleted", "Rollout completed update to revision 2")};
  const std::string svg = renderSvg(r);
  CHECK(tagBalance(svg).empty());
  CHECK(svg.find("class=\"promotion\"") != std::string::npos);
  CHECK(svg.find("promoted: the new revision is stable") != std::string::npos);
  // The weight path ends on the 100% line (y of 100%) and never returns to 0 after the promotion.
  const auto path = svg.find("class=\"weight\"");
  REQUIRE(path != std::string::npos);
  const std::string d = svg.substr(svg.rfind("<path d=\"", path), path - svg.rfind("<path d=\"", path));
  const std::string top = " V" + std::to_string(static_cast<int>(70));  // kTop: the 100% line
  CHECK(d.rfind(" V") == d.rfind(top));
  CHECK_FALSE(renderSvg(abortedResult()).find("class=\"promotion\"") != std::string::npos);
}
