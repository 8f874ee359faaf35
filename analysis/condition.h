// The condition language of successCondition and failureCondition: Argo Rollouts' subset of expr-lang,
// compiled once to muParser bytecode and evaluated against each measurement's result.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "analysis/value.h"
#include "base/result.h"

namespace sluice::analysis {

// A compiled condition.
//
// What it accepts: numbers, true/false, nil, strings in "..." or '...', lists of numbers written out
// ([0, 1.5]), `result`; `== != < > <= >=`, `&& || !` and `and or not`, `+ - * / % ^ **` and unary minus,
// `cond ? a : b`, `a ?? b` (b when a is nil), parentheses; indexing of any list (`result[i]`,
// `filter(result, # > 1)[0]`, `default(result, [0])[0]`) with negative indexes counting from the end;
// members of an object result (`result.ok`, `result["a.b"]`, `result?.ok` which is nil when result is;
// a missing member is nil); elements of a list holding more than numbers by an index written out
// (`result[0].Values`); len, all, any, none, one, filter, count (predicates written `# < 1000` or
// `{# < 1000}`), sum, mean, min, max (of a list or of several numbers), abs, isNaN, isInf, isNil,
// default, asInt, asFloat. Precedence is expr-lang's: `??` binds tightest, `**` tighter than unary
// minus (-2 ** 2 is -4), `!` tighter than `&&`, `&&` tighter than `||`, and `?:` loosest
// (right-associative). Numbers are doubles and follow IEEE: every comparison with NaN is false except
// `!=`. `&&`, `||`, `?:` and `??` evaluate only what they need, so `len(result) == 0 || result[0] >= 0.95`
// is true, not an error, on an empty result.
//
// Where it is stricter than expr-lang, on purpose (a condition must never be silently misread): `==`
// between different types (a list and a number, a number and a string) is an error rather than false,
// except against nil; mean, min and max of an empty list are errors (sum is 0); isNil and default must be
// given `result` itself, since Argo's versions test the whole result whatever they are given; the two
// branches of `?:` must both be numbers or both bools, unless its condition is known for the kind of
// result (a nil test of a member); a list written out holds numbers written out; a list holding more than
// numbers is indexed by a number written out; objects are not compared as a whole; len of a string counts
// characters (expr counts bytes). `%` works on any numbers (as C's fmod). Numbers in a message are shown as
// Go shows them (NaN, +Inf).
//
// How it runs: compile() parses the condition and type-checks it once with `result` of unknown type;
// errors that hold for any result (unknown function, `1 + true`, a condition that is a number) are
// compile errors with a column. The first evaluation for each kind of result (nil, number, bool,
// string, list; and each shape of object or list of values: member names, element counts, kinds) lowers
// the tree for that kind into a muParser expression and compiles that to bytecode, so a condition pays
// only for the kinds its results have (most see one); members are read through callbacks by path. Logic
// becomes muParser's ?: (which skips the branch not taken); list functions and indexing become muParser
// callbacks over the result's numbers, each predicate its own compiled muParser expression with `#` bound to
// a muParser variable; string comparisons become callbacks against the literal. A use that is wrong only for
// one kind of result (`result < 1` when result is a list) becomes, in that kind's program, a callback that
// reports the error when, and only when, it is reached. evaluate() picks the program for the result's
// kind, binds the result, and runs the bytecode: once that kind's program exists, for a numeric or bool
// result it allocates nothing; list functions iterate without copying; only an error builds a message.
//
// Thread safety: evaluate() is const but reuses the compiled programs' state (muParser's stack, the
// bound variables), so one CompiledCondition must not be evaluated from two threads at once; compile one
// per thread. Move-only.
class CompiledCondition {
 public:
  CompiledCondition(CompiledCondition&&) noexcept;
  CompiledCondition& operator=(CompiledCondition&&) noexcept;
  CompiledCondition(const CompiledCondition&) = delete;
  CompiledCondition& operator=(const CompiledCondition&) = delete;
  ~CompiledCondition();

  // Precondition: not moved from.
  // true or false, or an error a person can act on: "result is empty: the query returned no data",
  // "cannot compare a list of 2 numbers with a number: index it (result[0]) or use all()/any()", or that
  // the condition gives a number rather than true or false. Never throws.
  Result<bool> evaluate(const Value& result) const;

  // The condition as written.
  const std::string& source() const;

  struct Impl;

 private:
  explicit CompiledCondition(std::unique_ptr<Impl> impl);
  friend Result<CompiledCondition> compile(std::string_view condition);
  std::unique_ptr<Impl> impl_;
};

// Compiles a condition. Anything outside the language above is an error naming the 1-based column of the
// offending token and what was expected: `column 12: unknown function "median"`. Never throws.
Result<CompiledCondition> compile(std::string_view condition);

}  // namespace sluice::analysis
