// Text pieces shared by the plugin's read-only views: status symbols and their colours, kubectl's ages,
// columns aligned by what a terminal shows (not bytes), and tolerant reads of fields from API objects.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"

namespace sluice::cli {

// How an object is doing, as one of the plugin's symbols: ✔ ok, ◌ progressing, ॥ paused, ✖ bad,
// • neutral (scaled down), ⚠ warning (inconclusive). Each has its colour on a terminal.
enum class Health { kOk, kProgressing, kPaused, kBad, kNeutral, kWarning };

}  // namespace sluice::cli

namespace sluice::cli::view {

// "✔", "◌", "॥", "✖", "•", "⚠".
const char* symbol(Health h);
// `text` wrapped in the health's ANSI colour when `color`, unchanged otherwise.
std::string paint(Health h, const std::string& text, bool color);
// "✔ Healthy": the symbol and the word, painted together.
std::string status(Health h, const std::string& word, bool color);

// "Key:" padded to a column of values, then the value: one line of a view's header.
void headerLine(std::string& out, const std::string& key, const std::string& value);

// A phase word (Healthy, Paused, Successful, Running, Failed, ...) as a health.
Health phaseHealth(std::string_view phase);

// kubectl's AGE ("45s", "3m2s", "5h10m", "2d3h"); "" when unknown.
std::string age(const std::optional<Duration>& d);
// `now` minus the object's metadata.creationTimestamp; nullopt when missing or unreadable.
std::optional<Duration> ageOf(const nlohmann::json& obj, Time now);

// Columns a terminal shows for UTF-8 text: one per code point (the symbols and box-drawing characters
// used here are all one column wide).
std::size_t displayWidth(std::string_view text);

// Rows of cells printed in aligned columns, `gap` spaces apart, trailing blanks trimmed. A cell may carry
// a health: it is painted after padding, so colour codes never disturb the alignment.
class Columns {
 public:
  struct Cell {
    std::string text;
    std::optional<Health> health;
    Cell(std::string t) : text(std::move(t)) {}  // NOLINT(google-explicit-constructor): rows read as lists
    Cell(const char* t) : text(t) {}             // NOLINT(google-explicit-constructor)
    Cell(std::string t, Health h) : text(std::move(t)), health(h) {}
  };
  explicit Columns(std::size_t gap = 2) : gap_(gap) {}
  void add(std::vector<Cell> row) { rows_.push_back(std::move(row)); }
  // "✔ Healthy", painted with its health.
  static Cell statusCell(Health h, const std::string& word) {
    return {std::string(symbol(h)) + " " + word, h};
  }
  std::string render(bool color) const;

 private:
  std::size_t gap_;
  std::vector<std::vector<Cell>> rows_;
};

// Tolerant reads at a JSON pointer ("/status/phase"): a missing field or one of another type reads as
// the fallback, so a half-written object still shows what it has.
std::string str(const nlohmann::json& obj, const char* pointer);
int64_t integer(const nlohmann::json& obj, const char* pointer, int64_t fallback = 0);
std::string label(const nlohmann::json& obj, const std::string& key);
std::string annotation(const nlohmann::json& obj, const std::string& key);
// A list's items, or an empty array.
const nlohmann::json& items(const nlohmann::json& obj, const char* pointer);

}  // namespace sluice::cli::view
