// libFuzzer entry point for the API server's request handling without sockets: Handler::handle over a
// registry on a SQLite store in a scratch directory, with fuzzed method, target, content type and body.
// The input is "<method byte><target>\n<content type>\n<body>". State carries over between inputs (objects,
// CRDs and their types), as on a real server. Crashes, sanitizer reports, exceptions and answers that are
// not the real server's shapes are bugs.
#include <stdlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "kube/apiserver/handler.h"
#include "kube/apiserver/registry.h"
#include "kube/apiserver/store.h"

namespace {

using nlohmann::json;
using sluice::apiserver::Handler;

void require(bool condition) {
  if (!condition) std::abort();
}

constexpr const char* kToken = "fuzz-token";
constexpr const char* kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT"};

struct World {
  std::filesystem::path dir;
  std::unique_ptr<sluice::apiserver::Store> store;
  std::unique_ptr<sluice::apiserver::Registry> registry;
  std::unique_ptr<Handler> handler;
};

World& world() {
  static World* w = [] {
    auto* made = new World;
    // /dev/shm when there is one: the store's writes are many and their durability does not matter here.
    std::filesystem::path base =
        std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    std::string pattern = (base / "sluice-fuzz-XXXXXX").string();
    require(mkdtemp(pattern.data()) != nullptr);
    made->dir = pattern;
    auto store = sluice::apiserver::Store::open(made->dir / "state.db", {/*retainRevisions=*/1000});
    require(store.ok());
    made->store = std::move(store).value();
    auto registry = sluice::apiserver::Registry::open(*made->store);
    require(registry.ok());
    made->registry = std::move(registry).value();
    made->handler = std::make_unique<Handler>(*made->registry, kToken, "127.0.0.1:6443");
    std::atexit([] { std::filesystem::remove_all(world().dir); });
    return made;
  }();
  return *w;
}

// An error answer is a Status whose code is the HTTP status; any JSON answer parses.
void requireWellFormed(const sluice::apiserver::HttpResponse& r) {
  require(r.status >= 200 && r.status <= 599);
  if (r.contentType.rfind("application/json", 0) != 0) return;
  const json body = json::parse(r.body, nullptr, false);
  require(!body.is_discarded());
  if (r.status >= 400) {
    require(body.is_object());
    require(body.value("kind", "") == "Status");
    require(body.value("status", "") == "Failure");
    require(body.value("code", 0) == r.status);
    require(!body.value("reason", "").empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  World& w = world();
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  sluice::apiserver::HttpRequest req;
  req.method = kMethods[data[0] % std::size(kMethods)];
  // One input in 64 goes without the token: authentication is checked before anything else.
  req.authorization = (data[0] >> 3) == 31 ? "Bearer wrong" : std::string("Bearer ") + kToken;
  auto nl = rest.find('\n');
  req.target = std::string(rest.substr(0, nl));
  if (req.target.empty() || req.target[0] != '/') req.target.insert(0, "/");
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  nl = rest.find('\n');
  req.contentType = std::string(rest.substr(0, nl));
  req.body = nl == std::string_view::npos ? "" : std::string(rest.substr(nl + 1));

  auto handled = w.handler->handle(req);
  if (handled.watch) {
    // The watch a server would stream: started on the registry (its options checked there), then dropped.
    auto& plan = *handled.watch;
    require(plan.type != nullptr);
    auto watch = w.registry->watch(*plan.type, plan.ns, plan.options,
                                   [](const sluice::apiserver::WatchEvent& e) { require(!e.type.empty()); });
    if (!watch) {
      const auto& e = watch.error();
      require(e.code >= 400 && e.code <= 599 && !e.reason.empty());
    }
    return 0;
  }
  requireWellFormed(handled.response);
  return 0;
}
