// The HTTPS front of the embedded API server: one session per connection on an Asio strand, keep-alive
// requests answered by the Handler, watches streamed as chunked JSON lines while other requests proceed.
#include "kube/apiserver/server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "kube/apiserver/data_dir_lock.h"
#include "kube/apiserver/data_plane.h"
#include "kube/apiserver/garbage_collector.h"
#include "kube/apiserver/handler.h"
#include "kube/apiserver/namespace_controller.h"
#include "kube/apiserver/registry.h"
#include "kube/apiserver/store.h"
#include "kube/apiserver/table.h"
#include "kube/apiserver/tls_material.h"
#include "kube/apiserver/workloads.h"

namespace sluice::apiserver {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using nlohmann::json;

constexpr auto kIdleTimeout = std::chrono::seconds(120);
constexpr std::size_t kMaxQueuedWatchBytes = 64u << 20;

// Events queued by the store's writing thread for one watch, drained by the session's strand.
struct WatchQueue {
  std::mutex mu;
  std::string pending;
  int64_t lastRevision = 0;
  bool overflow = false;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ssl::context& ctx, Handler& handler, Registry& registry, std::size_t maxBody,
          std::chrono::seconds bookmarkInterval)
      : raw_(std::move(socket)),
        ctx_(ctx),
        handler_(handler),
        registry_(registry),
        maxBody_(maxBody),
        bookmarkInterval_(bookmarkInterval) {}

  void start() {
    raw_.expires_after(std::chrono::seconds(30));
    beast::async_detect_ssl(raw_, buffer_, [self = shared_from_this()](beast::error_code ec, bool isTls) {
      self->onDetect(ec, isTls);
    });
  }

 private:
  void onDetect(beast::error_code ec, bool isTls) {
    if (ec) return;
    if (!isTls) {
      // As Go's servers do: plain HTTP on a TLS port gets a plain refusal and nothing else.
      auto msg = std::make_shared<std::string>(
          "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
          "Client sent an HTTP request to an HTTPS server.\n");
      net::async_write(raw_, net::buffer(*msg),
                       [self = shared_from_this(), msg](beast::error_code, std::size_t) {
                         beast::error_code ignored;
                         self->raw_.socket().shutdown(tcp::socket::shutdown_both, ignored);
                       });
      return;
    }
    stream_.emplace(std::move(raw_), ctx_);
    beast::get_lowest_layer(*stream_).expires_after(std::chrono::seconds(30));
    stream_->async_handshake(ssl::stream_base::server, buffer_.data(),
                             [self = shared_from_this()](beast::error_code e, std::size_t used) {
                               if (e) return;
                               self->buffer_.consume(used);
                               self->doRead();
                             });
  }

  void doRead() {
    parser_.emplace();
    parser_->body_limit(maxBody_);
    parser_->header_limit(64 * 1024);
    beast::get_lowest_layer(*stream_).expires_after(kIdleTimeout);
    http::async_read(*stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      HttpResponse r;
      r.status = 413;
      r.body = statusBody({413, "RequestEntityTooLarge",
                           "Request entity too large: limit is " + std::to_string(maxBody_), json::object()})
                   .dump();
      send(r, false);
      return;
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      // A request that does not parse as HTTP/1.1 (bad chunk framing, bad header, oversized header): as
      // Go's server, 400 (431 for the header size) and the connection closed, never silence.
      const bool headerTooLarge = ec == http::error::header_limit;
      HttpResponse r;
      r.status = headerTooLarge ? 431 : 400;
      r.body = statusBody({r.status, headerTooLarge ? "RequestHeaderFieldsTooLarge" : "BadRequest",
                           "malformed HTTP request: " + ec.message(), json::object()})
                   .dump();
      send(r, false);
      return;
    }
    if (ec) return;
    auto& msg = parser_->get();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.contentType = std::string(msg[http::field::content_type]);
    req.authorization = std::string(msg[http::field::authorization]);
    req.accept = std::string(msg[http::field::accept]);
    for (const auto& field : msg) {
      if (beast::iequals(field.name_string(), "Impersonate-User")) {
        req.impersonateUser = std::string(field.value());
      } else if (beast::iequals(field.name_string(), "Impersonate-Group")) {
        req.impersonateGroups.emplace_back(field.value());
      }
    }
    req.body = std::move(msg.body());
    keepAlive_ = msg.keep_alive();
    version_ = msg.version();
    Handled h;
    try {
      h = handler_.handle(req);
    } catch (const std::exception& e) {
      h.response.status = 500;
      h.response.body = statusBody(internalError(e.what())).dump();
    }
    if (h.watch) {
      startWatch(std::move(*h.watch));
      return;
    }
    send(h.response, keepAlive_);
  }

  void send(const HttpResponse& r, bool keepAlive) {
    auto res =
        std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version_);
    res->set(http::field::content_type, r.contentType);
    res->set(http::field::cache_control, "no-cache, private");
    for (const auto& [k, v] : r.headers) res->set(k, v);
    res->body() = r.body;
    res->keep_alive(keepAlive);
    res->prepare_payload();
    http::async_write(*stream_, *res,
                      [self = shared_from_this(), res, keepAlive](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (keepAlive) {
                          self->doRead();
                        } else {
                          self->close();
                        }
                      });
  }

  void close() {
    beast::get_lowest_layer(*stream_).expires_after(std::chrono::seconds(5));
    stream_->async_shutdown([self = shared_from_this()](beast::error_code) {
      beast::error_code ignored;
      beast::get_lowest_layer(*self->stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  static std::string eventLine(const std::string& type, const json& object) {
    return json{{"type", type}, {"object", object}}.dump() + "\n";
  }

  // eventLine() for a store event, shared by the watches it reaches: they are handed the event one after
  // another on the writing thread, so the last line written there is kept, keyed by what fixes its bytes
  // (event type, object uid, kind and apiVersion, resourceVersion). A write seen by a hundred watchers is
  // serialised once.
  static const std::string& sharedEventLine(const WatchEvent& e) {
    struct Entry {
      std::string type, uid, kind, apiVersion, resourceVersion;
      std::string line;
    };
    thread_local Entry cached;
    std::string uid;
    std::string rv;
    if (auto it = e.object.find("metadata"); it != e.object.end() && it->is_object()) {
      uid = it->value("uid", "");
      rv = it->value("resourceVersion", "");
    }
    std::string kind = e.object.is_object() ? e.object.value("kind", "") : "";
    std::string apiVersion = e.object.is_object() ? e.object.value("apiVersion", "") : "";
    if (uid.empty() || rv.empty() || cached.type != e.type || cached.uid != uid ||
        cached.resourceVersion != rv || cached.kind != kind || cached.apiVersion != apiVersion) {
      cached = {e.type,          std::move(uid),
                std::move(kind), std::move(apiVersion),
                std::move(rv),   eventLine(e.type, e.object)};
    }
    return cached.line;
  }

  void startWatch(WatchPlan plan) {
    plan_ = std::move(plan);
    queue_ = std::make_shared<WatchQueue>();
    std::weak_ptr<Session> weak = shared_from_this();
    auto queue = queue_;
    auto executor = stream_->get_executor();
    auto table = plan_->table;
    const Clock& clock = registry_.clock();  // the registry outlives every session
    auto sink = [queue, weak, executor, table, &clock](const WatchEvent& e) {
      {
        // Under the queue's lock, so a Table stream's first event (the one with the columns) goes first.
        std::lock_guard lock(queue->mu);
        // Tables differ per watch (ages, the first event's columns); plain events are the same for all.
        std::string tableLine;
        if (table) tableLine = eventLine(e.type, table->convert(e.object, false, toSeconds(clock.wallNow())));
        const std::string& line = table ? tableLine : sharedEventLine(e);
        if (queue->pending.size() + line.size() > kMaxQueuedWatchBytes) {
          queue->overflow = true;
        } else {
          queue->pending += line;
        }
        auto rv = e.object.contains("metadata") ? e.object["metadata"].value("resourceVersion", "") : "";
        if (!rv.empty()) queue->lastRevision = std::max<int64_t>(queue->lastRevision, std::stoll(rv));
      }
      net::post(executor, [weak] {
        if (auto self = weak.lock()) self->pump();
      });
    };
    auto w = registry_.watch(*plan_->type, plan_->ns, plan_->options, sink);
    if (!w) {
      if (w.error().code != 410 && w.error().code != 504) {
        send({w.error().code, "application/json", statusBody(w.error()).dump(), {}}, keepAlive_);
        return;
      }
      // Too old or too new: the real server answers 200 and an ERROR event in the stream, then ends it.
      std::lock_guard lock(queue_->mu);
      queue_->pending += eventLine("ERROR", statusBody(w.error()));
      finishing_ = true;
    } else {
      watch_ = std::move(w).value();
      std::lock_guard lock(queue_->mu);
      queue_->lastRevision = std::max(queue_->lastRevision, registryStart());
    }
    header_.emplace(http::status::ok, version_);
    header_->set(http::field::content_type, "application/json");
    header_->set(http::field::cache_control, "no-cache, private");
    header_->chunked(true);
    headerSerializer_.emplace(*header_);
    beast::get_lowest_layer(*stream_).expires_never();
    writing_ = true;
    http::async_write_header(*stream_, *headerSerializer_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               self->writing_ = false;
                               if (ec) return self->stopWatch();
                               self->watchForDisconnect();
                               self->pump();
                             });
    timer_.emplace(stream_->get_executor());
    timer_->expires_after(plan_->timeout);
    timer_->async_wait([weak](beast::error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) {
        self->finishing_ = true;
        self->pump();
      }
    });
    if (plan_->bookmarks) scheduleBookmark();
  }

  int64_t registryStart() const {
    if (plan_->options.resourceVersion.empty() || plan_->options.resourceVersion == "0") return 0;
    try {
      return std::stoll(plan_->options.resourceVersion);
    } catch (const std::exception&) {
      return 0;
    }
  }

  void scheduleBookmark() {
    bookmarkTimer_.emplace(stream_->get_executor());
    bookmarkTimer_->expires_after(bookmarkInterval_);
    std::weak_ptr<Session> weak = shared_from_this();
    bookmarkTimer_->async_wait([weak](beast::error_code ec) {
      if (ec) return;
      auto self = weak.lock();
      if (!self || self->finishing_) return;
      {
        std::lock_guard lock(self->queue_->mu);
        int64_t rv = self->queue_->lastRevision;
        if (rv == 0) rv = self->registry_.currentRevision();
        json obj = {{"kind", self->plan_->type->kind},
                    {"apiVersion", self->plan_->type->apiVersion()},
                    {"metadata", {{"resourceVersion", std::to_string(rv)}, {"creationTimestamp", nullptr}}}};
        if (self->plan_->table)
          obj = self->plan_->table->convert(obj, true, toSeconds(self->registry_.clock().wallNow()));
        self->queue_->pending += eventLine("BOOKMARK", obj);
      }
      self->pump();
      self->scheduleBookmark();
    });
  }

  // Reads during a watch only to notice the client going away.
  void watchForDisconnect() {
    stream_->async_read_some(net::buffer(drain_),
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               if (ec) {
                                 self->stopWatch();
                                 return;
                               }
                               self->watchForDisconnect();
                             });
  }

  void pump() {
    if (writing_ || done_) return;
    std::string next;
    bool overflow = false;
    {
      std::lock_guard lock(queue_->mu);
      next.swap(queue_->pending);
      overflow = queue_->overflow;
    }
    if (overflow) {
      stopWatch();
      return;
    }
    if (!next.empty()) {
      out_ = std::move(next);
      writing_ = true;
      net::async_write(*stream_, http::make_chunk(net::buffer(out_)),
                       [self = shared_from_this()](beast::error_code ec, std::size_t) {
                         self->writing_ = false;
                         if (ec) return self->stopWatch();
                         self->pump();
                       });
      return;
    }
    if (finishing_) {
      done_ = true;
      watch_.reset();
      writing_ = true;
      net::async_write(*stream_, http::make_chunk_last(),
                       [self = shared_from_this()](beast::error_code, std::size_t) {
                         self->writing_ = false;
                         self->stopWatch();
                       });
    }
  }

  void stopWatch() {
    done_ = true;
    watch_.reset();
    if (timer_) timer_->cancel();
    if (bookmarkTimer_) bookmarkTimer_->cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(*stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  beast::tcp_stream raw_;
  ssl::context& ctx_;
  Handler& handler_;
  Registry& registry_;
  std::size_t maxBody_;
  std::chrono::seconds bookmarkInterval_;
  beast::flat_buffer buffer_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keepAlive_ = true;
  unsigned version_ = 11;

  // Watch state, used on the strand only (except queue_, which has its own lock).
  std::optional<WatchPlan> plan_;
  std::shared_ptr<WatchQueue> queue_;
  std::unique_ptr<RegistryWatch> watch_;
  std::optional<http::response<http::empty_body>> header_;
  std::optional<http::response_serializer<http::empty_body>> headerSerializer_;
  std::optional<net::steady_timer> timer_;
  std::optional<net::steady_timer> bookmarkTimer_;
  std::string out_;
  std::array<char, 256> drain_{};
  bool writing_ = false;
  bool finishing_ = false;
  bool done_ = false;
};

}  // namespace

struct ApiServer::Impl {
  ServerOptions options;
  TlsMaterial tls;
  // Held while anything below uses the directory (declared first: released last).
  std::unique_ptr<DataDirLock> dataDirLock;
  std::unique_ptr<Store> store;
  std::unique_ptr<Registry> registry;
  // kube-controller-manager's part: stopped before the registry they act through.
  std::unique_ptr<GarbageCollector> garbageCollector;
  std::unique_ptr<NamespaceController> namespaceController;
  std::unique_ptr<Handler> handler;
  std::unique_ptr<WorkloadControllers> workloads;
  std::unique_ptr<DataPlane> dataPlane;
  std::filesystem::path kubeconfig;
  int port = 0;
  // Declared after the state the sessions use, so pending sessions go first.
  ssl::context sslCtx{ssl::context::tls_server};
  net::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::mutex stopMu;
  std::condition_variable stopCv;
  bool stopped = false;
  bool joined = false;

  void accept() {
    acceptor->async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted) return;
      } else {
        std::make_shared<Session>(std::move(socket), sslCtx, *handler, *registry, options.maxBodyBytes,
                                  options.bookmarkInterval)
            ->start();
      }
      accept();
    });
  }
};

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ApiServer::~ApiServer() {
  stop();
  impl_->dataPlane.reset();
  impl_->workloads.reset();
  if (!impl_->joined) {
    for (auto& t : impl_->threads) t.join();
    impl_->joined = true;
  }
}

Result<std::unique_ptr<ApiServer>> ApiServer::start(const ServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  // First, before anything in the directory is read or written: a second server must not touch it.
  auto lock = DataDirLock::acquire(options.dataDir);
  if (!lock) return Error{lock.error()};
  impl->dataDirLock = std::move(lock).value();
  auto tls = loadOrCreateTlsMaterial(options.dataDir);
  if (!tls) return Error{tls.error()};
  impl->tls = std::move(tls).value();
  auto store = Store::open(options.dataDir / "state.db", StoreOptions{options.retainRevisions});
  if (!store) return Error{store.error().message};
  impl->store = std::move(store).value();
  auto registry = Registry::open(*impl->store, options.clock != nullptr ? *options.clock : realClock());
  if (!registry) return Error{"starting the registry: " + registry.error().message};
  impl->registry = std::move(registry).value();
  auto collector = GarbageCollector::start(*impl->registry);
  if (!collector) return Error{"starting the garbage collector: " + collector.error().message};
  impl->garbageCollector = std::move(collector).value();
  auto namespaces = NamespaceController::start(*impl->registry);
  if (!namespaces) return Error{"starting the namespace controller: " + namespaces.error().message};
  impl->namespaceController = std::move(namespaces).value();
  if (options.workloadControllers) {
    WorkloadOptions workloadOptions;
    workloadOptions.podReadyAfter = options.podReadyAfter;
    workloadOptions.maxPodsPerReplicaSet = options.maxPodsPerReplicaSet;
    auto workloads = WorkloadControllers::start(*impl->registry, workloadOptions);
    if (!workloads) return Error{"starting the workload controllers: " + workloads.error().message};
    impl->workloads = std::move(workloads).value();
  }
  if (options.trafficMetricsAddress) {
    DataPlaneOptions dataPlaneOptions;
    dataPlaneOptions.metricsAddress = options.trafficMetricsAddress;
    dataPlaneOptions.requestsPerSecond = options.trafficRequestsPerSecond;
    auto dataPlane = DataPlane::start(*impl->registry, impl->registry->clock(), dataPlaneOptions);
    if (!dataPlane) return Error{"starting the data plane: " + dataPlane.error()};
    impl->dataPlane = std::move(dataPlane).value();
  }
  try {
    impl->sslCtx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    impl->sslCtx.use_certificate_chain(net::buffer(impl->tls.certPem + impl->tls.caPem));
    impl->sslCtx.use_private_key(net::buffer(impl->tls.keyPem), ssl::context::pem);
    auto address = net::ip::make_address(options.bindAddress);
    impl->acceptor.emplace(impl->ioc);
    tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
    impl->acceptor->open(endpoint.protocol());
    impl->acceptor->set_option(net::socket_base::reuse_address(true));
    impl->acceptor->bind(endpoint);
    impl->acceptor->listen(net::socket_base::max_listen_connections);
    impl->port = impl->acceptor->local_endpoint().port();
  } catch (const std::exception& e) {
    return Error{"cannot listen on " + options.bindAddress + ":" + std::to_string(options.port) + ": " +
                 e.what()};
  }
  impl->handler = std::make_unique<Handler>(*impl->registry, impl->tls.token,
                                            options.bindAddress + ":" + std::to_string(impl->port));
  auto kubeconfig = writeKubeconfig(options.dataDir, impl->tls, impl->port);
  if (!kubeconfig) return Error{kubeconfig.error()};
  impl->kubeconfig = *kubeconfig;
  impl->accept();
  int threads = std::max(1, options.threads);
  for (int i = 0; i < threads; ++i) {
    impl->threads.emplace_back([ioc = &impl->ioc] {
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          std::cerr << "apiserver: request thread: " << e.what() << "\n";
        }
      }
    });
  }
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

int ApiServer::port() const { return impl_->port; }
const std::string& ApiServer::token() const { return impl_->tls.token; }
std::filesystem::path ApiServer::kubeconfigPath() const { return impl_->kubeconfig; }
const std::string& ApiServer::caPem() const { return impl_->tls.caPem; }
int ApiServer::trafficMetricsPort() const { return impl_->dataPlane ? impl_->dataPlane->port() : 0; }

void ApiServer::wait() {
  std::unique_lock lock(impl_->stopMu);
  impl_->stopCv.wait(lock, [this] { return impl_->stopped; });
}

void ApiServer::stop() {
  {
    std::lock_guard lock(impl_->stopMu);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  impl_->ioc.stop();
  impl_->stopCv.notify_all();
}

}  // namespace sluice::apiserver
