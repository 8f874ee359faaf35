// The scrape and probe endpoint server on Boost.Beast (the one file of net/ that includes it).
#include "net/http_server.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <thread>

#include "base/clock.h"

namespace sluice::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// "HOST:PORT" or ":PORT" ("[::1]:PORT" for IPv6) as an endpoint; an empty host is every interface.
Result<tcp::endpoint> parseAddress(const std::string& flag, const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return Error{flag + " " + address + ": expected HOST:PORT or :PORT"};
  std::string host = address.substr(0, colon);
  const std::string portText = address.substr(colon + 1);
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(portText, &used);
    if (used != portText.size()) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) return Error{flag + " " + address + ": the port must be 0 to 65535"};
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return tcp::endpoint(tcp::v6(), static_cast<unsigned short>(port));
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(host, ec);
  if (ec) return Error{flag + " " + address + ": '" + host + "' is not an IP address"};
  return tcp::endpoint(ip, static_cast<unsigned short>(port));
}

constexpr const char* kTextPlain = "text/plain; charset=utf-8";

// A body above the limit is not read: the rest of what the client sends is drained (up to 64 MiB and 2 s)
// after the answer, so that closing the socket on unread bytes does not reset the connection before the
// client read the 413.
void drain(tcp::socket& socket, beast::flat_buffer& buffer) {
  boost::system::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  buffer.consume(buffer.size());
  char scrap[16384];
  size_t total = 0;
  const auto deadline = realClock().now() + std::chrono::seconds(2);
  while (total < (size_t{64} << 20) && realClock().now() < deadline) {
    const size_t n = socket.read_some(asio::buffer(scrap), ec);
    if (ec || n == 0) break;
    total += n;
  }
}

// One request, answered, then the connection closed (probes, scrapes and webhook deliveries open one per
// request anyway).
void serveOne(tcp::socket& socket, const HttpRequestHandler& handler, size_t bodyLimit) {
  // A client that sends nothing must not hold the only serving thread for long.
  timeval timeout{5, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.body_limit(bodyLimit);
  boost::system::error_code ec;
  http::read(socket, buffer, parser, ec);
  HttpAnswer answer;
  bool tooLarge = false;
  if (ec == http::error::body_limit) {
    tooLarge = true;
    answer = {413, kTextPlain, "the body is larger than " + std::to_string(bodyLimit) + " bytes\n"};
  } else if (ec) {
    return;
  }
  const auto& req = parser.get();
  if (!tooLarge) {
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.target = request.target.substr(0, request.target.find('?'));
    for (const auto& f : req) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers[name] = std::string(f.value());
    }
    request.body = req.body();
    try {
      answer = handler(request);
    } catch (const std::exception& e) {
      answer = {500, kTextPlain, std::string(e.what()) + "\n"};
    }
  }
  http::response<http::string_body> res{static_cast<http::status>(answer.status), req.version()};
  res.set(http::field::content_type, answer.contentType);
  res.keep_alive(false);
  if (req.method() != http::verb::head) res.body() = std::move(answer.body);
  res.prepare_payload();
  http::write(socket, res, ec);
  if (tooLarge) return drain(socket, buffer);
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace

struct HttpServer::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  HttpRequestHandler handler;
  size_t bodyLimit = 0;
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (!ec) serveOne(socket, handler, bodyLimit);
      if (acceptor.is_open()) accept();
    });
  }
};

std::string HttpRequest::header(const std::string& name) const {
  std::string key = name;
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto it = headers.find(key);
  return it == headers.end() ? std::string() : it->second;
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(const std::string& flag, const std::string& address,
                                                      HttpHandler handler) {
  // Scrapes and probes send no body.
  return start(
      flag, address,
      [handler = std::move(handler)](const HttpRequest& request) -> HttpAnswer {
        if (request.method != "GET" && request.method != "HEAD")
          return {405, kTextPlain, "only GET is served\n"};
        return handler(request.target);
      },
      size_t{64} << 10);
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(const std::string& flag, const std::string& address,
                                                      HttpRequestHandler handler, size_t bodyLimit) {
  auto endpoint = parseAddress(flag, address);
  if (!endpoint) return Error{endpoint.error()};
  auto impl = std::make_unique<Impl>();
  impl->handler = std::move(handler);
  impl->bodyLimit = bodyLimit;
  boost::system::error_code ec;
  impl->acceptor.open(endpoint->protocol(), ec);
  if (ec && endpoint->address().is_v6() && endpoint->address().is_unspecified()) {
    // No IPv6 here: every IPv4 interface instead.
    *endpoint = tcp::endpoint(tcp::v4(), endpoint->port());
    impl->acceptor.open(endpoint->protocol(), ec);
  }
  if (!ec && endpoint->address().is_v6()) impl->acceptor.set_option(asio::ip::v6_only(false), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(*endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error{flag + " " + address + ": cannot listen: " + ec.message()};
  impl->accept();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

}  // namespace sluice::net
