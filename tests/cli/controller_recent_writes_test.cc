// The controller's view of its own writes over the watch caches: a write stands in for the object until the
// cache catches up, and a deletion the watch delivers ends it (unless the object was made again since).
#include <catch2/catch.hpp>

#include "controller/recent_writes.h"

using namespace sluice;
using nlohmann::json;

namespace {

json rollout(int resourceVersion, int replicas = 1) {
  return {{"metadata",
           {{"namespace", "default"}, {"name", "web"}, {"resourceVersion", std::to_string(resourceVersion)}}},
          {"spec", {{"replicas", replicas}}}};
}

}  // namespace

TEST_CASE("a write stands in for the object until the cache holds it or a later version",
          "[controller][writes]") {
  controller::RecentWrites writes;
  writes.wrote(rollout(5, 3));
  auto seen = writes.view("default/web", rollout(3));
  REQUIRE(seen.has_value());
  CHECK((*seen)["spec"]["replicas"] == 3);  // ours: the cache is behind
  CHECK(writes.size() == 1);
  seen = writes.view("default/web", rollout(6, 4));
  REQUIRE(seen.has_value());
  CHECK((*seen)["spec"]["replicas"] == 4);  // the cache caught up and moved on
  CHECK(writes.size() == 0);
}

TEST_CASE("a deletion the watch delivers ends a write of ours, not one made after it",
          "[controller][writes]") {
  controller::RecentWrites writes;
  writes.wrote(rollout(5));
  // The object was deleted (its last version 7): the cache has lost it, and so does our view.
  writes.sawDeleted(rollout(7));
  CHECK_FALSE(writes.view("default/web", std::nullopt).has_value());
  CHECK(writes.size() == 0);

  // Made again after the deletion (version 9): a late delivery of the older deletion keeps it.
  writes.wrote(rollout(9));
  writes.sawDeleted(rollout(7));
  auto seen = writes.view("default/web", std::nullopt);
  REQUIRE(seen.has_value());
  CHECK((*seen)["metadata"]["resourceVersion"] == "9");
}
