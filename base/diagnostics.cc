#include "base/diagnostics.h"

namespace sluice {

namespace {

std::string located(const Diagnostic& d, const char* severity) {
  std::string out;
  if (!d.file.empty()) {
    out += d.file;
    if (d.line > 0) {
      out += ":" + std::to_string(d.line);
      if (d.column > 0) out += ":" + std::to_string(d.column);
    }
    out += ": ";
  } else if (d.line > 0) {
    out += "line " + std::to_string(d.line) + ": ";
  }
  out += severity;
  if (!d.path.empty()) out += d.path + ": ";
  out += d.message;
  return out;
}

}  // namespace

std::string Diagnostic::format() const {
  return located(*this, severity == Severity::Error ? "error: " : "warning: ");
}

std::string Diagnostic::formatAsError() const { return located(*this, ""); }

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
