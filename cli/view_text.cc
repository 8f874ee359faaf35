// Symbols, colours, ages, aligned columns and field reads of the read-only views (see view_text.h).
#include "cli/view_text.h"

#include <algorithm>

#include "kube/apiserver/table.h"

namespace sluice::cli::view {

using nlohmann::json;

const char* symbol(Health h) {
  switch (h) {
    case Health::kOk:
      return "✔";
    case Health::kProgressing:
      return "◌";
    case Health::kPaused:
      return "॥";
    case Health::kBad:
      return "✖";
    case Health::kNeutral:
      return "•";
    case Health::kWarning:
      return "⚠";
  }
  return "?";
}

std::string paint(Health h, const std::string& text, bool color) {
  if (!color) return text;
  const char* code = "0";
  switch (h) {
    case Health::kOk:
      code = "32";  // green
      break;
    case Health::kProgressing:
    case Health::kWarning:
      code = "33";  // yellow
      break;
    case Health::kPaused:
      code = "36";  // cyan: waiting on someone, not failing
      break;
    case Health::kBad:
      code = "31";  // red
      break;
    case Health::kNeutral:
      code = "90";  // grey
      break;
  }
  return std::string("\033[") + code + "m" + text + "\033[0m";
}

std::string status(Health h, const std::string& word, bool color) {
  return paint(h, std::string(symbol(h)) + " " + word, color);
}

void headerLine(std::string& out, const std::string& key, const std::string& value) {
  constexpr std::size_t kValueColumn = 16;
  out += key;
  out.append(key.size() < kValueColumn ? kValueColumn - key.size() : 1, ' ');
  out += value + "\n";
}

Health phaseHealth(std::string_view phase) {
  if (phase == "Healthy" || phase == "Successful" || phase == "Succeeded" || phase == "Completed")
    return Health::kOk;
  if (phase == "Paused") return Health::kPaused;
  if (phase == "Degraded" || phase == "Failed" || phase == "Error") return Health::kBad;
  if (phase == "Inconclusive") return Health::kWarning;
  if (phase == "ScaledDown") return Health::kNeutral;
  return Health::kProgressing;
}

std::string age(const std::optional<Duration>& d) { return d ? apiserver::humanDuration(*d) : ""; }

std::optional<Duration> ageOf(const json& obj, Time now) {
  auto created = parseRfc3339(str(obj, "/metadata/creationTimestamp"));
  if (!created) return std::nullopt;
  return now - *created;
}

std::size_t displayWidth(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string Columns::render(bool color) const {
  std::vector<std::size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], displayWidth(row[i].text));
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    std::size_t pending = 0;  // blanks owed before the next non-empty cell; never written at the end
    for (std::size_t i = 0; i < row.size(); ++i) {
      const Cell& cell = row[i];
      if (!cell.text.empty()) {
        line.append(pending, ' ');
        pending = 0;
        line += cell.health ? paint(*cell.health, cell.text, color) : cell.text;
      }
      pending += widths[i] - displayWidth(cell.text) + (i + 1 < row.size() ? gap_ : 0);
    }
    out += line + "\n";
  }
  return out;
}

std::string str(const json& obj, const char* pointer) {
  const json::json_pointer p(pointer);
  if (!obj.contains(p)) return "";
  const json& v = obj.at(p);
  return v.is_string() ? v.get<std::string>() : "";
}

int64_t integer(const json& obj, const char* pointer, int64_t fallback) {
  const json::json_pointer p(pointer);
  if (!obj.contains(p)) return fallback;
  const json& v = obj.at(p);
  return v.is_number_integer() ? v.get<int64_t>() : fallback;
}

namespace {
std::string mapEntry(const json& obj, const char* mapPointer, const std::string& key) {
  const json::json_pointer p(mapPointer);
  if (!obj.contains(p)) return "";
  const json& map = obj.at(p);
  if (!map.is_object()) return "";
  const auto it = map.find(key);
  return it != map.end() && it->is_string() ? it->get<std::string>() : "";
}
}  // namespace

std::string label(const json& obj, const std::string& key) { return mapEntry(obj, "/metadata/labels", key); }
std::string annotation(const json& obj, const std::string& key) {
  return mapEntry(obj, "/metadata/annotations", key);
}

const json& items(const json& obj, const char* pointer) {
  static const json kEmpty = json::array();
  const json::json_pointer p(pointer);
  if (!obj.contains(p)) return kEmpty;
  const json& v = obj.at(p);
  return v.is_array() ? v : kEmpty;
}

}  // namespace sluice::cli::view
