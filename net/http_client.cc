// net::HttpClient on one libcurl easy handle per client: reusing the handle keeps its connection cache, so
// consecutive requests to the same host share a kept-alive connection.
#include "net/http_client.h"

#include <curl/curl.h>

#include <atomic>
#include <cctype>
#include <mutex>
#include <string>

namespace sluice::net {
namespace {

void globalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// The URL as a message may show it: user information ("user:password@") removed.
std::string redactUrl(const std::string& url) {
  std::size_t scheme = url.find("://");
  std::size_t authorityStart = scheme == std::string::npos ? 0 : scheme + 3;
  std::size_t authorityEnd = url.find_first_of("/?#", authorityStart);
  if (authorityEnd == std::string::npos) authorityEnd = url.size();
  std::size_t at = url.rfind('@', authorityEnd);
  if (at == std::string::npos || at < authorityStart) return url;
  return url.substr(0, authorityStart) + url.substr(at + 1);
}

// Per-exchange state the callbacks write into.
struct Exchange {
  Response response;
  std::size_t maxBytes = 0;  // 0: unbounded (streams)
  bool tooLarge = false;
  const std::function<bool(std::string_view)>* onData = nullptr;
  bool stoppedByCaller = false;
};

std::size_t onBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  std::size_t n = size * count;
  if (ex->onData != nullptr) {
    if (!(*ex->onData)(std::string_view(data, n))) {
      ex->stoppedByCaller = true;
      return 0;  // makes libcurl end the transfer with CURLE_WRITE_ERROR
    }
    return n;
  }
  if (ex->maxBytes != 0 && ex->response.body.size() + n > ex->maxBytes) {
    ex->tooLarge = true;
    return 0;
  }
  ex->response.body.append(data, n);
  return n;
}

std::size_t onHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  std::size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    ex->response.headers.clear();  // a new response (after 100 Continue): only its own headers count
    return n;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;  // the blank line that ends the headers
  ex->response.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                    std::string(trim(line.substr(colon + 1))));
  return n;
}

// The blob options copy the data (CURL_BLOB_COPY), so the request may go before the handle is reused.
void setBlob(CURL* curl, CURLoption option, const std::string& pem) {
  curl_blob blob{};
  blob.data = const_cast<char*>(pem.data());  // NOLINT: libcurl's C API takes a non-const pointer
  blob.len = pem.size();
  blob.flags = CURL_BLOB_COPY;
  curl_easy_setopt(curl, option, &blob);
}

FailureKind kindOf(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return FailureKind::kUnreachable;
    case CURLE_OPERATION_TIMEDOUT:
      return FailureKind::kTimeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_USE_SSL_FAILED:
      return FailureKind::kTls;
    case CURLE_FILESIZE_EXCEEDED:
      return FailureKind::kTooLarge;
    case CURLE_ABORTED_BY_CALLBACK:
      return FailureKind::kAborted;
    default:
      return FailureKind::kOther;
  }
}

std::string causeOf(CURLcode code, const char* errorBuffer, const Request& request) {
  std::string detail = errorBuffer[0] != '\0' ? std::string(errorBuffer) : curl_easy_strerror(code);
  switch (kindOf(code)) {
    case FailureKind::kUnreachable:
      return "could not connect (" + detail + ")";
    case FailureKind::kTimeout:
      return "no complete answer within " + std::to_string(request.timeout.count()) + " ms (" + detail + ")";
    case FailureKind::kTls:
      return "TLS failed (" + detail + ")";
    case FailureKind::kTooLarge:
      return "the response is larger than the limit of " + std::to_string(request.maxResponseBytes) +
             " bytes";
    default:
      return detail;
  }
}

}  // namespace

const std::string* Response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equalsIgnoreCase(key, name)) return &value;
  }
  return nullptr;
}

struct Cancellation::State {
  std::atomic<bool> cancelled{false};
  std::mutex mutex;
  CURLM* multi = nullptr;  // the stream in progress, to wake from its poll
};

Cancellation::Cancellation() : state_(std::make_unique<State>()) {}
Cancellation::~Cancellation() = default;

void Cancellation::cancel() {
  state_->cancelled = true;
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (state_->multi != nullptr) curl_multi_wakeup(state_->multi);
}

bool Cancellation::cancelled() const { return state_->cancelled; }

namespace {

// Runs the transfer on its own multi handle so that a wait for data can be woken by cancel(). A wakeup
// that comes before the poll makes the next poll return at once, so no cancel is missed.
CURLcode performCancellable(CURL* curl, Cancellation::State& state) {
  CURLM* multi = curl_multi_init();
  if (multi == nullptr) return CURLE_OUT_OF_MEMORY;
  curl_multi_add_handle(multi, curl);
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    state.multi = multi;
  }
  CURLcode result = CURLE_OK;
  for (;;) {
    if (state.cancelled) {
      result = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    int running = 0;
    if (curl_multi_perform(multi, &running) != CURLM_OK) {
      result = CURLE_RECV_ERROR;
      break;
    }
    if (running == 0) {
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
        if (msg->msg == CURLMSG_DONE) result = msg->data.result;
      }
      break;
    }
    curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    state.multi = nullptr;
  }
  curl_multi_remove_handle(multi, curl);
  curl_multi_cleanup(multi);
  return result;
}

}  // namespace

struct HttpClient::Impl {
  CURL* curl = nullptr;

  Outcome perform(const Request& request, Exchange& ex, const Cancellation* cancel = nullptr);
};

HttpClient::HttpClient() : impl_(std::make_unique<Impl>()) {
  globalInitOnce();
  impl_->curl = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (impl_->curl != nullptr) curl_easy_cleanup(impl_->curl);
}

Outcome HttpClient::Impl::perform(const Request& request, Exchange& ex, const Cancellation* cancel) {
  std::string shownUrl = redactUrl(request.url);
  auto fail = [&](FailureKind kind, const std::string& cause) {
    return Failure{kind, request.method + " " + shownUrl + ": " + cause};
  };
  if (curl == nullptr) return fail(FailureKind::kOther, "libcurl could not create a handle");

  curl_easy_reset(curl);  // options only: the connection cache stays, so keep-alive works across requests
  char errorBuffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errorBuffer);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connectTimeout.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &onBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ex);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &onHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &ex);
  if (ex.maxBytes != 0) {
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(ex.maxBytes));
  }

  // Method and body.
  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    if (request.method != "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method == "POST" || !request.body.empty()) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    }
  }

  // Headers. "Expect:" turns off libcurl's 100-continue wait on larger bodies.
  curl_slist* headerList = curl_slist_append(nullptr, "Expect:");
  for (const auto& [name, value] : request.headers) {
    std::string line = name;
    line += value.empty() ? ";" : ": ";
    line += value;
    headerList = curl_slist_append(headerList, line.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headerList);

  if (request.basicAuth) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(curl, CURLOPT_USERNAME, request.basicAuth->first.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, request.basicAuth->second.c_str());
  }

  // TLS: inline PEM wins over a file.
  const TlsOptions& tls = request.tls;
  if (!tls.caPem.empty()) {
    setBlob(curl, CURLOPT_CAINFO_BLOB, tls.caPem);
  } else if (!tls.caFile.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, tls.caFile.c_str());
  }
  if (!tls.clientCertPem.empty()) {
    setBlob(curl, CURLOPT_SSLCERT_BLOB, tls.clientCertPem);
    curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
  } else if (!tls.clientCertFile.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, tls.clientCertFile.c_str());
  }
  if (!tls.clientKeyPem.empty()) {
    setBlob(curl, CURLOPT_SSLKEY_BLOB, tls.clientKeyPem);
    curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
  } else if (!tls.clientKeyFile.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLKEY, tls.clientKeyFile.c_str());
  }
  if (tls.insecureSkipVerify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }

  // A verification name other than the URL's host: ask for https://serverName/... and connect to the
  // URL's real host, so SNI and the certificate check use serverName.
  curl_slist* connectTo = nullptr;
  std::string rewrittenUrl;
  if (!tls.serverName.empty()) {
    CURLU* url = curl_url();
    char* host = nullptr;
    char* port = nullptr;
    if (curl_url_set(url, CURLUPART_URL, request.url.c_str(), 0) == CURLUE_OK &&
        curl_url_get(url, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(url, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
      std::string entry = tls.serverName + ":" + port + ":" + host + ":" + port;
      connectTo = curl_slist_append(nullptr, entry.c_str());
      char* full = nullptr;
      if (curl_url_set(url, CURLUPART_HOST, tls.serverName.c_str(), 0) == CURLUE_OK &&
          curl_url_get(url, CURLUPART_URL, &full, 0) == CURLUE_OK) {
        rewrittenUrl = full;
        curl_free(full);
      }
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(url);
    if (connectTo == nullptr || rewrittenUrl.empty()) {
      curl_slist_free_all(headerList);
      curl_slist_free_all(connectTo);
      return fail(FailureKind::kOther, "the URL does not parse");
    }
    curl_easy_setopt(curl, CURLOPT_URL, rewrittenUrl.c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connectTo);
  }

  CURLcode code = cancel == nullptr ? curl_easy_perform(curl) : performCancellable(curl, cancel->state());
  if (code == CURLE_ABORTED_BY_CALLBACK && cancel != nullptr && cancel->cancelled())
    ex.stoppedByCaller = true;
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_CONNECT_TO, nullptr);
  curl_slist_free_all(headerList);
  curl_slist_free_all(connectTo);

  ex.response.status = status;
  if (code == CURLE_OK) return std::move(ex.response);
  if (ex.stoppedByCaller) return std::move(ex.response);
  if (ex.tooLarge) return fail(FailureKind::kTooLarge, causeOf(CURLE_FILESIZE_EXCEEDED, "", request));
  return fail(kindOf(code), causeOf(code, errorBuffer, request));
}

Outcome HttpClient::send(const Request& request) {
  Exchange ex;
  ex.maxBytes = request.maxResponseBytes;
  return impl_->perform(request, ex);
}

Outcome HttpClient::stream(const Request& request, const std::function<bool(std::string_view)>& onData,
                           const Cancellation* cancel) {
  Exchange ex;
  ex.onData = &onData;
  return impl_->perform(request, ex, cancel);
}

std::string urlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

}  // namespace sluice::net
