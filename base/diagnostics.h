// Diagnostics: what a loader says about its input. Each names the file, the line and column, and the
// field path (spec.strategy.canary.steps[2].setWeight), so a person can find and fix it.
#pragma once

#include <string>
#include <vector>

namespace sluice {

enum class Severity { Error, Warning };

struct Diagnostic {
  Severity severity = Severity::Error;
  std::string file;  // may be empty (input from the API server)
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown
  std::string path;  // field path; empty for the document as a whole
  std::string message;

  // "file:line:col: error: path: message", leaving out what is unknown.
  std::string format() const;
  // "file:line:col: path: message": the same without the severity, for an Error a Result carries (its
  // receiver adds the severity when it reports it).
  std::string formatAsError() const;
};

class Diagnostics {
 public:
  void add(Diagnostic d) { items_.push_back(std::move(d)); }
  void append(const Diagnostics& other) {
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
  }
  bool hasErrors() const;
  size_t errorCount() const;
  size_t warningCount() const;
  const std::vector<Diagnostic>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  // Every diagnostic formatted, one a line.
  std::string format() const;

 private:
  std::vector<Diagnostic> items_;
};

}  // namespace sluice
