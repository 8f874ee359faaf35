// Argument templating over the JSON form of a metric, so that every string field is covered, including
// ones added later, without a list to keep in step with the model.
#include "analysis/templating.h"

#include <nlohmann/json.hpp>

#include "analysis/model_json.h"
#include "base/base64.h"

namespace sluice::analysis {

namespace {

bool isSpace(char c) { return c == ' ' || c == '\t'; }
bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

// The placeholder at `text[at]` ("{{" already seen): its arg name and where it ends, or nothing when the
// braces hold something other than args.NAME (left as written).
struct Placeholder {
  std::string name;
  size_t end = 0;  // one past "}}"
};

std::optional<Placeholder> placeholderAt(std::string_view text, size_t at) {
  size_t i = at + 2;
  while (i < text.size() && isSpace(text[i])) ++i;
  constexpr std::string_view kPrefix = "args.";
  if (text.substr(i, kPrefix.size()) != kPrefix) return std::nullopt;
  i += kPrefix.size();
  const size_t nameStart = i;
  while (i < text.size() && isNameChar(text[i])) ++i;
  if (i == nameStart) return std::nullopt;
  Placeholder p{std::string(text.substr(nameStart, i - nameStart)), 0};
  while (i < text.size() && isSpace(text[i])) ++i;
  if (text.substr(i, 2) != "}}") return std::nullopt;
  p.end = i + 2;
  return p;
}

Status substituteStrings(nlohmann::json& j, const ResolvedArgs& args) {
  if (j.is_string()) {
    auto s = substituteArgs(j.get<std::string>(), args);
    if (!s) return Error{s.error()};
    j = *s;
  } else if (j.is_structured()) {
    for (auto& child : j) {
      if (Status st = substituteStrings(child, args); !st) return st;
    }
  }
  return {};
}

}  // namespace

Result<SecretValues> readSecretArgs(
    const std::vector<Argument>& args,
    const std::function<const nlohmann::json*(const std::string&)>& findSecret) {
  SecretValues out;
  for (const auto& arg : args) {
    if (!arg.secretKeyRef) continue;
    const std::string& key = arg.secretKeyRef->key;
    std::optional<std::string> value;
    if (const nlohmann::json* secret = findSecret(arg.secretKeyRef->name)) {
      const nlohmann::json::json_pointer data = nlohmann::json::json_pointer("/data") / key;
      const nlohmann::json::json_pointer plain = nlohmann::json::json_pointer("/stringData") / key;
      if (secret->contains(data) && secret->at(data).is_string()) {
        value = base64Decode(secret->at(data).get<std::string>());
      } else if (secret->contains(plain) && secret->at(plain).is_string()) {
        value = secret->at(plain).get<std::string>();
      }
    }
    if (!value)
      return Error{"arg \"" + arg.name + "\": key \"" + key + "\" of Secret \"" + arg.secretKeyRef->name +
                   "\" not found"};
    out[arg.name] = *value;
  }
  return out;
}

Result<ResolvedArgs> resolveArgs(const std::vector<Argument>& args, const SecretValues& secrets) {
  ResolvedArgs out;
  for (const auto& a : args) {
    if (a.value) {
      out.values[a.name] = *a.value;
    } else if (a.secretKeyRef) {
      auto it = secrets.find(a.name);
      if (it == secrets.end()) {
        return Error{"argument \"" + a.name + "\" has no value: secret " + a.secretKeyRef->name + "/" +
                     a.secretKeyRef->key + " was not read"};
      }
      out.values[a.name] = it->second;
      out.secrets.push_back(it->second);
    } else if (a.fieldRef) {
      return Error{"argument \"" + a.name + "\" has no value: fieldRef " + *a.fieldRef + " was not resolved"};
    } else {
      return Error{"argument \"" + a.name + "\" has no value: it is required and nothing set it"};
    }
  }
  return out;
}

Result<std::string> substituteArgs(std::string_view text, const ResolvedArgs& args) {
  std::string out;
  size_t from = 0;
  while (true) {
    const size_t open = text.find("{{", from);
    if (open == std::string_view::npos) break;
    auto p = placeholderAt(text, open);
    if (!p) {
      out.append(text.substr(from, open + 2 - from));
      from = open + 2;
      continue;
    }
    auto it = args.values.find(p->name);
    if (it == args.values.end()) {
      return Error{"cannot resolve " + std::string(text.substr(open, p->end - open)) + ": no argument \"" +
                   p->name + "\""};
    }
    out.append(text.substr(from, open - from));
    out += it->second;
    from = p->end;
  }
  out.append(text.substr(from));
  return out;
}

std::vector<std::string> argReferences(std::string_view text) {
  std::vector<std::string> names;
  for (size_t open = text.find("{{"); open != std::string_view::npos; open = text.find("{{", open + 2)) {
    if (auto p = placeholderAt(text, open)) names.push_back(std::move(p->name));
  }
  return names;
}

Result<Metric> resolveMetric(const Metric& metric, const ResolvedArgs& args) {
  nlohmann::json j = metricToJson(metric);
  if (Status st = substituteStrings(j, args); !st) {
    return Error{maskSecrets("metric \"" + metric.name + "\": " + st.error(), args.secrets)};
  }
  auto resolved = metricFromJson(j);
  if (!resolved)
    return Error{maskSecrets("metric \"" + metric.name + "\": " + resolved.error(), args.secrets)};
  return resolved;
}

std::vector<std::string> secretValues(const SecretValues& secrets) {
  std::vector<std::string> values;
  for (const auto& [name, value] : secrets) values.push_back(value);
  return values;
}

std::string maskSecrets(std::string message, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = message.find(secret); at != std::string::npos; at = message.find(secret, at + 5)) {
      message.replace(at, secret.size(), "*****");
    }
  }
  return message;
}

}  // namespace sluice::analysis
