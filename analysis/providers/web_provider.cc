// The web provider (docs/design.md §A.14): one HTTP request per measurement; a JSON answer goes through the
// jsonPath and its first match becomes the result, any other body is a string result.
#include <nlohmann/json.hpp>
#include <string>

#include "analysis/providers/providers.h"
#include "base/json_path.h"
#include "base/json_text.h"
#include "net/http_client.h"

namespace sluice::analysis {
namespace {

using nlohmann::json;

constexpr std::size_t kWebMaxResponseBytes = 16u << 20;
constexpr std::size_t kSnippet = 200;

std::string snippet(const std::string& body) {
  std::string s = body.size() > kSnippet ? body.substr(0, kSnippet) + "..." : body;
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
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

class WebProvider final : public Provider {
 public:
  Result<ProviderResult> measure(const Metric& metric, Time /*at*/) override {
    const WebMetric& web = *metric.provider.web;
    std::string method = web.method.empty() ? "GET" : web.method;
    if (method != "GET" && method != "POST" && method != "PUT") {
      return Error{"provider.web.method \"" + method + "\" is not supported: use GET, POST or PUT"};
    }
    if (web.url.empty()) return Error{"provider.web.url is empty"};
    if (!web.body.empty() && web.jsonBody) return Error{"provider.web: set body or jsonBody, not both"};
    if (method == "GET" && (!web.body.empty() || web.jsonBody)) {
      return Error{"provider.web: a GET request has no body; use POST or PUT to send one"};
    }
    std::string shownUrl = withoutUserInfo(web.url);

    net::Request request;
    request.method = method;
    request.url = web.url;
    request.timeout = std::chrono::seconds(web.timeout() > 0 ? web.timeout() : 10);
    request.connectTimeout = std::min<std::chrono::milliseconds>(request.timeout, std::chrono::seconds(10));
    request.maxResponseBytes = kWebMaxResponseBytes;
    request.tls.insecureSkipVerify = web.insecure;
    for (const auto& h : web.headers) request.headers.emplace_back(h.key, h.value);
    if (web.jsonBody) {
      request.headers.emplace_back("Content-Type", "application/json");
      request.body = web.jsonBody->dump();
    } else {
      request.body = web.body;
    }

    net::Outcome outcome = http_.send(request);
    if (!outcome.ok()) return Error{outcome.failure().message};
    const net::Response& response = outcome.response();
    if (response.status < 200 || response.status > 299) {
      return Error{method + " " + shownUrl + " answered HTTP " + std::to_string(response.status) + ": " +
                   snippet(response.body)};
    }

    ProviderResult out;
    // A body that is not JSON is a string result; JSON nested past the input limit is refused before a
    // jsonPath walks it.
    auto parsed = parseJsonText(response.body);
    if (!parsed && json::accept(response.body))
      return Error{"the answer of " + shownUrl + " is " + parsed.error()};
    if (!parsed) {
      out.value = Value::string(response.body);
      out.text = response.body;
    } else {
      std::string path = web.jsonPath.empty() ? "{$}" : web.jsonPath;
      auto matches = jsonPathMatches(*parsed, path);
      if (!matches) return Error{"provider.web.jsonPath: " + matches.error()};
      if (matches->empty()) {
        return Error{"jsonPath " + path + " matched nothing in the answer of " + shownUrl + ": " +
                     snippet(response.body)};
      }
      out = resultFromJson(matches->front());
    }
    out.metadata["url"] = shownUrl;
    out.metadata["method"] = method;
    return out;
  }

 private:
  net::HttpClient http_;
};

}  // namespace

std::unique_ptr<Provider> makeWebProvider() { return std::make_unique<WebProvider>(); }

}  // namespace sluice::analysis
