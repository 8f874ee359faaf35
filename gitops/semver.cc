// Semantic versions and Masterminds-style ranges (see semver.h): each comparison is expanded into plain
// bounds once, at parse time, so matching a tag is a few comparisons.
#include "gitops/semver.h"

#include <algorithm>
#include <cctype>

namespace sluice::gitops {

namespace {

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::optional<uint64_t> number(std::string_view s) {
  if (!allDigits(s) || s.size() > 18) return std::nullopt;
  if (s.size() > 1 && s[0] == '0') return std::nullopt;  // SemVer forbids leading zeros
  uint64_t n = 0;
  for (char c : s) n = n * 10 + static_cast<uint64_t>(c - '0');
  return n;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

bool validIdentifiers(const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    if (id.empty()) return false;
    if (!std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) || c == '-'; }))
      return false;
  }
  return true;
}

// A version as a range operand: up to three numbers, a wildcard (x, X, *) or absence ending the precision.
struct Partial {
  int parts = 0;  // how many numbers were given (0 for `*`)
  SemVer version;
};

std::optional<Partial> parsePartial(std::string_view text) {
  if (!text.empty() && (text[0] == 'v' || text[0] == 'V')) text.remove_prefix(1);
  Partial p;
  std::string_view core = text;
  if (auto plus = core.find('+'); plus != std::string_view::npos) {
    p.version.build = std::string(core.substr(plus + 1));
    core = core.substr(0, plus);
  }
  if (auto dash = core.find('-'); dash != std::string_view::npos) {
    p.version.prerelease = split(core.substr(dash + 1), '.');
    if (!validIdentifiers(p.version.prerelease)) return std::nullopt;
    core = core.substr(0, dash);
  }
  const auto nums = split(core, '.');
  if (nums.size() > 3) return std::nullopt;
  uint64_t* fields[] = {&p.version.major, &p.version.minor, &p.version.patch};
  bool wild = false;
  for (size_t i = 0; i < nums.size(); ++i) {
    if (nums[i] == "x" || nums[i] == "X" || nums[i] == "*") {
      wild = true;
      continue;
    }
    if (wild) return std::nullopt;  // `1.x.3`
    auto n = number(nums[i]);
    if (!n) return std::nullopt;
    *fields[i] = *n;
    p.parts = static_cast<int>(i) + 1;
  }
  if (p.parts < 3 && !p.version.prerelease.empty()) return std::nullopt;  // `1.2-rc` has no meaning
  return p;
}

// The first version past everything `p` covers at its precision: 1.2 -> 1.3.0, 1 -> 2.0.0, 1.2.3 -> 1.2.4.
SemVer next(const Partial& p) {
  SemVer v;
  v.major = p.version.major;
  if (p.parts <= 1) {
    v.major += 1;
  } else if (p.parts == 2) {
    v.minor = p.version.minor + 1;
  } else {
    v.minor = p.version.minor;
    v.patch = p.version.patch + 1;
  }
  return v;
}

SemVer floor(const Partial& p) {
  SemVer v = p.version;
  v.build.clear();
  return v;
}

using Op = SemVerRange::Bound::Op;

// Expands one comparison (`op` as written, `p` its operand) into bounds; an error names what is wrong.
Status expand(const std::string& op, const Partial& p, const std::string& token,
              std::vector<SemVerRange::Bound>& out) {
  const bool full = p.parts == 3;
  auto add = [&](Op o, SemVer v) { out.push_back({o, std::move(v)}); };
  if (op.empty() || op == "=") {
    if (full) {
      add(Op::Eq, floor(p));
    } else if (p.parts > 0) {
      add(Op::Ge, floor(p));
      add(Op::Lt, next(p));
    }
  } else if (op == "!=") {
    if (!full) return Error{"\"" + token + "\": != needs a full version (MAJOR.MINOR.PATCH)"};
    add(Op::Ne, floor(p));
  } else if (op == ">") {
    if (p.parts == 0) return Error{"\"" + token + "\": nothing is greater than every version"};
    add(full ? Op::Gt : Op::Ge, full ? floor(p) : next(p));
  } else if (op == ">=" || op == "=>") {
    if (p.parts > 0) add(Op::Ge, floor(p));
  } else if (op == "<") {
    if (p.parts == 0) return Error{"\"" + token + "\": nothing is less than every version"};
    add(Op::Lt, floor(p));
  } else if (op == "<=" || op == "=<") {
    if (full) {
      add(Op::Le, floor(p));
    } else if (p.parts > 0) {
      add(Op::Lt, next(p));
    }
  } else if (op == "~" || op == "~>") {
    if (p.parts > 0) {
      add(Op::Ge, floor(p));
      Partial upTo = p;
      upTo.parts = std::min(p.parts, 2);
      add(Op::Lt, next(upTo));
    }
  } else if (op == "^") {
    if (p.parts > 0) {
      add(Op::Ge, floor(p));
      // The first non-zero part given is the one that may not change; with none, the last part given.
      Partial upTo = p;
      if (p.version.major > 0 || p.parts == 1) {
        upTo.parts = 1;
      } else if (p.version.minor > 0 || p.parts == 2) {
        upTo.parts = 2;
      } else {
        upTo.parts = 3;
      }
      add(Op::Lt, next(upTo));
    }
  } else {
    return Error{"\"" + token + "\": unknown operator \"" + op + "\""};
  }
  return Status::Ok();
}

// Splits "  >=1.2, <2" into {">=1.2", "<2"}, joining an operator written apart from its version.
std::vector<std::string> tokens(std::string_view s) {
  std::vector<std::string> raw;
  std::string cur;
  for (char c : s) {
    if (c == ' ' || c == ',' || c == '\t') {
      if (!cur.empty()) raw.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) raw.push_back(std::move(cur));
  std::vector<std::string> out;
  for (size_t i = 0; i < raw.size(); ++i) {
    const bool operatorOnly = !raw[i].empty() && std::all_of(raw[i].begin(), raw[i].end(), [](char c) {
      return c == '<' || c == '>' || c == '=' || c == '!' || c == '~' || c == '^';
    });
    if (operatorOnly && i + 1 < raw.size()) {
      out.push_back(raw[i] + raw[i + 1]);
      ++i;
    } else {
      out.push_back(raw[i]);
    }
  }
  return out;
}

bool holds(const SemVerRange::Bound& b, const SemVer& v) {
  const int c = v.compare(b.version);
  switch (b.op) {
    case Op::Eq:
      return c == 0;
    case Op::Ne:
      return c != 0;
    case Op::Gt:
      return c > 0;
    case Op::Ge:
      return c >= 0;
    case Op::Lt:
      return c < 0;
    case Op::Le:
      return c <= 0;
  }
  return false;
}

}  // namespace

int SemVer::compare(const SemVer& o) const {
  if (major != o.major) return major < o.major ? -1 : 1;
  if (minor != o.minor) return minor < o.minor ? -1 : 1;
  if (patch != o.patch) return patch < o.patch ? -1 : 1;
  if (prerelease.empty() != o.prerelease.empty()) return prerelease.empty() ? 1 : -1;
  for (size_t i = 0; i < std::min(prerelease.size(), o.prerelease.size()); ++i) {
    const auto& a = prerelease[i];
    const auto& b = o.prerelease[i];
    if (a == b) continue;
    const bool an = allDigits(a), bn = allDigits(b);
    if (an && bn) {
      if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
      return a < b ? -1 : 1;
    }
    if (an != bn) return an ? -1 : 1;  // numeric identifiers sort before alphanumeric ones
    return a < b ? -1 : 1;
  }
  if (prerelease.size() != o.prerelease.size()) return prerelease.size() < o.prerelease.size() ? -1 : 1;
  return 0;
}

std::optional<SemVer> parseSemVer(std::string_view text) {
  auto p = parsePartial(text);
  if (!p || p->parts == 0) return std::nullopt;
  // A wildcard is a range, not a version.
  const auto nums = split(text.substr(0, text.find_first_of("-+")), '.');
  if (static_cast<int>(nums.size()) != p->parts) return std::nullopt;
  return p->version;
}

Result<SemVerRange> SemVerRange::parse(std::string_view text) {
  SemVerRange range;
  std::string s(text);
  size_t start = 0;
  while (true) {
    const size_t bar = s.find("||", start);
    const std::string part = s.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
    Alternative alt;
    const auto toks = tokens(part);
    if (toks.empty()) return Error{"semver range \"" + std::string(text) + "\": empty alternative"};
    for (size_t i = 0; i < toks.size(); ++i) {
      // A hyphen range: "1.2 - 1.4.5".
      if (i + 2 < toks.size() && toks[i + 1] == "-") {
        auto lo = parsePartial(toks[i]);
        auto hi = parsePartial(toks[i + 2]);
        if (!lo || !hi)
          return Error{"semver range \"" + std::string(text) + "\": \"" + toks[i] + " - " + toks[i + 2] +
                       "\" is not a range of versions"};
        for (const auto* p : {&*lo, &*hi}) alt.namesPrerelease |= !p->version.prerelease.empty();
        if (Status st = expand(">=", *lo, toks[i], alt.bounds); !st)
          return Error{"semver range \"" + std::string(text) + "\": " + st.error()};
        if (Status st = expand("<=", *hi, toks[i + 2], alt.bounds); !st)
          return Error{"semver range \"" + std::string(text) + "\": " + st.error()};
        i += 2;
        continue;
      }
      const std::string& tok = toks[i];
      size_t opLen = 0;
      while (opLen < tok.size() && std::string_view("<>=!~^").find(tok[opLen]) != std::string_view::npos)
        ++opLen;
      const std::string op = tok.substr(0, opLen);
      auto p = parsePartial(std::string_view(tok).substr(opLen));
      if (!p) return Error{"semver range \"" + std::string(text) + "\": \"" + tok + "\" is not a version"};
      alt.namesPrerelease |= !p->version.prerelease.empty();
      if (Status st = expand(op, *p, tok, alt.bounds); !st)
        return Error{"semver range \"" + std::string(text) + "\": " + st.error()};
    }
    range.alternatives_.push_back(std::move(alt));
    if (bar == std::string::npos) break;
    start = bar + 2;
  }
  return range;
}

bool SemVerRange::matches(const SemVer& v) const {
  for (const auto& alt : alternatives_) {
    if (!v.prerelease.empty() && !alt.namesPrerelease) continue;
    if (std::all_of(alt.bounds.begin(), alt.bounds.end(), [&](const Bound& b) { return holds(b, v); }))
      return true;
  }
  return false;
}

std::optional<std::string> highestMatchingTag(const SemVerRange& range,
                                              const std::vector<std::string>& tags) {
  std::optional<std::string> best;
  std::optional<SemVer> bestVersion;
  for (const auto& tag : tags) {
    auto v = parseSemVer(tag);
    if (!v || !range.matches(*v)) continue;
    if (!bestVersion || bestVersion->compare(*v) < 0) {
      bestVersion = v;
      best = tag;
    }
  }
  return best;
}

}  // namespace sluice::gitops
