#include "base/diagnostics.h"

namespace sluice {

std::string Diagnostic::format() const {
  std::string out;
  if (!file.empty()) {
    out += file;
    if (line > 0) {
      out += ":" + std::to_string(line);
      if (column > 0) out += ":" + std::to_string(column);
    }
    out += ": ";
  } else if (line > 0) {
    out += "line " + std::to_string(line) + ": ";
  }
  out += severity == Severity::Error ? "error: " : "warning: ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

bool Diagnostics::hasErrors() const { return errorCount() > 0; }

size_t Diagnostics::errorCount() const {
  size_t n = 0;
  for (const auto& d : items_) n += d.severity == Severity::Error;
  return n;
}

size_t Diagnostics::warningCount() const { return items_.size() - errorCount(); }

std::string Diagnostics::format() const {
  std::string out;
  for (const auto& d : items_) out += d.format() + "\n";
  return out;
}

}  // namespace sluice
