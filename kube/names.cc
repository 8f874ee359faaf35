// Name, label and annotation checks, hand-matched (no regex engine) but reporting the regexes the real
// server names in its messages.
#include "kube/names.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

namespace sluice::kube {

using nlohmann::json;

namespace {

constexpr const char* kLabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
constexpr const char* kSubdomainFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr const char* kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr const char* kLabelValueFmt = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr const char* kQualifiedNameErrMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character";

// apimachinery's RegexError: the message, examples and the regex, in its exact punctuation (including
// the doubled space before "or" when there are several examples).
std::string regexError(const std::string& msg, const char* fmt, std::initializer_list<const char*> examples) {
  std::string s = msg + " (e.g. ";
  bool first = true;
  for (const char* e : examples) {
    if (!first) s += " or ";
    s += "'" + std::string(e) + "', ";
    first = false;
  }
  return s + "regex used for validation is '" + fmt + "')";
}

std::string maxLenError(size_t n) { return "must be no more than " + std::to_string(n) + " characters"; }

bool lowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

bool matchesLabel(std::string_view v) {
  if (v.empty() || !lowerAlnum(v.front()) || !lowerAlnum(v.back())) return false;
  for (char c : v)
    if (!lowerAlnum(c) && c != '-') return false;
  return true;
}

bool matchesSubdomain(std::string_view v) {
  size_t start = 0;
  while (true) {
    const size_t dot = v.find('.', start);
    if (!matchesLabel(v.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start)))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// [A-Za-z0-9] ([-A-Za-z0-9_.]* [A-Za-z0-9])?
bool matchesQualifiedNamePart(std::string_view v) {
  if (v.empty() || !alnum(v.front()) || !alnum(v.back())) return false;
  for (char c : v)
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

std::string jsonQuoted(std::string_view v) { return json(std::string(v)).dump(); }

}  // namespace

std::vector<std::string> isDNS1123Label(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDNS1123LabelMaxLength) errs.push_back(maxLenError(kDNS1123LabelMaxLength));
  if (!matchesLabel(value))
    errs.push_back(
        regexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
                   "'-', and must start and end with an alphanumeric character",
                   kLabelFmt, {"my-name", "123-abc"}));
  return errs;
}

std::vector<std::string> isDNS1035Label(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDNS1123LabelMaxLength) errs.push_back(maxLenError(kDNS1123LabelMaxLength));
  const bool letterFirst = !value.empty() && value.front() >= 'a' && value.front() <= 'z';
  if (!letterFirst || !matchesLabel(value))
    errs.push_back(
        regexError("a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                   "start with an alphabetic character, and end with an alphanumeric character",
                   "[a-z]([-a-z0-9]*[a-z0-9])?", {"my-name", "abc-123"}));
  return errs;
}

std::vector<std::string> isValidPathSegmentName(std::string_view value) {
  if (value == "." || value == "..") return {"may not be '" + std::string(value) + "'"};
  std::vector<std::string> errs;
  for (const char* bad : {"/", "%"}) {
    if (value.find(bad) != std::string_view::npos)
      errs.push_back("may not contain '" + std::string(bad) + "'");
  }
  return errs;
}

std::vector<std::string> isConfigMapKey(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDNS1123SubdomainMaxLength) errs.push_back(maxLenError(kDNS1123SubdomainMaxLength));
  const bool ok = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return alnum(c) || c == '-' || c == '_' || c == '.';
  });
  if (!ok)
    errs.push_back(regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                              "[-._a-zA-Z0-9]+", {"key.name", "KEY_NAME", "key-name"}));
  if (value == "." || value == "..")
    errs.push_back("must not be '" + std::string(value) + "'");
  else if (value.substr(0, 2) == "..")
    errs.push_back("must not start with '..'");
  return errs;
}

std::vector<std::string> isDNS1123Subdomain(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDNS1123SubdomainMaxLength) errs.push_back(maxLenError(kDNS1123SubdomainMaxLength));
  if (!matchesSubdomain(value))
    errs.push_back(
        regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                   "'-' or '.', and must start and end with an alphanumeric character",
                   kSubdomainFmt, {"example.com"}));
  return errs;
}

std::vector<std::string> isQualifiedName(std::string_view value) {
  std::vector<std::string> errs;
  std::string_view name = value;
  const size_t slash = value.find('/');
  if (slash != std::string_view::npos) {
    if (value.find('/', slash + 1) != std::string_view::npos) {
      errs.push_back("a qualified name " +
                     regexError(kQualifiedNameErrMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
                     " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
      return errs;
    }
    const std::string_view prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      for (const auto& e : isDNS1123Subdomain(prefix)) errs.push_back("prefix part " + e);
    }
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > kQualifiedNameMaxLength) {
    errs.push_back("name part " + maxLenError(kQualifiedNameMaxLength));
  }
  if (!matchesQualifiedNamePart(name))
    errs.push_back("name part " +
                   regexError(kQualifiedNameErrMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}));
  return errs;
}

std::vector<std::string> isValidLabelValue(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kLabelValueMaxLength) errs.push_back(maxLenError(kLabelValueMaxLength));
  if (!value.empty() && !matchesQualifiedNamePart(value))
    errs.push_back(
        regexError("a valid label must be an empty string or consist of alphanumeric characters, '-', "
                   "'_' or '.', and must start and end with an alphanumeric character",
                   kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  return errs;
}

std::vector<FieldError> validateLabels(const json& labels, const std::string& path) {
  std::vector<FieldError> out;
  if (labels.is_null()) return out;
  if (!labels.is_object()) {
    out.push_back({path, "FieldValueTypeInvalid",
                   "Invalid value: " + jsonQuoted(labels.type_name()) + ": must be an object"});
    return out;
  }
  for (const auto& [k, v] : labels.items()) {
    for (const auto& e : isQualifiedName(k))
      out.push_back({path, "FieldValueInvalid", "Invalid value: " + jsonQuoted(k) + ": " + e});
    std::string valuePath = path;
    valuePath.append("[").append(k).append("]");
    if (!v.is_string()) {
      out.push_back({valuePath, "FieldValueTypeInvalid",
                     "Invalid value: " + jsonQuoted(v.type_name()) + ": must be a string"});
      continue;
    }
    for (const auto& e : isValidLabelValue(v.get<std::string>()))
      out.push_back(
          {valuePath, "FieldValueInvalid", "Invalid value: " + jsonQuoted(v.get<std::string>()) + ": " + e});
  }
  return out;
}

std::vector<FieldError> validateAnnotations(const json& annotations, const std::string& path) {
  std::vector<FieldError> out;
  if (annotations.is_null()) return out;
  if (!annotations.is_object()) {
    out.push_back({path, "FieldValueTypeInvalid",
                   "Invalid value: " + jsonQuoted(annotations.type_name()) + ": must be an object"});
    return out;
  }
  size_t total = 0;
  for (const auto& [k, v] : annotations.items()) {
    std::string lower = k;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& e : isQualifiedName(lower))
      out.push_back({path, "FieldValueInvalid", "Invalid value: " + jsonQuoted(k) + ": " + e});
    if (!v.is_string()) {
      std::string valuePath = path;
      valuePath.append("[").append(k).append("]");
      out.push_back({std::move(valuePath), "FieldValueTypeInvalid",
                     "Invalid value: " + jsonQuoted(v.type_name()) + ": must be a string"});
      continue;
    }
    total += k.size() + v.get_ref<const std::string&>().size();
  }
  if (total > kTotalAnnotationSizeLimit)
    out.push_back({path, "FieldValueTooLong",
                   "Too long: may not be more than " + std::to_string(kTotalAnnotationSizeLimit) + " bytes"});
  return out;
}

std::vector<FieldError> validateObjectName(std::string_view name, bool labelOnly, const std::string& path) {
  std::vector<FieldError> out;
  if (name.empty()) {
    out.push_back({path, "FieldValueRequired", "Required value: name or generateName is required"});
    return out;
  }
  for (const auto& e : labelOnly ? isDNS1123Label(name) : isDNS1123Subdomain(name))
    out.push_back({path, "FieldValueInvalid", "Invalid value: " + jsonQuoted(name) + ": " + e});
  return out;
}

}  // namespace sluice::kube
