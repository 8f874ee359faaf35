// The scripted loopback HTTP peer: Boost.Beast parses requests; replies are written by hand so a test can
// shape them byte by byte (chunks, delays, silence, oversized bodies). One thread per connection, blocking
// I/O; stopping shuts the sockets down, which wakes every blocked thread.
#include "tests/support/http_peer.h"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace sluice::testing {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}
}  // namespace

const std::string* PeerRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equalsIgnoreCase(key, name)) return &value;
  }
  return nullptr;
}

struct HttpPeer::Impl {
  Handler handler;
  std::unique_ptr<asio::ssl::context> tls;  // null: plain HTTP
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread acceptThread;
  mutable std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::vector<std::shared_ptr<tcp::socket>> sockets;
  std::vector<std::thread> threads;
  std::vector<PeerRequest> received;

  // Waits `d` unless the peer stops first; false when it stopped.
  bool pause(std::chrono::milliseconds d) {
    std::unique_lock lock(mu);
    return !cv.wait_for(lock, d, [&] { return stopping; });
  }

  // Blocks until the client closes the connection or the peer stops.
  template <typename Stream>
  static void waitForClose(Stream& socket) {
    char scratch[512];
    boost::system::error_code ec;
    while (!ec) socket.read_some(asio::buffer(scratch), ec);
  }

  void serve(const std::shared_ptr<tcp::socket>& socket, int connection);
  // The requests and replies of one connection, over `socket` (the TCP socket, or TLS over it).
  template <typename Stream>
  void exchange(Stream& socket, int connection);
  template <typename Stream>
  bool answer(Stream& socket, const PeerReply& reply, bool keepAlive);
};

template <typename Stream>
bool HttpPeer::Impl::answer(Stream& socket, const PeerReply& reply, bool keepAlive) {
  boost::system::error_code ec;
  std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                     std::string(http::obsolete_reason(http::int_to_status(reply.status))) + "\r\n";
  for (const auto& [name, value] : reply.headers) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  bool chunked = !reply.chunks.empty();
  if (chunked) {
    head += "Transfer-Encoding: chunked\r\n";
  } else {
    std::size_t length = reply.fillerBytes != 0 ? reply.fillerBytes : reply.body.size();
    head += "Content-Length: " + std::to_string(length) + "\r\n";
  }
  if (!keepAlive) head += "Connection: close\r\n";
  head += "\r\n";
  asio::write(socket, asio::buffer(head), ec);
  if (ec) return false;

  if (chunked) {
    for (std::size_t i = 0; i < reply.chunks.size(); ++i) {
      if (i > 0 && reply.chunkDelay.count() > 0 && !pause(reply.chunkDelay)) return false;
      const std::string& data = reply.chunks[i];
      char size[32];
      std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
      asio::write(socket, asio::buffer(std::string(size) + data + "\r\n"), ec);
      if (ec) return false;
    }
    if (reply.holdStreamOpen) {
      waitForClose(socket);
      return false;
    }
    asio::write(socket, asio::buffer(std::string("0\r\n\r\n")), ec);
    return !ec;
  }
  if (reply.fillerBytes != 0) {
    std::string piece(std::size_t{64} * 1024, 'x');
    std::size_t left = reply.fillerBytes;
    while (left > 0) {
      std::size_t n = std::min(left, piece.size());
      asio::write(socket, asio::buffer(piece.data(), n), ec);
      if (ec) return false;
      left -= n;
    }
    return true;
  }
  asio::write(socket, asio::buffer(reply.body), ec);
  return !ec;
}

void HttpPeer::Impl::serve(const std::shared_ptr<tcp::socket>& socket, int connection) {
  if (tls) {
    asio::ssl::stream<tcp::socket&> stream(*socket, *tls);
    boost::system::error_code ec;
    stream.handshake(asio::ssl::stream_base::server, ec);
    if (!ec) exchange(stream, connection);
  } else {
    exchange(*socket, connection);
  }
  boost::system::error_code ignored;
  socket->shutdown(tcp::socket::shutdown_both, ignored);
}

template <typename Stream>
void HttpPeer::Impl::exchange(Stream& socket, int connection) {
  boost::beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    boost::system::error_code ec;
    http::read(socket, buffer, parser, ec);
    if (ec) break;
    const auto& message = parser.get();
    PeerRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    std::size_t q = request.target.find('?');
    request.path = request.target.substr(0, q);
    if (q != std::string::npos) request.query = request.target.substr(q + 1);
    for (const auto& field : message) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = message.body();
    request.connection = connection;
    {
      std::lock_guard lock(mu);
      received.push_back(request);
    }
    PeerReply reply = handler(request);
    if (reply.neverAnswer) {
      waitForClose(socket);
      break;
    }
    if (reply.delay.count() > 0 && !pause(reply.delay)) break;
    bool keepAlive = message.keep_alive();
    if (!answer(socket, reply, keepAlive) || !keepAlive) break;
  }
}

HttpPeer::HttpPeer(Handler handler, std::optional<PeerTls> tls) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  boost::system::error_code ec;
  if (tls) {
    impl_->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    impl_->tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                            asio::ssl::context::no_sslv3);
    impl_->tls->use_certificate_chain(asio::buffer(tls->certificateChainPem), ec);
    if (!ec) impl_->tls->use_private_key(asio::buffer(tls->privateKeyPem), asio::ssl::context::pem, ec);
    if (ec) throw std::runtime_error("HttpPeer: cannot use the TLS certificate or key: " + ec.message());
  }
  tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("HttpPeer: cannot listen on 127.0.0.1: " + ec.message());
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->acceptThread = std::thread([this] {
    for (;;) {
      auto socket = std::make_shared<tcp::socket>(impl_->io);
      boost::system::error_code acceptError;
      impl_->acceptor.accept(*socket, acceptError);
      std::lock_guard lock(impl_->mu);
      if (acceptError || impl_->stopping) return;
      int connection = ++connections_;
      impl_->sockets.push_back(socket);
      impl_->threads.emplace_back([this, socket, connection] { impl_->serve(socket, connection); });
    }
  });
}

HttpPeer::~HttpPeer() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  // shutdown() on the listening socket wakes the blocked accept() on Linux; on the connections it wakes
  // blocked reads and writes. The descriptors stay open (and so cannot be reused) until the joins are done.
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  impl_->acceptThread.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& socket : impl_->sockets) ::shutdown(socket->native_handle(), SHUT_RDWR);
    threads.swap(impl_->threads);
  }
  for (auto& t : threads) t.join();
}

std::string HttpPeer::url(const std::string& path) const {
  return (impl_->tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_) + path;
}

std::vector<PeerRequest> HttpPeer::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->received;
}

}  // namespace sluice::testing
