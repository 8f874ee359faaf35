// The three-way merge patch behind client-side apply: what changed since the last apply is sent, what
// the server or other writers added is kept, what was dropped from the manifest is removed.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kube/apply.h"

using nlohmann::json;
using sluice::kube::threeWayMergePatch;

TEST_CASE("three-way patch: nothing to send when the live object already holds the manifest",
          "[kube][apply]") {
  json manifest = {{"data", {{"a", "1"}}}, {"metadata", {{"name", "x"}, {"labels", {{"app", "web"}}}}}};
  json live = manifest;
  live["metadata"]["uid"] = "u-1";
  live["metadata"]["labels"]["added-by-someone"] = "yes";
  CHECK(threeWayMergePatch(manifest, manifest, live) == json::object());
}

TEST_CASE("three-way patch: changes and removals since the last apply, other writers' fields kept",
          "[kube][apply]") {
  json original = {{"data", {{"a", "1"}, {"b", "2"}}},
                   {"metadata", {{"labels", {{"app", "web"}, {"tier", "x"}}}}}};
  json modified = {{"data", {{"a", "9"}}}, {"metadata", {{"labels", {{"app", "web"}}}}}};
  json live = {{"data", {{"a", "1"}, {"b", "2"}, {"c", "from-another-writer"}}},
               {"metadata", {{"labels", {{"app", "web"}, {"tier", "x"}, {"team", "t"}}}}}};
  json patch = threeWayMergePatch(original, modified, live);
  CHECK(patch ==
        json{{"data", {{"a", "9"}, {"b", nullptr}}}, {"metadata", {{"labels", {{"tier", nullptr}}}}}});
  // A key the live object no longer has is not deleted again.
  live["data"].erase("b");
  CHECK(threeWayMergePatch(original, modified, live) ==
        json{{"data", {{"a", "9"}}}, {"metadata", {{"labels", {{"tier", nullptr}}}}}});
}

TEST_CASE("three-way patch: lists are compared item by item, server defaults are no difference",
          "[kube][apply]") {
  json containers = json::array({{{"name", "web"}, {"image", "nginx:1.25"}}});
  json modified = {{"spec", {{"containers", containers}}}};
  json live = {
      {"spec",
       {{"containers",
         json::array({{{"name", "web"}, {"image", "nginx:1.25"}, {"imagePullPolicy", "IfNotPresent"}}})}}}};
  CHECK(threeWayMergePatch(modified, modified, live) == json::object());

  // A new image: the whole list goes.
  json newer = {{"spec", {{"containers", json::array({{{"name", "web"}, {"image", "nginx:1.26"}}})}}}};
  CHECK(threeWayMergePatch(modified, newer, live) == newer);

  // A field removed from an item since the last apply: the list goes too, though the live one covers it.
  json withPorts = {{"spec",
                     {{"containers", json::array({{{"name", "web"},
                                                   {"image", "nginx:1.25"},
                                                   {"ports", json::array({{{"containerPort", 80}}})}}})}}}};
  json liveWithPorts = withPorts;
  CHECK(threeWayMergePatch(withPorts, modified, liveWithPorts) == modified);
  // An item added: lengths differ.
  json two = {
      {"spec", {{"containers", json::array({containers[0], {{"name", "side"}, {"image", "busybox"}}})}}}};
  CHECK(threeWayMergePatch(modified, two, live) == two);
}

TEST_CASE("three-way patch: a first apply over an object created otherwise only adds", "[kube][apply]") {
  json modified = {{"data", {{"a", "1"}}}};
  json live = {{"data", {{"a", "1"}, {"z", "kept"}}}};
  CHECK(threeWayMergePatch(json::object(), modified, live) == json::object());
  CHECK(threeWayMergePatch(json::object(), {{"data", {{"b", "2"}}}}, live) == json{{"data", {{"b", "2"}}}});
}
