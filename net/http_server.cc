// The scrape and probe endpoint server on Boost.Beast (the one file of net/ that includes it).
#include "net/http_server.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

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

// One request, answered, then the connection closed (probes and scrapes open one per request anyway).
void serveOne(tcp::socket& socket, const HttpHandler& handler) {
  // A client that sends nothing must not hold the only serving thread for long.
  timeval timeout{5, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  boost::system::error_code ec;
  http::read(socket, buffer, req, ec);
  if (ec) return;
  HttpAnswer answer;
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    answer = {405, "text/plain; charset=utf-8", "only GET is served\n"};
  } else {
    std::string target(req.target());
    target = target.substr(0, target.find('?'));
    try {
      answer = handler(target);
    } catch (const std::exception& e) {
      answer = {500, "text/plain; charset=utf-8", std::string(e.what()) + "\n"};
    }
  }
  http::response<http::string_body> res{static_cast<http::status>(answer.status), req.version()};
  res.set(http::field::content_type, answer.contentType);
  res.keep_alive(false);
  if (req.method() != http::verb::head) res.body() = std::move(answer.body);
  res.prepare_payload();
  http::write(socket, res, ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace

struct HttpServer::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  HttpHandler handler;
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (!ec) serveOne(socket, handler);
      if (acceptor.is_open()) accept();
    });
  }
};

Result<std::unique_ptr<HttpServer>> HttpServer::start(const std::string& flag, const std::string& address,
                                                      HttpHandler handler) {
  auto endpoint = parseAddress(flag, address);
  if (!endpoint) return Error{endpoint.error()};
  auto impl = std::make_unique<Impl>();
  impl->handler = std::move(handler);
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
