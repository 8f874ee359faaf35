// The SVG report, written as plain text: the canary weight as a step line over virtual time (for a
// blue-green Rollout, the revision behind the active and the preview Service), with the steps, pauses,
// analysis runs and aborts that explain its shape.
#include <algorithm>
#include <cstdio>
#include <iterator>

#include "sim/report.h"

namespace sluice::sim {

namespace {

constexpr double kWidth = 1100;
constexpr double kLeft = 70, kRight = 1060;  // plot area, x
constexpr double kTop = 70, kBottom = 330;   // plot area, y: 100% at top, 0% at bottom
constexpr double kLaneHeight = 22;           // one lane of analysis-run bars

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string shorten(const std::string& text, size_t max) {
  return text.size() <= max ? text : text.substr(0, max - 3) + "...";
}

const char* runColour(const std::string& phase) {
  if (phase == "Successful") return "#16a34a";
  if (phase == "Failed") return "#dc2626";
  if (phase == "Error") return "#ea580c";
  if (phase == "Inconclusive") return "#ca8a04";
  return "#9ca3af";  // still running when the simulation ended
}

// A tick spacing that gives at most ten ticks over `span` seconds.
int64_t tickSpacing(int64_t span) {
  static const int64_t kSteps[] = {10,   30,   60,   120,   300,   600,   900,
                                   1800, 3600, 7200, 10800, 21600, 43200, 86400};
  for (int64_t s : kSteps) {
    if (span / s <= 10) return s;
  }
  return ((span / 10 + 86399) / 86400) * 86400;
}

class Chart {
 public:
  explicit Chart(const SimResult& r) : r_(r) {
    int64_t last = r.endedAt.count();
    for (const auto& row : r.timeline) last = std::max<int64_t>(last, row.t.count());
    span_ = std::max<int64_t>(last, 60);
  }

  std::string render() {
    const int lanes = assignLanes();
    const double height = kBottom + 60 + (lanes ? 30 + lanes * kLaneHeight : 0);
    out_ += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(kWidth) + "\" height=\"" +
            num(height) + "\" viewBox=\"0 0 " + num(kWidth) + " " + num(height) +
            "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n";
    out_ += "<rect x=\"0\" y=\"0\" width=\"" + num(kWidth) + "\" height=\"" + num(height) +
            "\" fill=\"#ffffff\"/>\n";
    title();
    pauses();
    if (r_.blueGreen) {
      timeAxis();
      serviceLanes();
    } else {
      axes();
      steps();
      weightLine();
    }
    aborts();
    personActions();
    runs(lanes);
    out_ += "</svg>\n";
    return out_;
  }

 private:
  double x(Duration t) const { return kLeft + (kRight - kLeft) * static_cast<double>(t.count()) / span_; }
  static double y(int weight) { return kBottom - (kBottom - kTop) * weight / 100.0; }

  void text(double tx, double ty, const std::string& s, const std::string& attrs = "") {
    out_ += "<text x=\"" + num(tx) + "\" y=\"" + num(ty) + "\"" + (attrs.empty() ? "" : " " + attrs) + ">" +
            escape(s) + "</text>\n";
  }
  void line(double x1, double y1, double x2, double y2, const std::string& attrs) {
    out_ += "<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" + num(y2) +
            "\" " + attrs + "/>\n";
  }
  void rect(double rx, double ry, double w, double h, const std::string& attrs) {
    out_ += "<rect x=\"" + num(rx) + "\" y=\"" + num(ry) + "\" width=\"" + num(std::max(w, 1.0)) +
            "\" height=\"" + num(h) + "\" " + attrs + "/>\n";
  }

  void title() {
    std::string t = "Rollout " + r_.rolloutName + ": " + describeOutcome(r_);
    text(kLeft, 28, t, "font-size=\"18\" font-weight=\"bold\" fill=\"#111827\"");
    std::string sub =
        r_.blueGreen       ? "the revision each Service selects (blue-green): active above, preview below"
        : r_.trafficRouted ? "traffic to the new revision (canary weight in force; traffic routing)"
                           : "new revision's share of available pods (no traffic routing)";
    if (!r_.message.empty()) sub += " - " + shorten(r_.message, 90);
    text(kLeft, 48, sub, "fill=\"#4b5563\"");
  }

  void axes() {
    for (int w = 0; w <= 100; w += 25) {
      line(kLeft, y(w), kRight, y(w), "stroke=\"#e5e7eb\" stroke-width=\"1\"");
      text(kLeft - 8, y(w) + 4, std::to_string(w) + "%", "text-anchor=\"end\" fill=\"#374151\"");
    }
    timeAxis();
    line(kLeft, kTop, kLeft, kBottom, "stroke=\"#374151\" stroke-width=\"1\"");
    text(18, (kTop + kBottom) / 2, "new revision share",
         "text-anchor=\"middle\" fill=\"#6b7280\" transform=\"rotate(-90 18 " + num((kTop + kBottom) / 2) +
             ")\"");
  }

  void timeAxis() {
    const int64_t spacing = tickSpacing(span_);
    for (int64_t t = 0; t <= span_; t += spacing) {
      line(x(Duration{t}), kBottom, x(Duration{t}), kBottom + 5, "stroke=\"#374151\"");
      text(x(Duration{t}), kBottom + 18, formatSimTime(Duration{t}),
           "text-anchor=\"middle\" fill=\"#374151\"");
    }
    line(kLeft, kBottom, kRight, kBottom, "stroke=\"#374151\" stroke-width=\"1\"");
    text(kRight, kBottom + 46, "virtual time", "text-anchor=\"end\" fill=\"#6b7280\"");
  }

  // A colour per revision, in the order the revisions first appear behind a Service: the first (the
  // stable one the update starts from) grey, the next blue, then others.
  const char* revisionColour(const std::string& hash) {
    static const char* const kPalette[] = {"#64748b", "#2563eb", "#7c3aed", "#0d9488", "#db2777"};
    auto it = std::find(revisions_.begin(), revisions_.end(), hash);
    if (it == revisions_.end()) it = revisions_.insert(revisions_.end(), hash);
    return kPalette[static_cast<size_t>(it - revisions_.begin()) % std::size(kPalette)];
  }

  // Blue-green: a lane for the active Service and one for the preview Service, each a bar coloured by the
  // revision it selects over time (its pod-template hash written on it), blank while it selects none.
  // The active Service's switches are marked: the moment users' traffic moves.
  void serviceLanes() {
    struct Lane {
      const char* name;
      std::optional<std::string> TimelineRow::*selected;
      double top;
    };
    constexpr double kBarHeight = 56;
    const Lane lanes[] = {{"active", &TimelineRow::active, kTop + 30},
                          {"preview", &TimelineRow::preview, kTop + 150}};
    const auto& rows = r_.timeline;
    for (const Lane& lane : lanes) {
      text(kLeft - 8, lane.top + kBarHeight / 2 + 4, lane.name,
           "text-anchor=\"end\" fill=\"#374151\" font-weight=\"bold\"");
      for (size_t i = 0; i < rows.size(); ++i) {
        const auto& hash = rows[i].*lane.selected;
        if (!hash || (i > 0 && rows[i - 1].*lane.selected == hash)) continue;
        size_t j = i;
        while (j < rows.size() && rows[j].*lane.selected == hash) ++j;
        const Duration end = j < rows.size() ? rows[j].t : r_.endedAt;
        const double x1 = x(rows[i].t), x2 = std::max(x(end), x1 + 1);
        out_ += "<rect x=\"" + num(x1) + "\" y=\"" + num(lane.top) + "\" width=\"" + num(x2 - x1) +
                "\" height=\"" + num(kBarHeight) + "\" fill=\"" + revisionColour(*hash) + "\" class=\"" +
                lane.name + "\"><title>" + escape(std::string(lane.name) + " selects " + *hash) +
                "</title></rect>\n";
        if (x2 - x1 > 80) text(x1 + 6, lane.top + kBarHeight / 2 + 4, *hash, "fill=\"#ffffff\"");
      }
    }
    // The promotion: the new revision is stable (after the post-promotion analysis, when there is one).
    for (const auto& row : rows) {
      if (row.event != "RolloutCompleted") continue;
      const double px = x(row.t);
      line(px, kTop + 10, px, kBottom, "stroke=\"#16a34a\" stroke-width=\"2\" class=\"promotion\"");
      const bool left = px > (kLeft + kRight) / 2;
      text(left ? px - 6 : px + 6, kBottom - 8, "promoted: the new revision is stable",
           std::string("fill=\"#16a34a\" font-weight=\"bold\" class=\"promotion-label\" text-anchor=\"") +
               (left ? "end" : "start") + "\"");
    }
    for (size_t i = 1; i < rows.size(); ++i) {
      if (!rows[i - 1].active || !rows[i].active || rows[i - 1].active == rows[i].active) continue;
      const double sx = x(rows[i].t);
      line(sx, kTop + 10, sx, kBottom, "stroke=\"#111827\" stroke-width=\"2\" class=\"switch\"");
      const bool left = sx > (kLeft + kRight) / 2;
      text(left ? sx - 6 : sx + 6, kTop + 22, "active switched to " + *rows[i].active,
           std::string("fill=\"#111827\" font-weight=\"bold\" class=\"switch-label\" text-anchor=\"") +
               (left ? "end" : "start") + "\"");
    }
  }

  // Pauses shaded, from each row whose phase is Paused to the next row that is not.
  void pauses() {
    const auto& rows = r_.timeline;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].phase != "Paused" || (i > 0 && rows[i - 1].phase == "Paused")) continue;
      size_t j = i;
      while (j < rows.size() && rows[j].phase == "Paused") ++j;
      const Duration end = j < rows.size() ? rows[j].t : Duration{span_};
      rect(x(rows[i].t), kTop, x(end) - x(rows[i].t), kBottom - kTop, "fill=\"#fef3c7\" class=\"pause\"");
      text(x(rows[i].t) + 3, kBottom - 6, "paused", "font-size=\"10\" fill=\"#92400e\"");
    }
  }

  // A thin line where the step index changes, labelled with the step that starts there (numbered from
  // 1, as people count). An abort resets the index; its red mark says enough there.
  void steps() {
    std::optional<int> previous;
    bool first = true;
    for (const auto& row : r_.timeline) {
      const bool atAbort =
          std::any_of(r_.aborts.begin(), r_.aborts.end(), [&](const auto& a) { return a.t == row.t; });
      if (!first && row.step != previous && row.step && !atAbort) {
        const double sx = x(row.t);
        line(sx, kTop, sx, kBottom,
             "stroke=\"#9ca3af\" stroke-width=\"0.8\" stroke-dasharray=\"3,3\" class=\"step\"");
        const size_t index = static_cast<size_t>(*row.step);
        const std::string label = index < r_.steps.size()
                                      ? "step " + std::to_string(index + 1) + ": " + r_.steps[index]
                                      : std::string("all steps done");
        text(sx + 3, kTop + 4, label,
             "font-size=\"10\" fill=\"#4b5563\" transform=\"rotate(90 " + num(sx + 3) + " " + num(kTop + 4) +
                 ")\"");
      }
      previous = row.step;
      first = false;
    }
  }

  // The line follows the new revision: its canary weight until it is promoted, then all of the traffic
  // (it is the stable revision now, though the canary weight in force goes back to 0), until a person
  // pushes another revision. A promotion is marked in green, so the end of a good rollout never looks
  // like a drop.
  void weightLine() {
    if (r_.timeline.empty()) return;
    bool promoted = false;
    auto share = [&promoted](const TimelineRow& row) { return promoted ? 100 : row.canaryWeight; };
    std::string d = "M" + num(x(r_.timeline.front().t)) + " " + num(y(share(r_.timeline.front())));
    std::vector<Duration> promotions;
    for (const auto& row : r_.timeline) {
      if (row.event == "RolloutCompleted" && !promoted) {
        promoted = true;
        promotions.push_back(row.t);
      } else if (row.byPerson && row.event.rfind("set image", 0) == 0) {
        promoted = false;
      }
      d += " H" + num(x(row.t)) + " V" + num(y(share(row)));
    }
    d += " H" + num(x(r_.endedAt));
    out_ +=
        "<path d=\"" + d + "\" fill=\"none\" stroke=\"#2563eb\" stroke-width=\"2.5\" class=\"weight\"/>\n";
    for (Duration t : promotions) {
      const double px = x(t);
      line(px, kTop - 6, px, kBottom, "stroke=\"#16a34a\" stroke-width=\"2\" class=\"promotion\"");
      const bool left = px > (kLeft + kRight) / 2;
      text(left ? px - 6 : px + 6, kBottom - 8, "promoted: the new revision is stable",
           std::string("fill=\"#16a34a\" font-weight=\"bold\" class=\"promotion-label\" text-anchor=\"") +
               (left ? "end" : "start") + "\"");
    }
  }

  void aborts() {
    for (const auto& a : r_.aborts) {
      const double ax = x(a.t);
      line(ax, kTop - 6, ax, kBottom, "stroke=\"#dc2626\" stroke-width=\"2\" class=\"abort\"");
      const bool left = ax > (kLeft + kRight) / 2;
      text(left ? ax - 6 : ax + 6, kTop + 14, "aborted: " + shorten(a.message, 80),
           std::string("fill=\"#dc2626\" font-weight=\"bold\" class=\"abort-label\" text-anchor=\"") +
               (left ? "end" : "start") + "\"");
    }
  }

  // People's actions: a purple mark under the time axis, named.
  void personActions() {
    for (const auto& row : r_.timeline) {
      if (!row.byPerson) continue;
      const double px = x(row.t);
      out_ += "<path d=\"M" + num(px) + " " + num(kBottom) +
              " l-5 9 h10 z\" fill=\"#7c3aed\" class=\"person\"/>\n";
      text(px - 4, kBottom + 32, shorten(row.event, 40), "font-size=\"11\" fill=\"#7c3aed\"");
    }
  }

  // Lanes for the run bars, so that bars that overlap in time do not overlap on the page.
  int assignLanes() {
    std::vector<double> laneEnd;
    lanes_.clear();
    for (const auto& run : r_.analysisRuns) {
      const double start = x(run.startedAt);
      const double end = x(run.endedAt.value_or(r_.endedAt)) + 160;  // room for the label
      size_t lane = 0;
      while (lane < laneEnd.size() && laneEnd[lane] > start) ++lane;
      if (lane == laneEnd.size()) laneEnd.push_back(0);
      laneEnd[lane] = end;
      lanes_.push_back(static_cast<int>(lane));
    }
    return static_cast<int>(laneEnd.size());
  }

  void runs(int lanes) {
    if (lanes == 0) return;
    const double top = kBottom + 80;
    text(kLeft, top - 8, "analysis runs", "fill=\"#374151\" font-weight=\"bold\"");
    double lx = kLeft + 110;
    for (const char* phase : {"Successful", "Failed", "Error", "Inconclusive", "Running"}) {
      rect(lx, top - 18, 10, 10, std::string("fill=\"") + runColour(phase) + "\"");
      text(lx + 14, top - 9, phase, "font-size=\"10\" fill=\"#4b5563\"");
      lx += 90;
    }
    for (size_t i = 0; i < r_.analysisRuns.size(); ++i) {
      const auto& run = r_.analysisRuns[i];
      const double ry = top + lanes_[i] * kLaneHeight;
      const double x1 = x(run.startedAt), x2 = x(run.endedAt.value_or(r_.endedAt));
      rect(x1, ry, x2 - x1, kLaneHeight - 6,
           std::string("fill=\"") + runColour(run.phase) + "\" rx=\"3\" class=\"run\"");
      // A tick per measurement, coloured by its phase, above a thin white rule so it shows on any bar.
      for (const auto& m : run.measurements) {
        const double mx = x(m.t);
        std::string tip = formatSimTime(m.t) + " " + m.metric + " " + m.phase;
        if (!m.value.empty()) tip += " " + m.value;
        if (!m.message.empty()) tip += ": " + m.message;
        out_ += "<rect x=\"" + num(mx - 1.5) + "\" y=\"" + num(ry + 2) + "\" width=\"3\" height=\"" +
                num(kLaneHeight - 10) + "\" fill=\"" + runColour(m.phase) +
                "\" stroke=\"#ffffff\" stroke-width=\"0.5\" class=\"measurement\"><title>" + escape(tip) +
                "</title></rect>\n";
      }
      std::string names;
      for (const auto& t : run.templates) names += (names.empty() ? "" : ",") + t;
      std::string label = names + ": " + run.phase;
      if (!run.measurements.empty()) {
        label += " (" + std::to_string(run.measurements.size()) + " measurement" +
                 (run.measurements.size() == 1 ? "" : "s") + ")";
      }
      text(std::max(x1, x2) + 4, ry + 12, label, "font-size=\"11\" fill=\"#111827\"");
    }
  }

  const SimResult& r_;
  std::vector<std::string> revisions_;  // pod-template hashes in the order they first appear
  int64_t span_ = 60;
  std::vector<int> lanes_;
  std::string out_;
};

}  // namespace

std::string renderSvg(const SimResult& result) { return Chart(result).render(); }

}  // namespace sluice::sim
