// The syntax of the condition language (the subset of expr-lang that Argo Rollouts conditions use):
// a tokenizer and a precedence-climbing parser that turn a condition into a tree, or a compile error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sluice::analysis::condition {

enum class NodeKind {
  kNumber,
  kString,
  kBool,
  kNil,
  kResult,
  kElement,
  kList,  // [1, 2]: args are the elements
  kUnary,
  kBinary,
  kIndex,
  kMember,       // value.name or value?.name: text is the name, boolean says `?.`
  kConditional,  // cond ? a : b
  kCall
};

enum class Op {
  kNeg,
  kPlus,
  kNot,  // unary
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,  // arithmetic
  kEq,
  kNe,
  kLt,
  kGt,
  kLe,
  kGe,  // comparison
  kAnd,
  kOr,        // logic
  kCoalesce,  // ??
};

enum class Fn {
  kLen,
  kAll,
  kAny,
  kNone,
  kOne,
  kFilter,
  kCount,
  kSum,
  kMean,
  kMin,
  kMax,
  kAbs,
  kIsNaN,
  kIsInf,
  kIsNil,
  kDefault,
  kAsInt,
  kAsFloat,
};

struct Node {
  NodeKind kind = NodeKind::kNil;
  int column = 0;          // 1-based column of the token that names the node (the operator, the function)
  Op op = Op::kAdd;        // kUnary, kBinary
  Fn fn = Fn::kLen;        // kCall
  double number = 0;       // kNumber
  bool boolean = false;    // kBool; kMember: written `?.`
  std::string text;        // kString: the unescaped literal; kCall: the function's name; kUnary/kBinary: the
                           // operator as written
  int depth = 0;           // kElement: how many predicates enclose this `#` (1 = innermost of one)
  std::vector<Node> args;  // operands, the indexed value and the index, the object of a member, the
                           // condition and the two branches of ?:, list elements, or call arguments (a
                           // predicate last)
};

// Parses a whole condition. A compile error reads "column N: what was found, what was expected".
Result<Node> parse(std::string_view source);

// The name of an operator or function for messages ("+", "all").
std::string_view opName(Op op);

}  // namespace sluice::analysis::condition
