// Lowering a condition to muParser, once per kind of result, and running the bytecode. See condition.h
// for the design; this file keeps the rules of each operator and function in one place.
#include "analysis/condition.h"

#include <muParser.h>

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "analysis/condition_syntax.h"
#include "base/utf8.h"

namespace sluice::analysis {

using condition::Fn;
using condition::Node;
using condition::NodeKind;
using condition::Op;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMaxPredicateDepth = 8;
constexpr std::string_view kResultPlaceholder = "{result}";
const std::string kNilResult =
    "result is nil (the provider returned no value): use isNil(result) or default(result, 0)";
const std::string kEmptyResult = "result is empty: the query returned no data";
const std::string kListHint = ": index it (result[0]) or use all()/any()";

enum class ListFn { kLen, kAll, kAny, kNone, kOne, kCount, kSum, kMean, kMin, kMax };

// A number as a message shows it: 3, -1, 0.5, NaN, +Inf.
std::string shown(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back as the same double
  return std::string(buf, res.ptr);
}

// A number as muParser reads it back exactly; NaN and the infinities have no literal there.
std::string numberText(double v) {
  if (std::isnan(v)) return "(0/0)";
  if (std::isinf(v)) return v > 0 ? "(1/0)" : "(-1/0)";
  return v < 0 ? "(" + shown(v) + ")" : shown(v);
}

// strconv.ParseFloat and ParseInt accept a leading '+'; from_chars does not.
std::string_view withoutPlus(std::string_view s) {
  return (s.size() > 1 && s[0] == '+' && s[1] != '-') ? s.substr(1) : s;
}

std::optional<double> parseFloatText(std::string_view s) {
  s = withoutPlus(s);
  double v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || res.ec != std::errc() || res.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parseIntText(std::string_view s) {
  s = withoutPlus(s);
  long long v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || res.ec != std::errc() || res.ptr != s.data() + s.size()) return std::nullopt;
  return static_cast<double>(v);
}

std::string quotedForMessage(std::string_view s) {
  constexpr size_t kMax = 64;
  return "\"" + std::string(utf8Prefix(s, kMax)) + (s.size() > kMax ? "...\"" : "\"");
}

size_t codePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The most objects of different shapes (members and their types) one condition keeps a program for.
constexpr size_t kMaxShapes = 32;

// Whether a result's program depends on more than its kind: an object or a list of values, whose members
// and elements have their own types.
bool hasShape(Value::Kind kind) { return kind == Value::Kind::kObject || kind == Value::Kind::kList; }

// What decides such a result's program: its members' names and the kinds of its members and elements,
// recursively. Two results of one shape give every path the same type, so they share one lowered program.
void appendShape(const Value& v, std::string& out) {
  out += static_cast<char>('0' + static_cast<int>(v.kind()));
  if (v.kind() == Value::Kind::kObject) {
    out += '{';
    for (const ObjectMember& m : v.asObject()) {
      out += std::to_string(m.name.size());
      out += ':';
      out += m.name;
      appendShape(m.value, out);
    }
    out += '}';
  } else if (v.kind() == Value::Kind::kList) {
    out += '[';
    for (const Value& item : v.asList()) appendShape(item, out);
    out += ']';
  }
}

}  // namespace

struct CompiledCondition::Impl {
  struct Predicate {
    std::unique_ptr<mu::Parser> parser;
    int element;  // which element variable `#` is bound to
  };
  struct Source {        // a list's numbers, keeping those for which every predicate holds
    int path = 0;        // the list at this path of the result (0: the result itself)
    int constants = -1;  // or, when set, this list written out in the condition
    std::vector<int> predicates;
  };
  struct ListOp {
    ListFn fn;
    std::string_view name;
    int source;
    int predicate;  // -1: none
  };
  struct Program {
    bool lowered = false;  // compiled on the first evaluation of its kind (or shape) of result
    std::unique_ptr<mu::Parser> parser;
    int fail = -1;  // the program always fails with this message instead
  };
  struct Step {        // one step down from a value:
    std::string name;  // to its member of this name, or
    int index = -1;    // to its element at this index (>= 0)
    bool operator==(const Step&) const = default;
  };
  using Path = std::vector<Step>;  // from the result down

  std::string source;
  // Variables bound into every muParser expression of this condition.
  double r = 0;
  double element[kMaxPredicateDepth] = {};
  // Evaluation state; `current` is null while compiling, which makes every callback inert.
  const Value* current = nullptr;
  bool failed = false;
  std::string message;

  std::vector<Predicate> predicates;
  std::vector<Source> sources{Source{}};  // source 0: all of the result's numbers
  std::vector<ListOp> listOps;
  std::vector<std::string> fails;    // messages; kResultPlaceholder stands for describe(result)
  std::vector<std::string> strings;  // string literals compared with a string of the result
  std::vector<Path> paths{Path{}};   // path 0: the result itself
  std::vector<std::vector<double>> constantLists;
  Program programs[Value::kKindCount];                  // by kind; see hasShape() for the others
  std::vector<std::pair<std::string, Program>> shapes;  // an object's or list of values' program, by shape
  condition::Node tree;  // kept to lower each kind's program when it is first needed

  // Lowers and compiles the program for results like `sample` (of its kind; of its shape, for an
  // object). Throws muParser's exception if the lowered text does not compile (an internal error).
  Program lowerProgram(const Value& sample);
  // The program for `result`, lowered on first use; null when an object comes in too many shapes.
  const Program* programFor(const Value& result);

  // The value at a path of `from` (null when a member is missing), and the path as a condition writes it.
  const Value* resolve(const Value& from, int path) const {
    const Value* v = &from;
    for (const Step& step : paths[static_cast<size_t>(path)]) {
      if (step.index >= 0) {
        if (v->kind() != Value::Kind::kList || static_cast<size_t>(step.index) >= v->asList().size()) {
          return nullptr;
        }
        v = &v->asList()[static_cast<size_t>(step.index)];
        continue;
      }
      if (v->kind() != Value::Kind::kObject) return nullptr;
      const ObjectMember* m = v->member(step.name);
      if (!m) return nullptr;
      v = &m->value;
    }
    return v;
  }
  std::string pathName(int path) const {
    std::string out = "result";
    for (const Step& step : paths[static_cast<size_t>(path)]) {
      if (step.index >= 0) {
        out += "[" + std::to_string(step.index) + "]";
        continue;
      }
      const std::string& name = step.name;
      bool plain = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
      for (char c : name) {
        plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          c == '_' || c == '$');
      }
      out += plain ? "." + name : "[\"" + name + "\"]";
    }
    return out;
  }

  void fail(std::string msg) {
    if (!failed) {
      failed = true;
      message = std::move(msg);
    }
  }

  std::string failMessage(int site) const {
    std::string msg = fails[static_cast<size_t>(site)];
    const auto at = msg.find(kResultPlaceholder);
    if (at != std::string::npos && current) msg.replace(at, kResultPlaceholder.size(), describe(*current));
    return msg;
  }

  bool holds(int predicate, double x) {
    const Predicate& p = predicates[static_cast<size_t>(predicate)];
    element[p.element] = x;
    return p.parser->Eval() != 0;
  }

  bool kept(const Source& src, double x) {
    for (int p : src.predicates) {
      if (!holds(p, x) || failed) return false;
    }
    return true;
  }

  // The list a source reads, as a message names it.
  std::string listName(const Source& src) const {
    if (src.constants >= 0) return "the list";
    return src.path == 0 ? "result" : pathName(src.path);
  }

  std::string emptyMessage(const Source& src) const {
    if (!src.predicates.empty()) {
      return "filter() kept none of " +
             (src.constants < 0 && src.path == 0 ? std::string("the result's") : listName(src) + "'s") +
             " values";
    }
    return src.constants < 0 && src.path == 0 ? kEmptyResult : listName(src) + " is empty";
  }

  const std::vector<double>* numbers(const Source& src) {
    if (src.constants >= 0) return &constantLists[static_cast<size_t>(src.constants)];
    const Value* v = resolve(*current, src.path);
    if (v && v->kind() == Value::Kind::kVector) return &v->asVector();
    fail("internal error: a list function ran on " + (v ? describe(*v) : std::string("a missing member")));
    return nullptr;
  }

  // The string at a path of the current result; the callbacks that read one run only where it is one.
  const std::string& stringAt(int path) const { return resolve(*current, path)->asString(); }

  double runList(const ListOp& op);
  double at(const Source& src, double index);
  std::unique_ptr<mu::Parser> newParser(const std::string& text);
};

namespace {

using Impl = CompiledCondition::Impl;
Impl& self(void* data) { return *static_cast<Impl*>(data); }

double cbFail(void* data, double site) {
  Impl& im = self(data);
  if (im.current) im.fail(im.failMessage(static_cast<int>(site)));
  return kNaN;
}

double cbList(void* data, double op) {
  Impl& im = self(data);
  return im.current ? im.runList(im.listOps[static_cast<size_t>(op)]) : 0;
}

double cbAt(void* data, double source, double index) {
  Impl& im = self(data);
  return im.current ? im.at(im.sources[static_cast<size_t>(source)], index) : 0;
}

// A number or bool at a path of an object result (the program of that shape knows which).
double cbNumberAt(void* data, double path) {
  Impl& im = self(data);
  if (!im.current) return 0;
  const Value* v = im.resolve(*im.current, static_cast<int>(path));
  if (v && v->kind() == Value::Kind::kNumber) return v->asNumber();
  return v && v->kind() == Value::Kind::kBool && v->asBool() ? 1 : 0;
}

// The string callbacks run only in a program whose result holds a string at `path`.
double cbStringEquals(void* data, double path, double literal) {
  Impl& im = self(data);
  return im.current && im.stringAt(static_cast<int>(path)) == im.strings[static_cast<size_t>(literal)];
}

double cbStringsEqual(void* data, double path, double other) {
  Impl& im = self(data);
  return im.current && im.stringAt(static_cast<int>(path)) == im.stringAt(static_cast<int>(other));
}

double cbStringLength(void* data, double path) {
  Impl& im = self(data);
  return im.current ? static_cast<double>(codePoints(im.stringAt(static_cast<int>(path)))) : 0;
}

// asFloat and asInt of a string of the result, as strconv.ParseFloat and ParseInt read it.
double stringResultAsNumber(void* data, double path, bool whole) {
  Impl& im = self(data);
  if (!im.current) return 0;
  const std::string& s = im.stringAt(static_cast<int>(path));
  if (auto v = whole ? parseIntText(s) : parseFloatText(s)) return *v;
  im.fail(std::string(whole ? "asInt(): " : "asFloat(): ") + im.pathName(static_cast<int>(path)) + " " +
          quotedForMessage(s) + (whole ? " is not a whole number" : " is not a number"));
  return kNaN;
}
double cbStringAsFloat(void* data, double path) { return stringResultAsNumber(data, path, false); }
double cbStringAsInt(void* data, double path) { return stringResultAsNumber(data, path, true); }

double cbAsInt(void* data, double x) {
  Impl& im = self(data);
  if (!im.current) return 0;
  if (!std::isfinite(x)) {
    im.fail("asInt(): " + shown(x) + " has no integer value");
    return kNaN;
  }
  return std::trunc(x);
}

double fnMod(double a, double b) { return std::fmod(a, b); }
double fnIsNaN(double x) { return std::isnan(x) ? 1 : 0; }
double fnIsInf(double x) { return std::isinf(x) ? 1 : 0; }

// NaN wins, as Go's math.Min and math.Max have it.
double fnMin(const double* xs, int n) {
  double best = xs[0];
  for (int i = 1; i < n; ++i) best = (std::isnan(best) || std::isnan(xs[i])) ? kNaN : std::min(best, xs[i]);
  return best;
}
double fnMax(const double* xs, int n) {
  double best = xs[0];
  for (int i = 1; i < n; ++i) best = (std::isnan(best) || std::isnan(xs[i])) ? kNaN : std::max(best, xs[i]);
  return best;
}

}  // namespace

std::unique_ptr<mu::Parser> Impl::newParser(const std::string& text) {
  auto p = std::make_unique<mu::Parser>();
  p->DefineVar("sl_r", &r);
  for (int i = 0; i < kMaxPredicateDepth; ++i) p->DefineVar("sl_e" + std::to_string(i), &element[i]);
  // Callbacks that read the result or report errors must never be folded away at compile time.
  p->DefineFunUserData("sl_fail", cbFail, this, false);
  p->DefineFunUserData("sl_list", cbList, this, false);
  p->DefineFunUserData("sl_at", cbAt, this, false);
  p->DefineFunUserData("sl_num", cbNumberAt, this, false);
  p->DefineFunUserData("sl_streq", cbStringEquals, this, false);
  p->DefineFunUserData("sl_streq2", cbStringsEqual, this, false);
  p->DefineFunUserData("sl_strlen", cbStringLength, this, false);
  p->DefineFunUserData("sl_strfloat", cbStringAsFloat, this, false);
  p->DefineFunUserData("sl_strint", cbStringAsInt, this, false);
  p->DefineFunUserData("sl_asint", cbAsInt, this, false);
  p->DefineFun("sl_mod", fnMod);
  p->DefineFun("sl_isnan", fnIsNaN);
  p->DefineFun("sl_isinf", fnIsInf);
  p->DefineFun("sl_min", fnMin);
  p->DefineFun("sl_max", fnMax);
  p->SetExpr(text);
  current = nullptr;
  p->Eval();  // builds the bytecode now, so that evaluate() only runs it
  return p;
}

double Impl::runList(const ListOp& op) {
  const Source& src = sources[static_cast<size_t>(op.source)];
  const std::vector<double>* values = numbers(src);
  if (!values) return kNaN;
  size_t kept_ = 0;
  size_t matches = 0;
  double acc = 0;
  double best = kNaN;
  for (double x : *values) {
    if (!src.predicates.empty() && !kept(src, x)) {
      if (failed) return kNaN;
      continue;
    }
    ++kept_;
    switch (op.fn) {
      case ListFn::kAll:
        if (!holds(op.predicate, x)) return failed ? kNaN : 0;
        break;
      case ListFn::kAny:
        if (holds(op.predicate, x)) return failed ? kNaN : 1;
        break;
      case ListFn::kNone:
        if (holds(op.predicate, x)) return failed ? kNaN : 0;
        break;
      case ListFn::kOne:
      case ListFn::kCount:
        matches += holds(op.predicate, x);
        if (op.fn == ListFn::kOne && matches > 1) return failed ? kNaN : 0;
        break;
      case ListFn::kSum:
      case ListFn::kMean:
        acc += x;
        break;
      case ListFn::kMin:
        best = kept_ == 1 ? x : fnMin(std::array<double, 2>{best, x}.data(), 2);
        break;
      case ListFn::kMax:
        best = kept_ == 1 ? x : fnMax(std::array<double, 2>{best, x}.data(), 2);
        break;
      case ListFn::kLen:
        break;
    }
    if (failed) return kNaN;
  }
  switch (op.fn) {
    case ListFn::kLen:
      return static_cast<double>(kept_);
    case ListFn::kAll:
      return 1;
    case ListFn::kAny:
      return 0;
    case ListFn::kNone:
      return 1;
    case ListFn::kOne:
      return matches == 1;
    case ListFn::kCount:
      return static_cast<double>(matches);
    case ListFn::kSum:
      return acc;
    case ListFn::kMean:
    case ListFn::kMin:
    case ListFn::kMax:
      if (kept_ == 0) {
        fail(std::string(op.name) + "() of an empty list: " + emptyMessage(src));
        return kNaN;
      }
      return op.fn == ListFn::kMean ? acc / static_cast<double>(kept_) : best;
  }
  return kNaN;
}

double Impl::at(const Source& src, double index) {
  const std::vector<double>* values = numbers(src);
  if (!values) return kNaN;
  if (std::isnan(index) || index != std::trunc(index)) {
    fail("index " + shown(index) + " is not a whole number");
    return kNaN;
  }
  size_t n = values->size();
  if (!src.predicates.empty()) {
    n = 0;
    for (double x : *values) n += kept(src, x);
    if (failed) return kNaN;
  }
  const double wanted = index < 0 ? index + static_cast<double>(n) : index;
  if (wanted < 0 || wanted >= static_cast<double>(n)) {
    if (n == 0) {
      fail(emptyMessage(src));
    } else {
      fail("index " + shown(index) + " is out of range: " +
           (src.predicates.empty() ? listName(src) + " has " : "the filtered list has ") + std::to_string(n) +
           (n == 1 ? " value" : " values"));
    }
    return kNaN;
  }
  size_t k = static_cast<size_t>(wanted);
  if (src.predicates.empty()) return (*values)[k];
  for (double x : *values) {
    if (kept(src, x) && k-- == 0) return x;
  }
  return kNaN;
}

namespace {

// kList: a list of numbers; kValues: a list holding more than numbers (read by written indexes).
enum class Type { kAny, kNumber, kBool, kString, kList, kNil, kObject, kValues, kPoison };

// A lowered subexpression: muParser text for numbers and bools; what stands behind strings and lists.
struct Lowered {
  Type type = Type::kAny;
  std::string text;
  int path = -1;          // the value at this path of the result (0: `result` itself); -1: not the result's
  int source = 0;         // kList: which Source
  std::string literal;    // kString, unless the result's
  int fail = -1;          // kPoison: evaluating this fails with this message
  bool chainNil = false;  // kNil from `?.` on nil: the members and indexes after it are nil too

  bool isResult() const { return path == 0; }
  bool ofResult() const { return path >= 0; }
};

Lowered ofType(Type t, std::string text = {}) {
  Lowered l;
  l.type = t;
  l.text = std::move(text);
  return l;
}

std::string typeName(const Lowered& v) {
  switch (v.type) {
    case Type::kNumber:
      return "a number";
    case Type::kBool:
      return "a bool";
    case Type::kString:
      return "a string";
    case Type::kNil:
      return "nil";
    case Type::kList:
      return v.isResult() ? std::string(kResultPlaceholder) : "a list of numbers";
    case Type::kObject:
      return "an object";
    case Type::kValues:
      return v.isResult() ? std::string(kResultPlaceholder) : "a list of values";
    case Type::kAny:
      return "result";  // only result's type is unknown at compile time
    case Type::kPoison:
      break;
  }
  return "a value";
}

bool nilOfResult(const Lowered& v) { return v.type == Type::kNil && v.ofResult(); }

// A number written out in a list: 1, -2.5.
std::optional<double> constantNumber(const Node& n) {
  if (n.kind == NodeKind::kNumber) return n.number;
  if (n.kind == NodeKind::kUnary && (n.op == Op::kNeg || n.op == Op::kPlus)) {
    auto v = constantNumber(n.args[0]);
    if (v && n.op == Op::kNeg) return -*v;
    return v;
  }
  return std::nullopt;
}

// Type-checks and lowers a tree. With no kind, `result` has an unknown type, every error found is one for
// any result and so a compile error; with a kind, errors become callbacks that fail when reached.
class Lowerer {
 public:
  // `sample`: the result whose kind (and shape, for an object) the program is for; null while checking.
  Lowerer(Impl& impl, const Value* sample) : impl_(impl), sample_(sample) {
    if (sample) kind_ = sample->kind();
  }

  std::optional<Error> compileError;

  Lowered lower(const Node& n) {
    switch (n.kind) {
      case NodeKind::kNumber:
        return ofType(Type::kNumber, numberText(n.number));
      case NodeKind::kBool:
        return ofType(Type::kBool, n.boolean ? "1" : "0");
      case NodeKind::kString: {
        Lowered l = ofType(Type::kString);
        l.literal = n.text;
        return l;
      }
      case NodeKind::kNil:
        return ofType(Type::kNil);
      case NodeKind::kElement:
        return ofType(Type::kNumber, "sl_e" + std::to_string(n.depth - 1));
      case NodeKind::kResult:
        return result();
      case NodeKind::kUnary:
        return unary(n);
      case NodeKind::kBinary:
        return binary(n);
      case NodeKind::kIndex:
        return index(n);
      case NodeKind::kMember:
        return memberOf(n, lower(n.args[0]), n.text, n.boolean);
      case NodeKind::kList:
        return listLiteral(n);
      case NodeKind::kConditional:
        return conditional(n);
      case NodeKind::kCall:
        return call(n);
    }
    return ofType(Type::kAny);
  }

  // The predicate of a list function, as an index into impl.predicates (-1 while only checking).
  int predicate(const Node& fn, const Node& body) {
    ++depth_;
    Lowered b = lower(body);
    --depth_;
    if (b.type == Type::kPoison) b = ofType(Type::kBool, failCall(b.fail));
    if (b.type != Type::kBool && b.type != Type::kAny) {
      b = error(
          body, Type::kBool,
          "the predicate of " + fn.text + "() gives " + typeName(b) + ", not true or false, e.g. # < 1000");
    }
    if (!kind_) return -1;
    impl_.predicates.push_back({impl_.newParser(b.text), depth_});
    return static_cast<int>(impl_.predicates.size()) - 1;
  }

 private:
  Lowered result() {
    Lowered l;
    l.path = 0;
    if (!kind_) return l;
    switch (*kind_) {
      case Value::Kind::kNil:
        l.type = Type::kNil;
        break;
      case Value::Kind::kNumber:
        l.type = Type::kNumber;
        l.text = "sl_r";
        break;
      case Value::Kind::kBool:
        l.type = Type::kBool;
        l.text = "sl_r";
        break;
      case Value::Kind::kString:
        l.type = Type::kString;
        break;
      case Value::Kind::kVector:
        l.type = Type::kList;
        l.source = 0;
        break;
      case Value::Kind::kObject:
        l.type = Type::kObject;
        break;
      case Value::Kind::kList:
        l.type = Type::kValues;
        break;
    }
    return l;
  }

  // Why a nil of the result cannot be used: `result` itself, or a member that is missing or null.
  std::string nilMessage(const Lowered& v) const {
    if (v.isResult()) return kNilResult;
    const std::string name = impl_.pathName(v.path);
    return name + " is nil (the result has no such member, or it is null): test " + name +
           " == nil or give a default, e.g. " + name + " ?? 0";
  }

  int internPath(Impl::Path path) {
    for (size_t i = 0; i < impl_.paths.size(); ++i) {
      if (impl_.paths[i] == path) return static_cast<int>(i);
    }
    impl_.paths.push_back(std::move(path));
    return static_cast<int>(impl_.paths.size()) - 1;
  }

  // base.name, base?.name or base["name"]. Only an object of the result has members; a missing member is
  // nil, as in expr. The shape the program is for gives each member's type.
  Lowered memberOf(const Node& at, const Lowered& base, const std::string& name, bool optional) {
    const std::string quoted = "\"" + name + "\"";
    if (base.type == Type::kPoison) return base;
    if (base.type == Type::kAny) return ofType(Type::kAny);
    if (base.type == Type::kNil) {
      if (optional || base.chainNil) {
        Lowered l = ofType(Type::kNil);
        l.chainNil = true;
        return l;
      }
      if (base.ofResult()) return error(at, Type::kAny, nilMessage(base) + "; or read it with ?.");
      return error(at, Type::kAny, "cannot read member " + quoted + " of nil");
    }
    if (base.type != Type::kObject) {
      std::string hint;
      if (base.type == Type::kList) hint = ": index it (result[0]) or use all()/any()";
      if (base.type == Type::kValues) hint = ": read an element's, e.g. result[0]." + name;
      return error(at, Type::kAny, "cannot read member " + quoted + " of " + typeName(base) + hint);
    }
    return step(base, Impl::Step{name, -1});
  }

  // The value one step below `base` (an object or a list of values of the result), typed by the shape the
  // program is for; a missing member is nil.
  Lowered step(const Lowered& base, Impl::Step next) {
    Impl::Path path = impl_.paths[static_cast<size_t>(base.path)];
    path.push_back(std::move(next));
    Lowered l;
    l.path = internPath(std::move(path));
    const Value* v = impl_.resolve(*sample_, l.path);
    switch (v ? v->kind() : Value::Kind::kNil) {
      case Value::Kind::kNil:
        l.type = Type::kNil;
        break;
      case Value::Kind::kNumber:
      case Value::Kind::kBool:
        l.type = v->kind() == Value::Kind::kNumber ? Type::kNumber : Type::kBool;
        l.text = "sl_num(" + std::to_string(l.path) + ")";
        break;
      case Value::Kind::kString:
        l.type = Type::kString;
        break;
      case Value::Kind::kVector: {
        Impl::Source src;
        src.path = l.path;
        impl_.sources.push_back(std::move(src));
        l.type = Type::kList;
        l.source = static_cast<int>(impl_.sources.size()) - 1;
        break;
      }
      case Value::Kind::kObject:
        l.type = Type::kObject;
        break;
      case Value::Kind::kList:
        l.type = Type::kValues;
        break;
    }
    return l;
  }

  // An element of a list of values: its index must be written out (its type depends on which element).
  Lowered element(const Node& n, const Lowered& base) {
    const auto index = constantNumber(n.args[1]);
    if (!index) {
      return error(n.args[1], Type::kAny,
                   "a list holding more than numbers is indexed with a number written out, e.g. result[0]");
    }
    const size_t size = impl_.resolve(*sample_, base.path)->asList().size();
    if (*index != std::trunc(*index))
      return error(n, Type::kAny, "index " + shown(*index) + " is not a whole number");
    const double wanted = *index < 0 ? *index + static_cast<double>(size) : *index;
    if (wanted < 0 || wanted >= static_cast<double>(size)) {
      return error(n, Type::kAny,
                   "index " + shown(*index) + " is out of range: " + impl_.pathName(base.path) + " has " +
                       std::to_string(size) + (size == 1 ? " value" : " values"));
    }
    return step(base, Impl::Step{"", static_cast<int>(wanted)});
  }

  // [1, -2.5]: numbers written out, a list of constants.
  Lowered listLiteral(const Node& n) {
    std::vector<double> values;
    for (const Node& e : n.args) {
      auto v = constantNumber(e);
      if (!v) return error(e, Type::kList, "a list written out may hold only numbers, e.g. [0, 1.5]");
      values.push_back(*v);
    }
    impl_.constantLists.push_back(std::move(values));
    Impl::Source src;
    src.constants = static_cast<int>(impl_.constantLists.size()) - 1;
    impl_.sources.push_back(std::move(src));
    Lowered l = ofType(Type::kList);
    l.source = static_cast<int>(impl_.sources.size()) - 1;
    return l;
  }

  // cond ? a : b. The branches must both be numbers or both bools: muParser's ?: evaluates only the
  // branch taken. A condition already known for this kind of result (a nil test, a literal) picks its
  // branch now, so the other may be of any type: `result.x != nil ? result.x : 0`.
  Lowered conditional(const Node& n) {
    Lowered c = lower(n.args[0]);
    if (c.type != Type::kPoison && !is(c, Type::kBool)) {
      return wrongArgument(n, Type::kAny, "the condition of ?: must be a bool", c);
    }
    if (kind_ && (c.text == "1" || c.text == "0")) return lower(n.args[c.text == "1" ? 1 : 2]);
    Lowered a = lower(n.args[1]);
    Lowered b = lower(n.args[2]);
    if (c.type == Type::kPoison) return c;
    if (a.type == Type::kPoison && b.type == Type::kPoison) {
      return ofType(Type::kBool, "((" + c.text + ")?" + failCall(a.fail) + ":" + failCall(b.fail) + ")");
    }
    const Lowered& typed = a.type == Type::kPoison || a.type == Type::kAny ? b : a;
    if (typed.type == Type::kAny || typed.type == Type::kPoison) return ofType(Type::kAny);
    if (typed.type != Type::kNumber && typed.type != Type::kBool) {
      return error(n, Type::kAny, "?: must choose between two numbers or two bools, got " + typeName(typed));
    }
    for (const Lowered* branch : {&a, &b}) {
      if (branch->type != typed.type && branch->type != Type::kAny && branch->type != Type::kPoison) {
        return error(n, typed.type,
                     "the branches of ?: give " + typeName(a) + " and " + typeName(b) + ": they must agree");
      }
    }
    auto text = [&](const Lowered& v) {
      return v.type == Type::kPoison ? failCall(v.fail) : v.type == Type::kAny ? std::string("0") : v.text;
    };
    return ofType(typed.type, "((" + c.text + ")?(" + text(a) + "):(" + text(b) + "))");
  }

  // a ?? b: b when a is nil. Whether a is nil is known for each kind (and shape) of result, so b is
  // lowered, and so evaluated, only where a is nil.
  Lowered coalesce(const Node& n) {
    Lowered a = lower(n.args[0]);
    if (kind_) return a.type == Type::kNil ? lower(n.args[1]) : a;
    Lowered b = lower(n.args[1]);
    if (a.type == Type::kNil) return b;
    return a.type == Type::kAny ? ofType(Type::kAny) : a;
  }

  static std::string failCall(int site) { return "sl_fail(" + std::to_string(site) + ")"; }

  // A type error at `at`. `natural` is what the node would have given, so that the nodes above it can
  // still be checked.
  Lowered error(const Node& at, Type natural, const std::string& message) {
    if (!kind_) {
      if (!compileError) compileError = Error{"column " + std::to_string(at.column) + ": " + message};
      return ofType(natural, natural == Type::kBool || natural == Type::kNumber ? "0" : "");
    }
    impl_.fails.push_back(message);
    const int site = static_cast<int>(impl_.fails.size()) - 1;
    if (natural == Type::kNumber || natural == Type::kBool) return ofType(natural, failCall(site));
    Lowered l = ofType(Type::kPoison);
    l.fail = site;
    return l;
  }

  // Mismatched operands: names both types, and says what to do when one is a list, nil or a string.
  Lowered mismatch(const Node& at, Type natural, const std::string& what, const Lowered& a, const Lowered& b,
                   const std::string& joiner = "with") {
    if (nilOfResult(a) || nilOfResult(b)) return error(at, natural, nilMessage(nilOfResult(a) ? a : b));
    if (a.type == Type::kString && b.type == Type::kString) {
      return error(at, natural, "strings can only be compared with == and !=");
    }
    std::string hint;
    if (a.type == Type::kList || b.type == Type::kList) {
      hint = kListHint;
    } else if ((a.type == Type::kString && b.type == Type::kNumber) ||
               (a.type == Type::kNumber && b.type == Type::kString)) {
      hint = ": use asFloat(result) to read a number from a string";
    }
    return error(at, natural, what + " " + typeName(a) + " " + joiner + " " + typeName(b) + hint);
  }

  // An argument of the wrong type for a function or operator that takes one.
  Lowered wrongArgument(const Node& at, Type natural, const std::string& what, const Lowered& a) {
    if (nilOfResult(a)) return error(at, natural, nilMessage(a));
    std::string hint;
    if (a.type == Type::kList) hint = kListHint;
    if (a.type == Type::kValues) hint = ": it holds more than numbers; read an element, e.g. result[0]";
    if (a.type == Type::kNumber && a.isResult())
      hint = ": result is a single number; compare it directly, e.g. result >= 0.95";
    return error(at, natural, what + ", got " + typeName(a) + hint);
  }

  static bool is(const Lowered& v, Type t) { return v.type == t || v.type == Type::kAny; }

  Lowered unary(const Node& n) {
    Lowered a = lower(n.args[0]);
    const Type natural = n.op == Op::kNot ? Type::kBool : Type::kNumber;
    if (a.type == Type::kPoison) return ofType(natural, failCall(a.fail));
    if (n.op == Op::kNot) {
      if (!is(a, Type::kBool)) return wrongArgument(n, natural, n.text + " needs a bool", a);
      return ofType(natural, "((" + a.text + ")==0)");
    }
    if (!is(a, Type::kNumber)) return wrongArgument(n, natural, "unary " + n.text + " needs a number", a);
    return ofType(natural, n.op == Op::kNeg ? "(-(" + a.text + "))" : a.text);
  }

  Lowered binary(const Node& n) {
    if (n.op == Op::kCoalesce) return coalesce(n);
    Lowered a = lower(n.args[0]);
    Lowered b = lower(n.args[1]);
    if (n.op == Op::kAnd || n.op == Op::kOr) {
      // Only the left side is always evaluated; an error on the right stays behind the short circuit.
      if (a.type == Type::kPoison) return ofType(Type::kBool, failCall(a.fail));
      if (b.type == Type::kPoison) b = ofType(Type::kBool, failCall(b.fail));
      const std::string op(condition::opName(n.op));
      if (!is(a, Type::kBool))
        return wrongArgument(n, Type::kBool, "the left side of " + op + " must be a bool", a);
      if (!is(b, Type::kBool))
        return wrongArgument(n, Type::kBool, "the right side of " + op + " must be a bool", b);
      return ofType(Type::kBool, n.op == Op::kAnd ? "((" + a.text + ")?(" + b.text + "):0)"
                                                  : "((" + a.text + ")?1:(" + b.text + "))");
    }
    const bool comparison = n.op == Op::kEq || n.op == Op::kNe || n.op == Op::kLt || n.op == Op::kGt ||
                            n.op == Op::kLe || n.op == Op::kGe;
    const Type natural = comparison ? Type::kBool : Type::kNumber;
    if (a.type == Type::kPoison) return ofType(natural, failCall(a.fail));
    if (b.type == Type::kPoison) return ofType(natural, failCall(b.fail));
    if (n.op == Op::kEq || n.op == Op::kNe) return equality(n, a, b);
    const std::string op(condition::opName(n.op));
    if (!is(a, Type::kNumber) || !is(b, Type::kNumber)) {
      if (comparison && (a.type == Type::kString || b.type == Type::kString)) {
        return error(n, natural, "strings can only be compared with == and !=");
      }
      if (comparison) return mismatch(n, natural, "cannot compare", a, b);
      return mismatch(n, natural, "cannot apply " + op + " to", a, b, "and");
    }
    const std::string l = "(" + a.text + ")";
    const std::string r = "(" + b.text + ")";
    switch (n.op) {
      case Op::kMod:
        return ofType(natural, "sl_mod(" + a.text + "," + b.text + ")");
      case Op::kPow:
        return ofType(natural, "(" + l + "^" + r + ")");
      default:
        return ofType(natural, "(" + l + op + r + ")");
    }
  }

  Lowered equality(const Node& n, const Lowered& a, const Lowered& b) {
    const bool eq = n.op == Op::kEq;
    const std::string yes = eq ? "1" : "0";
    const std::string no = eq ? "0" : "1";
    if (a.type == Type::kAny || b.type == Type::kAny) return ofType(Type::kBool, "0");
    if (a.type == Type::kNil || b.type == Type::kNil) {
      if (a.type == b.type) return ofType(Type::kBool, yes);
      // Comparing with nil does not look at the value, but an error in computing it still counts.
      const Lowered& other = a.type == Type::kNil ? b : a;
      if (other.type == Type::kNumber || other.type == Type::kBool) {
        return ofType(Type::kBool, "((" + other.text + ")?" + no + ":" + no + ")");
      }
      return ofType(Type::kBool, no);
    }
    if (a.type == Type::kList && b.type == Type::kList) {
      return error(n, Type::kBool, "cannot compare two lists: compare their elements with all() or any()");
    }
    if (a.type == b.type && (a.type == Type::kObject || a.type == Type::kValues)) {
      return error(n, Type::kBool,
                   "cannot compare two " + std::string(a.type == Type::kObject ? "objects" : "lists") +
                       ": compare their members");
    }
    if (a.type != b.type || a.type == Type::kList || a.type == Type::kObject || a.type == Type::kValues) {
      return mismatch(n, Type::kBool, "cannot compare", a, b);
    }
    if (a.type == Type::kString) {
      if (a.ofResult() && b.ofResult() && a.path == b.path) return ofType(Type::kBool, yes);
      if (!a.ofResult() && !b.ofResult()) return ofType(Type::kBool, a.literal == b.literal ? yes : no);
      std::string call;
      if (a.ofResult() && b.ofResult()) {
        call = "sl_streq2(" + std::to_string(a.path) + "," + std::to_string(b.path) + ")";
      } else {
        impl_.strings.push_back(a.ofResult() ? b.literal : a.literal);
        call = "sl_streq(" + std::to_string(a.ofResult() ? a.path : b.path) + "," +
               std::to_string(impl_.strings.size() - 1) + ")";
      }
      return ofType(Type::kBool, eq ? call : "(1-" + call + ")");
    }
    return ofType(Type::kBool, "((" + a.text + ")" + (eq ? "==" : "!=") + "(" + b.text + "))");
  }

  Lowered index(const Node& n) {
    Lowered base = lower(n.args[0]);
    // A string written out names a member: result["name"] is result.name, for any name.
    if (n.args[1].kind == NodeKind::kString) return memberOf(n, base, n.args[1].text, false);
    Lowered idx = lower(n.args[1]);
    if (base.type == Type::kPoison) return ofType(Type::kNumber, failCall(base.fail));
    if (idx.type == Type::kPoison) return ofType(Type::kNumber, failCall(idx.fail));
    if (idx.type == Type::kString) {
      return error(n.args[1], Type::kNumber, "a member name must be written out, e.g. result[\"name\"]");
    }
    if (!is(idx, Type::kNumber))
      return wrongArgument(n.args[1], Type::kNumber, "an index must be a number", idx);
    if (base.type == Type::kAny) return ofType(Type::kAny);  // result[0] may be a number, or anything
    if (base.chainNil) return base;
    if (base.type == Type::kValues) return element(n, base);
    if (base.type == Type::kList) {
      return ofType(Type::kNumber, "sl_at(" + std::to_string(base.source) + ",(" + idx.text + "))");
    }
    if (nilOfResult(base)) return error(n, Type::kNumber, nilMessage(base));
    if (base.type == Type::kObject) {
      return error(n, Type::kNumber,
                   "cannot index an object: read a member, e.g. result.name or result[\"name\"]");
    }
    if (base.type == Type::kNumber && base.isResult()) {
      return error(n, Type::kNumber,
                   "cannot index a number: result is a single number (a scalar); compare it directly, e.g. "
                   "result >= 0.95");
    }
    return error(n, Type::kNumber, "cannot index " + typeName(base) + ": only a list can be indexed");
  }

  Lowered listOp(ListFn fn, const Node& n, int source, int predicate) {
    impl_.listOps.push_back({fn, functionName(n.fn), source, predicate});
    return ofType(fn == ListFn::kAll || fn == ListFn::kAny || fn == ListFn::kNone || fn == ListFn::kOne
                      ? Type::kBool
                      : Type::kNumber,
                  "sl_list(" + std::to_string(impl_.listOps.size() - 1) + ")");
  }

  static std::string_view functionName(Fn fn) {
    switch (fn) {
      case Fn::kLen:
        return "len";
      case Fn::kSum:
        return "sum";
      case Fn::kMean:
        return "mean";
      case Fn::kMin:
        return "min";
      case Fn::kMax:
        return "max";
      default:
        return "";
    }
  }

  Lowered call(const Node& n) {
    switch (n.fn) {
      case Fn::kLen:
        return length(n);
      case Fn::kAll:
        return withPredicate(n, ListFn::kAll, Type::kBool);
      case Fn::kAny:
        return withPredicate(n, ListFn::kAny, Type::kBool);
      case Fn::kNone:
        return withPredicate(n, ListFn::kNone, Type::kBool);
      case Fn::kOne:
        return withPredicate(n, ListFn::kOne, Type::kBool);
      case Fn::kCount:
        return withPredicate(n, ListFn::kCount, Type::kNumber);
      case Fn::kFilter:
        return withPredicate(n, ListFn::kLen, Type::kList);
      case Fn::kSum:
        return aggregate(n, ListFn::kSum);
      case Fn::kMean:
        return aggregate(n, ListFn::kMean);
      case Fn::kMin:
        return aggregate(n, ListFn::kMin);
      case Fn::kMax:
        return aggregate(n, ListFn::kMax);
      case Fn::kAbs:
        return numeric(n, Type::kNumber, "abs");
      case Fn::kIsNaN:
        return numeric(n, Type::kBool, "sl_isnan");
      case Fn::kIsInf:
        return numeric(n, Type::kBool, "sl_isinf");
      case Fn::kIsNil:
        if (!kind_) return ofType(Type::kBool, "0");
        return ofType(Type::kBool, *kind_ == Value::Kind::kNil ? "1" : "0");
      case Fn::kDefault:
        if (!kind_) {
          (void)lower(n.args[1]);
          return ofType(Type::kAny);
        }
        return lower(n.args[*kind_ == Value::Kind::kNil ? 1 : 0]);
      case Fn::kAsInt:
      case Fn::kAsFloat:
        return conversion(n);
    }
    return ofType(Type::kAny);
  }

  Lowered length(const Node& n) {
    Lowered a = lower(n.args[0]);
    if (a.type == Type::kPoison) return ofType(Type::kNumber, failCall(a.fail));
    if (a.type == Type::kAny) return ofType(Type::kNumber, "0");
    if (a.type == Type::kList) return listOp(ListFn::kLen, n, a.source, -1);
    if (a.type == Type::kString) {
      return ofType(Type::kNumber, a.ofResult() ? "sl_strlen(" + std::to_string(a.path) + ")"
                                                : numberText(static_cast<double>(codePoints(a.literal))));
    }
    if (a.type == Type::kObject || a.type == Type::kValues) {  // fixed by the shape
      const Value* v = impl_.resolve(*sample_, a.path);
      const size_t size = a.type == Type::kObject ? v->asObject().size() : v->asList().size();
      return ofType(Type::kNumber, numberText(static_cast<double>(size)));
    }
    return wrongArgument(n, Type::kNumber, "len() needs a list or a string", a);
  }

  Lowered withPredicate(const Node& n, ListFn fn, Type natural) {
    Lowered list = lower(n.args[0]);
    const int pred = predicate(n, n.args[1]);
    if (list.type == Type::kPoison) {
      if (natural == Type::kList) return list;
      return ofType(natural, failCall(list.fail));
    }
    if (list.type == Type::kAny) return ofType(natural, natural == Type::kList ? "" : "0");
    if (list.type != Type::kList) return wrongArgument(n, natural, n.text + "() needs a list", list);
    if (natural != Type::kList) return listOp(fn, n, list.source, pred);
    Impl::Source filtered = impl_.sources[static_cast<size_t>(list.source)];
    filtered.predicates.push_back(pred);
    impl_.sources.push_back(std::move(filtered));
    Lowered l = ofType(Type::kList);
    l.source = static_cast<int>(impl_.sources.size()) - 1;
    return l;
  }

  Lowered aggregate(const Node& n, ListFn fn) {
    std::vector<Lowered> args;
    for (const Node& arg : n.args) args.push_back(lower(arg));
    for (const Lowered& a : args) {
      if (a.type == Type::kPoison) return ofType(Type::kNumber, failCall(a.fail));
    }
    if (args.size() == 1 && args[0].type == Type::kList) return listOp(fn, n, args[0].source, -1);
    std::string joined;
    for (size_t i = 0; i < args.size(); ++i) {
      if (!is(args[i], Type::kNumber)) {
        return wrongArgument(n.args[i], Type::kNumber, n.text + "() needs one list or several numbers",
                             args[i]);
      }
      joined += (i ? "," : "") + std::string("(") + args[i].text + ")";
    }
    if (args.size() == 1) return ofType(Type::kNumber, args[0].text);
    std::string sum;
    for (size_t i = 0; i < args.size(); ++i) sum += (i ? "+(" : "(") + args[i].text + ")";
    switch (fn) {
      case ListFn::kSum:
        return ofType(Type::kNumber, "(" + sum + ")");
      case ListFn::kMean:
        return ofType(Type::kNumber, "((" + sum + ")/" + std::to_string(args.size()) + ")");
      case ListFn::kMin:
        return ofType(Type::kNumber, "sl_min(" + joined + ")");
      default:
        return ofType(Type::kNumber, "sl_max(" + joined + ")");
    }
  }

  Lowered numeric(const Node& n, Type natural, const std::string& function) {
    Lowered a = lower(n.args[0]);
    if (a.type == Type::kPoison) return ofType(natural, failCall(a.fail));
    if (!is(a, Type::kNumber)) return wrongArgument(n, natural, n.text + "() needs a number", a);
    return ofType(natural, function + "(" + a.text + ")");
  }

  Lowered conversion(const Node& n) {
    const bool toInt = n.fn == Fn::kAsInt;
    Lowered a = lower(n.args[0]);
    if (a.type == Type::kPoison) return ofType(Type::kNumber, failCall(a.fail));
    if (a.type == Type::kAny) return ofType(Type::kNumber, "0");
    if (a.type == Type::kNumber) return ofType(Type::kNumber, toInt ? "sl_asint(" + a.text + ")" : a.text);
    if (a.type == Type::kString && a.ofResult()) {
      return ofType(Type::kNumber, (toInt ? "sl_strint(" : "sl_strfloat(") + std::to_string(a.path) + ")");
    }
    if (a.type == Type::kString) {
      auto v = toInt ? parseIntText(a.literal) : parseFloatText(a.literal);
      if (v) return ofType(Type::kNumber, numberText(*v));
      return error(n, Type::kNumber,
                   n.text + "(): " + quotedForMessage(a.literal) + " is not " +
                       (toInt ? "a whole number" : "a number"));
    }
    return wrongArgument(n, Type::kNumber, n.text + "() needs a number or a numeric string", a);
  }

  Impl& impl_;
  const Value* sample_ = nullptr;
  std::optional<Value::Kind> kind_;
  int depth_ = 0;
};

int startColumn(const Node& n) {
  if ((n.kind == NodeKind::kBinary || n.kind == NodeKind::kIndex || n.kind == NodeKind::kMember ||
       n.kind == NodeKind::kConditional) &&
      !n.args.empty())
    return startColumn(n.args[0]);
  return n.column;
}

std::string notABool(const Lowered& top) {
  std::string hint;
  switch (top.type) {
    case Type::kNumber:
      hint = ": compare it, e.g. result >= 0.95";
      break;
    case Type::kString:
      hint = ": compare it, e.g. result == \"ok\"";
      break;
    case Type::kList:
      hint = ": use all()/any() or index it (result[0])";
      break;
    case Type::kNil:
      hint = top.ofResult() && !top.isResult() ? ": compare it with nil, or give a default with ??"
                                               : ": use isNil(result) or default(result, 0)";
      break;
    case Type::kObject:
      hint = ": read a member, e.g. result.ok";
      break;
    case Type::kValues:
      hint = ": read an element, e.g. result[0]";
      break;
    default:
      break;
  }
  return "the condition gives " + typeName(top) + ", not true or false" + hint;
}

}  // namespace

CompiledCondition::CompiledCondition(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompiledCondition::CompiledCondition(CompiledCondition&&) noexcept = default;
CompiledCondition& CompiledCondition::operator=(CompiledCondition&&) noexcept = default;
CompiledCondition::~CompiledCondition() = default;

const std::string& CompiledCondition::source() const { return impl_->source; }

Impl::Program Impl::lowerProgram(const Value& sample) {
  Lowerer lowerer(*this, &sample);
  const Lowered program = lowerer.lower(tree);
  Program out;
  if (program.type == Type::kPoison) {
    out.fail = program.fail;
  } else if (program.type != Type::kBool) {
    fails.push_back(notABool(program));
    out.fail = static_cast<int>(fails.size()) - 1;
  } else {
    out.parser = newParser(program.text);
  }
  out.lowered = true;
  return out;
}

const Impl::Program* Impl::programFor(const Value& result) {
  if (!hasShape(result.kind())) {
    Program& program = programs[static_cast<int>(result.kind())];
    if (!program.lowered) program = lowerProgram(result);
    return &program;
  }
  std::string shape;
  appendShape(result, shape);
  for (auto& [known, program] : shapes) {
    if (known == shape) return &program;
  }
  if (shapes.size() >= kMaxShapes) return nullptr;
  Program program = lowerProgram(result);
  shapes.emplace_back(std::move(shape), std::move(program));
  return &shapes.back().second;
}

Result<CompiledCondition> compile(std::string_view condition) {
  auto tree = condition::parse(condition);
  if (!tree) return Error{tree.error()};
  auto impl = std::make_unique<Impl>();
  impl->source = std::string(condition);
  try {
    Lowerer check(*impl, nullptr);
    const Lowered top = check.lower(*tree);
    if (check.compileError) return *check.compileError;
    if (top.type != Type::kAny && top.type != Type::kBool) {
      return Error{"column " + std::to_string(startColumn(*tree)) + ": " + notABool(top)};
    }
    impl->tree = std::move(*tree);
  } catch (const mu::Parser::exception_type& e) {
    return Error{"internal error: the condition did not compile to muParser: " + e.GetMsg()};
  } catch (const std::exception& e) {
    return Error{std::string("internal error compiling the condition: ") + e.what()};
  }
  return CompiledCondition(std::move(impl));
}

Result<bool> CompiledCondition::evaluate(const Value& result) const {
  Impl& im = *impl_;
  const Impl::Program* found = nullptr;
  try {
    found = im.programFor(result);
  } catch (const mu::Parser::exception_type& e) {
    return Error{"internal error: the condition did not compile to muParser: " + e.GetMsg()};
  } catch (const std::exception& e) {
    return Error{std::string("internal error compiling the condition: ") + e.what()};
  }
  if (!found) {
    return Error{"the result's objects came in more than " + std::to_string(kMaxShapes) +
                 " shapes (members and their types): a condition compiles one program per shape"};
  }
  const Impl::Program& program = *found;
  im.current = &result;
  if (program.fail >= 0) {
    Error e{im.failMessage(program.fail)};
    im.current = nullptr;
    return e;
  }
  if (result.kind() == Value::Kind::kNumber) im.r = result.asNumber();
  if (result.kind() == Value::Kind::kBool) im.r = result.asBool() ? 1 : 0;
  im.failed = false;
  double out = 0;
  try {
    out = program.parser->Eval();
  } catch (const mu::Parser::exception_type& e) {
    im.current = nullptr;
    return Error{"internal error evaluating the condition: " + e.GetMsg()};
  }
  im.current = nullptr;
  if (im.failed) return Error{std::move(im.message)};
  return out != 0;
}

}  // namespace sluice::analysis
