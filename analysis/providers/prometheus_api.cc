// The Prometheus HTTP API client: builds the query URLs, reads the JSON envelope
// ({"status","data","errorType","error","warnings"}) and turns transport failures into messages that name
// the address.
#include "analysis/providers/prometheus_api.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "base/json_text.h"
#include "net/http_client.h"

namespace sluice::analysis {
namespace {

using nlohmann::json;

std::string stripTrailingSlashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::string withoutUserInfo(const std::string& url) {
  std::size_t scheme = url.find("://");
  std::size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  std::size_t end = url.find_first_of("/?#", start);
  if (end == std::string::npos) end = url.size();
  std::size_t at = url.rfind('@', end);
  if (at == std::string::npos || at < start) return url;
  return url.substr(0, start) + url.substr(at + 1);
}

std::string snippet(const std::string& body) {
  constexpr std::size_t kMax = 200;
  std::string s = body.size() > kMax ? body.substr(0, kMax) + "..." : body;
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s;
}

// A sample value as Prometheus writes it: a JSON string holding a float, "NaN", "+Inf" or "-Inf".
Result<double> parseSampleValue(const json& v) {
  if (!v.is_string()) return Error{"a sample value is not a string: " + v.dump()};
  const std::string& s = v.get_ref<const std::string&>();
  if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  double out = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end != s.data() + s.size())
    return Error{"a sample value is not a number: \"" + s + "\""};
  return out;
}

// [<unix seconds>, "<value>"]
Result<PrometheusSample> parseSample(const json& pair) {
  if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number()) {
    return Error{"a sample is not [time, \"value\"]: " + snippet(pair.dump())};
  }
  auto value = parseSampleValue(pair[1]);
  if (!value) return Error{value.error()};
  return PrometheusSample{pair[0].get<double>(), *value};
}

Result<std::map<std::string, std::string>> parseLabels(const json& metric) {
  std::map<std::string, std::string> labels;
  if (metric.is_null()) return labels;
  if (!metric.is_object()) return Error{"a series' metric is not an object"};
  for (const auto& [name, value] : metric.items()) {
    if (!value.is_string()) return Error{"the label " + name + " is not a string"};
    labels[name] = value.get<std::string>();
  }
  return labels;
}

Result<PrometheusQueryResult> parseData(const json& data) {
  PrometheusQueryResult out;
  if (!data.is_object() || !data.contains("resultType") || !data["resultType"].is_string() ||
      !data.contains("result")) {
    return Error{"the answer has no data.resultType and data.result"};
  }
  out.resultType = data["resultType"].get<std::string>();
  const json& result = data["result"];
  if (out.resultType == "scalar") {
    auto sample = parseSample(result);
    if (!sample) return Error{sample.error()};
    out.series.push_back(PrometheusSeries{{}, {*sample}});
  } else if (out.resultType == "string") {
    if (!result.is_array() || result.size() != 2 || !result[1].is_string()) {
      return Error{"a string result is not [time, \"text\"]"};
    }
    out.stringValue = result[1].get<std::string>();
  } else if (out.resultType == "vector" || out.resultType == "matrix") {
    if (!result.is_array()) return Error{"data.result is not a list"};
    bool matrix = out.resultType == "matrix";
    for (const json& entry : result) {
      if (!entry.is_object()) return Error{"a series is not an object"};
      PrometheusSeries series;
      auto labels = parseLabels(entry.contains("metric") ? entry["metric"] : json());
      if (!labels) return Error{labels.error()};
      series.labels = std::move(*labels);
      const char* key = matrix ? "values" : "value";
      if (!entry.contains(key)) {
        if (entry.contains(matrix ? "histograms" : "histogram")) {
          return Error{
              "the query returned native histogram samples, which have no single value; use "
              "histogram_quantile() or another function that gives a float"};
        }
        return Error{std::string("a series has no ") + key};
      }
      if (matrix) {
        if (!entry[key].is_array()) return Error{"a series' values are not a list"};
        series.samples.reserve(entry[key].size());
        for (const json& pair : entry[key]) {
          auto sample = parseSample(pair);
          if (!sample) return Error{sample.error()};
          series.samples.push_back(*sample);
        }
      } else {
        auto sample = parseSample(entry[key]);
        if (!sample) return Error{sample.error()};
        series.samples.push_back(*sample);
      }
      out.series.push_back(std::move(series));
    }
  }
  // Another resultType is kept as it is: toProviderResult says it is not supported.
  return out;
}

}  // namespace

Result<PrometheusQueryResult> parsePrometheusResponse(long httpStatus, const std::string& body) {
  auto parsedBody = parseJsonText(body);
  if (!parsedBody && json::accept(body))
    return Error{"answered HTTP " + std::to_string(httpStatus) + " with a body " + parsedBody.error()};
  json doc = parsedBody ? std::move(*parsedBody) : json();
  if (!doc.is_object() || !doc.contains("status")) {
    return Error{"answered HTTP " + std::to_string(httpStatus) +
                 " with a body that is not a Prometheus API answer: " + snippet(body)};
  }
  try {
    if (doc["status"] != "success") {
      std::string type = doc.contains("errorType") && doc["errorType"].is_string()
                             ? doc["errorType"].get<std::string>()
                             : "unknown";
      std::string text = doc.contains("error") && doc["error"].is_string() ? doc["error"].get<std::string>()
                                                                           : "no error text";
      return Error{"answered HTTP " + std::to_string(httpStatus) + " (" + type + "): " + text};
    }
    if (httpStatus < 200 || httpStatus > 299) {
      return Error{"answered HTTP " + std::to_string(httpStatus) + ": " + snippet(body)};
    }
    auto parsed = parseData(doc.contains("data") ? doc["data"] : json());
    if (!parsed) return Error{"gave an answer that does not parse: " + parsed.error()};
    if (doc.contains("warnings") && doc["warnings"].is_array()) {
      for (const json& w : doc["warnings"]) {
        if (w.is_string()) parsed->warnings.push_back(w.get<std::string>());
      }
    }
    return parsed;
  } catch (const json::exception& e) {
    return Error{std::string("gave an answer that does not parse: ") + e.what()};
  }
}

std::string formatSampleValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[400];  // the longest fixed form of a double is about 330 characters
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed);
  if (ec != std::errc()) return std::to_string(value);
  return std::string(buffer, end);
}

Result<ProviderResult> toProviderResult(const PrometheusQueryResult& result) {
  ProviderResult out;
  if (result.resultType == "scalar") {
    if (result.series.size() != 1 || result.series[0].samples.size() != 1) {
      return Error{"a scalar result without exactly one sample"};
    }
    double v = result.series[0].samples[0].value;
    out.value = Value::number(v);
    out.text = formatSampleValue(v);
  } else if (result.resultType == "vector" || result.resultType == "matrix") {
    std::vector<double> values;
    for (const auto& series : result.series) {
      for (const auto& sample : series.samples) values.push_back(sample.value);
    }
    out.text = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out.text += ",";
      out.text += formatSampleValue(values[i]);
    }
    out.text += "]";
    out.value = Value::vector(std::move(values));
  } else if (result.resultType == "string") {
    return Error{"Prometheus returned a string (\"" + snippet(result.stringValue) +
                 "\"), not a number; conditions need a scalar, vector or matrix result"};
  } else {
    return Error{"Prometheus result type \"" + result.resultType +
                 "\" is not supported; conditions need a scalar, vector or matrix result"};
  }
  if (!result.warnings.empty()) {
    std::string joined;
    for (const auto& w : result.warnings) joined += (joined.empty() ? "" : "; ") + w;
    out.metadata["warnings"] = joined;
  }
  return out;
}

PrometheusApi::PrometheusApi(const PrometheusMetric& connection)
    : connection_(connection),
      base_(stripTrailingSlashes(connection.address)),
      shownAddress_(withoutUserInfo(base_)),
      http_(std::make_unique<net::HttpClient>()) {}

PrometheusApi::~PrometheusApi() = default;

Result<PrometheusQueryResult> PrometheusApi::query(const std::string& promql, Time at) {
  return get("/api/v1/query", "&time=" + std::to_string(toUnix(at)), promql);
}

Result<PrometheusQueryResult> PrometheusApi::queryRange(const std::string& promql, Time start, Time end,
                                                        Duration step) {
  return get("/api/v1/query_range",
             "&start=" + std::to_string(toUnix(start)) + "&end=" + std::to_string(toUnix(end)) +
                 "&step=" + std::to_string(step.count()),
             promql);
}

Result<PrometheusQueryResult> PrometheusApi::get(const std::string& endpoint, const std::string& parameters,
                                                 const std::string& promql) {
  if (base_.empty()) return Error{"the Prometheus address is empty"};
  if (!base_.starts_with("http://") && !base_.starts_with("https://")) {
    return Error{"the Prometheus address \"" + shownAddress_ + "\" is not an http:// or https:// URL"};
  }
  net::Request request;
  request.url = base_ + endpoint + "?query=" + net::urlEncode(promql) + parameters;
  int64_t seconds = connection_.timeoutSeconds() > 0 ? connection_.timeoutSeconds() : 30;
  request.timeout = std::chrono::seconds(seconds);
  request.connectTimeout = std::min<std::chrono::milliseconds>(request.timeout, std::chrono::seconds(10));
  request.maxResponseBytes = kPrometheusMaxResponseBytes;
  request.tls.insecureSkipVerify = connection_.insecure;
  request.headers.emplace_back("Accept", "application/json");
  for (const auto& h : connection_.headers) request.headers.emplace_back(h.key, h.value);
  if (connection_.basicAuth) {
    request.basicAuth = std::make_pair(connection_.basicAuth->username, connection_.basicAuth->password);
  }

  net::Outcome outcome = http_->send(request);
  if (!outcome.ok()) {
    const net::Failure& failure = outcome.failure();
    // The failure names the whole URL with the encoded query; say it with the address instead.
    std::size_t sep = failure.message.find(": ");
    std::string cause = sep == std::string::npos ? failure.message : failure.message.substr(sep + 2);
    switch (failure.kind) {
      case net::FailureKind::kUnreachable:
        return Error{"cannot reach Prometheus at " + shownAddress_ + ": " + cause};
      case net::FailureKind::kTimeout:
        return Error{"Prometheus at " + shownAddress_ + " did not answer within the timeout of " +
                     std::to_string(seconds) + "s"};
      case net::FailureKind::kTooLarge:
        return Error{"the answer of Prometheus at " + shownAddress_ + " is larger than " +
                     std::to_string(kPrometheusMaxResponseBytes >> 20) +
                     " MiB; aggregate the query (sum, topk) so it selects fewer series"};
      default:
        return Error{"querying Prometheus at " + shownAddress_ + " failed: " + cause};
    }
  }
  auto parsed = parsePrometheusResponse(outcome.response().status, outcome.response().body);
  if (!parsed) return Error{"Prometheus at " + shownAddress_ + " " + parsed.error()};
  return parsed;
}

}  // namespace sluice::analysis
