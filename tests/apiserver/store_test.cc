// The API server's SQLite log: revisions, compare-and-swap, history reads, watch replay, compaction and
// durability across a killed process.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "kube/apiserver/store.h"
#include "tests/support/process.h"

using sluice::apiserver::Store;
using sluice::apiserver::StoreErrc;
using sluice::apiserver::StoreEvent;
using sluice::apiserver::StoreOptions;
using sluice::testing::TempDir;

namespace {

std::unique_ptr<Store> openStore(const TempDir& dir, StoreOptions options = {}) {
  auto s = Store::open(dir / "state.db", options);
  INFO((s ? std::string() : s.error().message));
  REQUIRE(s.ok());
  return std::move(s).value();
}

}  // namespace

TEST_CASE("store: create, get, update with compare-and-swap, delete", "[apiserver][store]") {
  TempDir dir;
  auto store = openStore(dir);
  CHECK(store->currentRevision() == 0);

  auto a = store->create("core/configmaps/default/a", "v1");
  REQUIRE(a.ok());
  CHECK(a->revision == 1);
  CHECK(a->createRevision == 1);
  auto dup = store->create("core/configmaps/default/a", "other");
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().code == StoreErrc::kAlreadyExists);

  auto up = store->update("core/configmaps/default/a", "v2", 1);
  REQUIRE(up.ok());
  CHECK(up->revision == 2);
  CHECK(up->createRevision == 1);
  auto stale = store->update("core/configmaps/default/a", "v3", 1);
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.error().code == StoreErrc::kConflict);
  CHECK(store->get("core/configmaps/default/a")->value == "v2");
  CHECK(store->currentRevision() == 2);

  auto missing = store->update("core/configmaps/default/zz", "v", 1);
  CHECK(missing.error().code == StoreErrc::kNotFound);

  auto staleDelete = store->remove("core/configmaps/default/a", 1);
  CHECK(staleDelete.error().code == StoreErrc::kConflict);
  auto del = store->remove("core/configmaps/default/a", 2);
  REQUIRE(del.ok());
  CHECK(del->revision == 3);
  CHECK(del->value == "v2");
  CHECK(store->get("core/configmaps/default/a").error().code == StoreErrc::kNotFound);

  // The same key can be created again; it is a new object with a new create revision.
  auto again = store->create("core/configmaps/default/a", "fresh");
  REQUIRE(again.ok());
  CHECK(again->createRevision == 4);
}

TEST_CASE("store: list by prefix in key order, paginated, and as of a past revision", "[apiserver][store]") {
  TempDir dir;
  auto store = openStore(dir);
  for (const char* name : {"c", "a", "b"})
    REQUIRE(store->create(std::string("core/pods/ns1/") + name, name).ok());
  REQUIRE(store->create("core/pods/ns2/a", "other-ns").ok());
  REQUIRE(store->create("core/podsx/ns1/a", "other-resource").ok());
  int64_t before = store->currentRevision();
  REQUIRE(store->update("core/pods/ns1/a", "a2", store->get("core/pods/ns1/a")->revision).ok());
  REQUIRE(store->remove("core/pods/ns1/b").ok());

  auto now = store->list("core/pods/ns1/");
  REQUIRE(now.ok());
  REQUIRE(now->items.size() == 2);
  CHECK(now->items[0].value == "a2");
  CHECK(now->items[1].key == "core/pods/ns1/c");
  CHECK(now->revision == store->currentRevision());

  auto page1 = store->list("core/pods/", "", 2, before);
  REQUIRE(page1.ok());
  REQUIRE(page1->items.size() == 2);
  CHECK(page1->more);
  CHECK(page1->items[0].value == "a");  // the state at `before`, not now
  CHECK(page1->items[1].value == "b");  // deleted since, but present at `before`
  auto page2 = store->list("core/pods/", page1->items[1].key, 2, before);
  REQUIRE(page2.ok());
  REQUIRE(page2->items.size() == 2);
  CHECK_FALSE(page2->more);
  CHECK(page2->items[0].key == "core/pods/ns1/c");
  CHECK(page2->items[1].key == "core/pods/ns2/a");

  auto livePage = store->list("core/pods/", "", 1);
  REQUIRE(livePage.ok());
  CHECK(livePage->more);
  CHECK(livePage->items.size() == 1);
}

TEST_CASE("store: a reopened store has every object and continues the revision", "[apiserver][store]") {
  TempDir dir;
  {
    auto store = openStore(dir);
    REQUIRE(store->create("k/1", "one").ok());
    REQUIRE(store->create("k/2", "two").ok());
    REQUIRE(store->remove("k/2").ok());  // the latest row is a tombstone: the revision must not go back
  }
  auto store = openStore(dir);
  CHECK(store->currentRevision() == 3);
  CHECK(store->get("k/1")->value == "one");
  CHECK(store->get("k/2").error().code == StoreErrc::kNotFound);
  auto next = store->create("k/3", "three");
  REQUIRE(next.ok());
  CHECK(next->revision == 4);
}

TEST_CASE("store: watch replays history, then live events, in order and without gaps", "[apiserver][store]") {
  TempDir dir;
  auto store = openStore(dir);
  REQUIRE(store->create("w/a", "a1").ok());     // rev 1
  REQUIRE(store->update("w/a", "a2", 1).ok());  // rev 2
  REQUIRE(store->create("other/x", "x").ok());  // rev 3, outside the prefix
  REQUIRE(store->remove("w/a").ok());           // rev 4

  std::mutex mu;
  std::vector<StoreEvent> events;
  auto w = store->watch("w/", 1, [&](const StoreEvent& e) {
    std::lock_guard lock(mu);
    events.push_back(e);
  });
  REQUIRE(w.ok());
  {
    std::lock_guard lock(mu);
    REQUIRE(events.size() == 2);
    CHECK(events[0].type == StoreEvent::Type::kModified);
    CHECK(events[0].revision == 2);
    CHECK(events[0].previous.value_or("") == "a1");
    CHECK(events[1].type == StoreEvent::Type::kDeleted);
    CHECK(events[1].value == "a2");
    CHECK(events[1].revision == 4);
  }

  // Writers race the watch: every event arrives once, revisions strictly increasing.
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i) REQUIRE(store->create("w/n" + std::to_string(i), "v").ok());
  });
  writer.join();
  w.value().reset();
  REQUIRE(store->create("w/after", "v").ok());
  std::lock_guard lock(mu);
  REQUIRE(events.size() == 202);
  for (std::size_t i = 1; i < events.size(); ++i) CHECK(events[i].revision > events[i - 1].revision);
  CHECK(events.back().key == "w/n199");
  CHECK(events.back().type == StoreEvent::Type::kAdded);
}

TEST_CASE("store: compaction drops superseded history, older watches and lists are refused",
          "[apiserver][store]") {
  TempDir dir;
  auto store = openStore(dir, StoreOptions{0});
  REQUIRE(store->create("c/a", "1").ok());
  for (int64_t rev = 1; rev < 10; ++rev) REQUIRE(store->update("c/a", std::to_string(rev + 1), rev).ok());
  REQUIRE(store->create("c/b", "b").ok());  // rev 11
  REQUIRE(store->remove("c/b").ok());       // rev 12
  auto c = store->compact(8);
  REQUIRE(c.ok());
  CHECK(store->compactedRevision() == 8);

  auto old = store->watch("c/", 5, [](const StoreEvent&) {});
  REQUIRE_FALSE(old.ok());
  CHECK(old.error().code == StoreErrc::kCompacted);
  CHECK(store->list("c/", "", 0, 7).error().code == StoreErrc::kCompacted);

  int count = 0;
  auto ok = store->watch("c/", 8, [&](const StoreEvent&) { ++count; });
  REQUIRE(ok.ok());
  CHECK(count == 4);  // revisions 9..12
  auto at9 = store->list("c/", "", 0, 9);
  REQUIRE(at9.ok());
  REQUIRE(at9->items.size() == 1);
  CHECK(at9->items[0].value == "9");
  CHECK(store->get("c/a")->value == "10");

  // Compaction survives a restart.
  ok.value().reset();
  store.reset();
  auto reopened = openStore(dir, StoreOptions{0});
  CHECK(reopened->compactedRevision() == 8);
  CHECK(reopened->currentRevision() == 12);
}

TEST_CASE("store: automatic compaction keeps the configured history", "[apiserver][store]") {
  TempDir dir;
  auto store = openStore(dir, StoreOptions{50});
  REQUIRE(store->create("a/x", "0").ok());
  for (int64_t rev = 1; rev < 200; ++rev) REQUIRE(store->update("a/x", std::to_string(rev), rev).ok());
  CHECK(store->compactedRevision() >= 100);
  CHECK(store->compactedRevision() <= 150);
  CHECK(store->list("a/", "", 0, 199 - 40).ok());
}

TEST_CASE("store: every acknowledged write survives SIGKILL of the writing process", "[apiserver][store]") {
  TempDir dir;
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      auto s = Store::open(dir / "state.db");
      if (!s.ok()) _exit(3);
      for (int i = 0;; ++i) {
        std::string key = "crash/" + std::to_string(round) + "/" + std::to_string(i);
        if (!s.value()->create(key, std::string(200, 'x')).ok()) _exit(4);
        int32_t acked = i;
        if (write(fds[1], &acked, sizeof acked) != sizeof acked) _exit(5);
      }
    }
    close(fds[1]);
    int32_t lastAcked = -1;
    int32_t v = 0;
    while (lastAcked < 300 + round * 37 && read(fds[0], &v, sizeof v) == sizeof v) lastAcked = v;
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    close(fds[0]);
    REQUIRE(lastAcked >= 300);

    auto store = openStore(dir);
    auto rows = store->list("crash/" + std::to_string(round) + "/");
    REQUIRE(rows.ok());
    CHECK(rows->items.size() >= static_cast<std::size_t>(lastAcked) + 1);
    for (int i = 0; i <= lastAcked; ++i) {
      auto got = store->get("crash/" + std::to_string(round) + "/" + std::to_string(i));
      REQUIRE(got.ok());
      CHECK(got->value.size() == 200);
    }
    int64_t before = store->currentRevision();
    auto next = store->create("crash/after/" + std::to_string(round), "v");
    REQUIRE(next.ok());
    CHECK(next->revision > before);
  }
}
