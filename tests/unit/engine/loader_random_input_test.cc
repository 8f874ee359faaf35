// Bad input never crashes the loader: thousands of seeded mutations of valid manifests (byte flips,
// truncations, insertions, and type swaps inside the parsed JSON) must come back as diagnostics.
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "base/source.h"
#include "engine/rollout_json.h"

using namespace sluice;

namespace {

std::vector<std::string> seedManifests() {
  std::vector<std::string> out;
  for (const char* name : {"valid.yaml", "argo.yaml", "problems.yaml", "invalid-rules.yaml"}) {
    auto text = readFile(std::string(SLUICE_SOURCE_DIR) + "/tests/data/lint/" + name);
    REQUIRE(text.ok());
    out.push_back(*text);
  }
  return out;
}

// Values of every JSON type, and the edge values a field of some type might choke on.
nlohmann::json randomValue(std::mt19937& rng) {
  switch (rng() % 12) {
    case 0:
      return nullptr;
    case 1:
      return true;
    case 2:
      return -1;
    case 3:
      return 4'000'000'000LL;
    case 4:
      return 18'446'744'073'709'551'615ULL;
    case 5:
      return 1.5;
    case 6:
      return "";
    case 7:
      return "25%";
    case 8:
      return "-1h";
    case 9:
      return nlohmann::json::array({1, "x"});
    case 10:
      return nlohmann::json::object({{"k", nlohmann::json::array()}});
    default:
      return "1970-01-01T00:00:00Z";
  }
}

// Every node of a JSON tree, so one can be picked at random.
void collectNodes(nlohmann::json& j, std::vector<nlohmann::json*>& out) {
  out.push_back(&j);
  if (j.is_object() || j.is_array()) {
    for (auto& child : j) collectNodes(child, out);
  }
}

// Loads every document of `text`; whatever happens must be reported, never thrown.
void loadAll(const std::string& text, size_t& rolloutsLoaded, size_t& rejected) {
  auto docs = parseYamlDocuments(text, "random.yaml");
  if (!docs) {
    CHECK_FALSE(docs.error().empty());
    ++rejected;
    return;
  }
  for (const auto& doc : *docs) {
    Diagnostics diags;
    auto rollout = engine::parseRollout(doc.json, doc.source, diags);
    REQUIRE(rollout.has_value() == !diags.hasErrors());
    if (rollout) {
      ++rolloutsLoaded;
    } else {
      ++rejected;
    }
  }
}

}  // namespace

TEST_CASE("mutated manifest text is reported, never thrown", "[engine][random]") {
  const auto seeds = seedManifests();
  std::mt19937 rng(20261127);
  size_t loaded = 0;
  size_t rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const size_t at = rng() % text.size();
      switch (rng() % 4) {
        case 0:
          text[at] = static_cast<char>(text[at] ^ (1 << (rng() % 8)));
          break;
        case 1:
          text.resize(at);
          break;
        case 2:
          text.insert(at, 1, "-:{}[]#&*!|>'\"%@`\n\t 0"[rng() % 21]);
          break;
        default:
          text.erase(at, 1 + rng() % 8);
          break;
      }
    }
    CHECK_NOTHROW(loadAll(text, loaded, rejected));
  }
  // The mutations must exercise both outcomes, or the test says nothing.
  CHECK(loaded > 100);
  CHECK(rejected > 100);
}

TEST_CASE("type swaps anywhere in a parsed manifest are reported, never thrown", "[engine][random]") {
  const auto seeds = seedManifests();
  std::vector<Document> documents;
  for (const auto& text : seeds) {
    auto docs = parseYamlDocuments(text, "seed.yaml");
    REQUIRE(docs.ok());
    for (auto& d : *docs) documents.push_back(std::move(d));
  }
  std::mt19937 rng(7);
  size_t errors = 0;
  for (int i = 0; i < 3000; ++i) {
    Document doc = documents[rng() % documents.size()];
    std::vector<nlohmann::json*> nodes;
    collectNodes(doc.json, nodes);
    *nodes[rng() % nodes.size()] = randomValue(rng);
    Diagnostics diags;
    std::optional<engine::Rollout> rollout;
    REQUIRE_NOTHROW(rollout = engine::parseRollout(doc.json, doc.source, diags));
    REQUIRE(rollout.has_value() == !diags.hasErrors());
    errors += diags.errorCount();
    for (const auto& d : diags.items()) CHECK_FALSE(d.message.empty());
    if (doc.json.is_object() && doc.json.contains("status")) {
      REQUIRE_NOTHROW((void)engine::statusFromJson(doc.json.at("status")));
    }
  }
  CHECK(errors > 1000);
}

TEST_CASE("random status objects are read or rejected, and what is read round-trips",
          "[engine][random][status]") {
  const std::vector<std::string> fields = {
      "abort",    "abortedAt",          "pauseConditions", "controllerPause", "currentStepIndex",
      "replicas", "observedGeneration", "conditions",      "restartedAt",     "canary",
      "phase",    "collisionCount"};
  std::mt19937 rng(99);
  size_t accepted = 0;
  for (int i = 0; i < 2000; ++i) {
    nlohmann::json status = nlohmann::json::object();
    const int n = static_cast<int>(rng() % 4);
    for (int k = 0; k < n; ++k) status[fields[rng() % fields.size()]] = randomValue(rng);
    Result<engine::RolloutStatus> read = Error{""};
    REQUIRE_NOTHROW(read = engine::statusFromJson(status));
    if (!read.ok()) continue;
    ++accepted;
    const nlohmann::json wire = engine::statusToJson(*read);
    auto again = engine::statusFromJson(wire);
    REQUIRE(again.ok());
    CHECK(engine::statusToJson(*again) == wire);
  }
  CHECK(accepted > 100);
}
