// SOPS decryption against the fixtures of tests/data/sops (written by an encoder of their own and checked
// by an independent decoder from npm): every value and type back, the encryption rules, and every
// tampering refused with an error that names the file and holds no secret.
#include "gitops/sops.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/source.h"
#include "gitops/age.h"

using sluice::gitops::decryptSopsDocument;
using sluice::gitops::hasSopsMetadata;
using sluice::gitops::parseAgeIdentities;

namespace {

const std::string kDir = std::string(SLUICE_SOURCE_DIR) + "/tests/data/sops/";

std::string fixture(const std::string& name) {
  std::ifstream in(kDir + name, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> keys(const std::string& name) {
  auto ids = parseAgeIdentities(fixture("keys/" + name + ".agekey"));
  REQUIRE(ids.ok());
  return *ids;
}

// The documents a decrypted output holds, as JSON values.
nlohmann::json documents(const std::string& text, const std::string& fileName) {
  if (fileName.size() > 4 && fileName.substr(fileName.size() - 4) == ".env") {
    nlohmann::json doc = nlohmann::json::object();
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      std::string value = line.substr(line.find('=') + 1);
      for (size_t at = value.find("\\n"); at != std::string::npos; at = value.find("\\n", at + 1))
        value.replace(at, 2, "\n");
      doc[line.substr(0, line.find('='))] = value;
    }
    return nlohmann::json::array({doc});
  }
  if (fileName.size() > 5 && fileName.substr(fileName.size() - 5) == ".json")
    return nlohmann::json::array({nlohmann::json::parse(text)});
  auto docs = sluice::parseYamlDocuments(text, fileName);
  REQUIRE(docs.ok());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : *docs) out.push_back(d.json);
  return out;
}

std::string expectedFor(const std::string& fixtureName) {
  const auto dot = fixtureName.find(".sops.");
  return fixtureName.substr(0, dot) + "." + fixtureName.substr(dot + 6) + ".plain.json";
}

// Every string of the plaintext long enough to be told apart, and the secret keys: none may appear in an
// error message.
std::vector<std::string> secretsOf(const std::string& fixtureName) {
  std::vector<std::string> out;
  std::function<void(const nlohmann::json&)> collect = [&](const nlohmann::json& v) {
    if (v.is_string() && v.get<std::string>().size() >= 5) out.push_back(v.get<std::string>());
    if (v.is_structured())
      for (const auto& c : v) collect(c);
  };
  collect(nlohmann::json::parse(fixture(expectedFor(fixtureName))));
  for (const char* k : {"first", "second", "stranger"})
    for (const auto& id : keys(k)) out.push_back(id.substr(15, 30));
  out.emplace_back("AGE-SECRET-KEY");
  return out;
}

void checkNoSecrets(const std::string& error, const std::string& fixtureName) {
  for (const auto& s : secretsOf(fixtureName)) {
    INFO("the error quotes \"" << s << "\"");
    CHECK(error.find(s) == std::string::npos);
  }
}

std::string replaceOnce(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// The text of the line that starts with `prefix` (after indentation), without its end of line.
std::string lineStarting(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(' ');
    if (first != std::string::npos && line.compare(first, prefix.size(), prefix) == 0) return line;
  }
  FAIL("no line starts with " << prefix);
  return {};
}

std::string valueOf(const std::string& line) { return line.substr(line.find(": ") + 2); }

}  // namespace

TEST_CASE("SOPS fixtures decrypt to the plaintext they were encrypted from", "[gitops][sops]") {
  struct Row {
    const char* file;
    const char* key;
  };
  for (const Row row :
       {Row{"secret-default.sops.yaml", "first"}, Row{"all-types.sops.yaml", "first"},
        Row{"all-types.sops.json", "first"}, Row{"encrypted-regex.sops.yaml", "first"},
        Row{"unencrypted-regex.sops.yaml", "first"}, Row{"encrypted-suffix.sops.yaml", "first"},
        Row{"unencrypted-suffix.sops.yaml", "first"}, Row{"mac-only-encrypted.sops.yaml", "first"},
        Row{"two-recipients.sops.yaml", "second"}, Row{"two-recipients.sops.json", "second"},
        Row{"two-recipients.sops.yaml", "first"}, Row{"multi-document.sops.yaml", "first"},
        Row{"key-groups.sops.yaml", "first"}, Row{"bytes.sops.yaml", "first"},
        Row{"go-yaml-integers.sops.yaml", "first"}, Row{"app.sops.env", "first"}}) {
    INFO(row.file << " with the " << row.key << " key");
    const auto out = decryptSopsDocument(fixture(row.file), row.file, keys(row.key));
    INFO((out.ok() ? std::string() : out.error()));
    REQUIRE(out.ok());
    CHECK(out->find("ENC[") == std::string::npos);
    CHECK(out->find("sops") == std::string::npos);
    CHECK(documents(*out, row.file) == nlohmann::json::parse(fixture(expectedFor(row.file))));
  }
}

TEST_CASE("decrypted YAML keeps every value's type: quoted numbers stay strings, floats stay floats",
          "[gitops][sops]") {
  const auto out = decryptSopsDocument(fixture("all-types.sops.yaml"), "all-types.sops.yaml", keys("first"));
  REQUIRE(out.ok());
  const auto doc = documents(*out, "all-types.sops.yaml")[0];
  CHECK(doc["port"].is_number_integer());
  CHECK(doc["quoted_number"] == "8080");
  CHECK(doc["quoted_bool"] == "true");
  CHECK(doc["whole_float"].is_number_float());
  CHECK(doc["ratio"] == 0.25);
  CHECK(doc["enabled"] == true);
  CHECK(doc["nothing"].is_null());
  CHECK(doc["multiline"] == "line one\nline two\n");
  CHECK(doc["nested"]["list"] == nlohmann::json::parse(R"(["a", 1, 1.5, false])"));
}

TEST_CASE("a document without SOPS metadata passes through byte for byte", "[gitops][sops]") {
  for (const std::string& text :
       {std::string("apiVersion: v1\nkind: ConfigMap\n# a comment\ndata: {a: '1'}\n"),
        std::string("{\"kind\": \"ConfigMap\",  \"data\": {}}\n"), std::string("")}) {
    const std::string name = text.front() == '{' ? "cm.json" : "cm.yaml";
    CHECK_FALSE(hasSopsMetadata(text, name));
    const auto out = decryptSopsDocument(text, name, keys("first"));
    REQUIRE(out.ok());
    CHECK(*out == text);
  }
  CHECK(hasSopsMetadata(fixture("secret-default.sops.yaml"), "s.yaml"));
  CHECK(hasSopsMetadata(fixture("all-types.sops.json"), "s.json"));
}

TEST_CASE("a document is refused when no identity is among its recipients, listing the recipients",
          "[gitops][sops]") {
  const auto out =
      decryptSopsDocument(fixture("secret-default.sops.yaml"), "apps/secret.yaml", keys("stranger"));
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error(),
             Catch::StartsWith("apps/secret.yaml: no age identity of the decryption keys unwraps"));
  CHECK_THAT(out.error(), Catch::Contains("age16jzca9y9tv0ma4t9qeuct6v9lln9v6afzpsqfdywfqhtaaag89jq5qehu7"));
  checkNoSecrets(out.error(), "secret-default.sops.yaml");
}

TEST_CASE("any change to a SOPS document after encryption is refused, naming the file and the field",
          "[gitops][sops]") {
  const std::string regex = fixture("encrypted-regex.sops.yaml");
  const std::string types = fixture("all-types.sops.yaml");
  const std::string json = fixture("all-types.sops.json");
  const std::string password = valueOf(lineStarting(regex, "password:"));
  const std::string apiKey = valueOf(lineStarting(regex, "apiKey:"));
  const std::string name = valueOf(lineStarting(types, "name:"));
  auto flipData = [](std::string text, const std::string& value) {
    const auto at = text.find(value) + std::string("ENC[AES256_GCM,data:").size() + 1;
    text[at] = text[at] == 'A' ? 'B' : 'A';
    return text;
  };
  struct Row {
    const char* what;
    const char* fixtureName;
    std::string text;
    std::string error;
  };
  const std::vector<Row> rows = {
      {"an unencrypted value edited", "encrypted-regex.sops.yaml",
       replaceOnce(regex, "name: \"db-credentials\"", "name: \"db-credentialz\""), "MAC mismatch"},
      {"an unencrypted entry removed", "encrypted-regex.sops.yaml", replaceOnce(regex, "app: \"shop\"", "{}"),
       "MAC mismatch"},
      {"two encrypted values swapped", "encrypted-regex.sops.yaml",
       replaceOnce(replaceOnce(replaceOnce(regex, password, "SWAP"), apiKey, password), "SWAP", apiKey),
       "stringData.password (line 10): the value does not decrypt"},
      {"a ciphertext byte changed", "encrypted-regex.sops.yaml", flipData(regex, password),
       "stringData.password (line 10): the value does not decrypt"},
      {"an encrypted value moved to another key", "all-types.sops.yaml",
       replaceOnce(types, "\"key with spaces\": ", "renamed: "), "renamed (line"},
      {"an encrypted value replaced by plaintext", "all-types.sops.yaml",
       replaceOnce(types, "name: " + name, "name: \"checkout\""),
       "name (line 2): the value is not a SOPS-encrypted"},
      {"lastmodified changed", "encrypted-regex.sops.yaml",
       replaceOnce(regex, "lastmodified: \"2026-12-07T01:02:03Z\"", "lastmodified: \"2026-12-07T01:02:04Z\""),
       "the MAC does not decrypt"},
      {"the MAC removed", "encrypted-regex.sops.yaml",
       replaceOnce(regex, lineStarting(regex, "mac: "), "    mac: \"\""), "mac is missing"},
      {"the encryption rule changed", "encrypted-regex.sops.yaml",
       replaceOnce(regex, "encrypted_regex: \"^(data|stringData)$\"", "encrypted_regex: \"^stringData$\""),
       "MAC mismatch"},
      {"a JSON value edited", "all-types.sops.json",
       replaceOnce(json, "\"token_unencrypted\": \"clear\"", "\"token_unencrypted\": \"clean\""),
       "MAC mismatch"},
  };
  for (const auto& row : rows) {
    INFO(row.what);
    const std::string file = std::string("clusters/prod/") + row.fixtureName;
    const auto out = decryptSopsDocument(row.text, file, keys("first"));
    REQUIRE_FALSE(out.ok());
    CHECK_THAT(out.error(), Catch::StartsWith(file + ": "));
    CHECK_THAT(out.error(), Catch::Contains(row.error));
    checkNoSecrets(out.error(), row.fixtureName);
  }
}

TEST_CASE("reordering encrypted list items decrypts each item but breaks the MAC", "[gitops][sops]") {
  // The items of a list share their parent's path, so each still decrypts where it lands: only the MAC,
  // which covers the values in order, tells.
  const std::string types = fixture("all-types.sops.yaml");
  std::istringstream in(types);
  std::vector<std::string> items;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("        - ENC[", 0) == 0) items.push_back(line);
  REQUIRE(items.size() >= 2);
  std::string swapped = replaceOnce(types, items[0], "#first");
  swapped = replaceOnce(swapped, items[1], items[0]);
  swapped = replaceOnce(swapped, "#first", items[1]);
  const auto out = decryptSopsDocument(swapped, "all-types.sops.yaml", keys("first"));
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error(), Catch::Contains("MAC mismatch"));
  checkNoSecrets(out.error(), "all-types.sops.yaml");
}

TEST_CASE("with mac_only_encrypted, unencrypted values may change and encrypted ones may not",
          "[gitops][sops]") {
  const std::string text = fixture("mac-only-encrypted.sops.yaml");
  const auto edited = decryptSopsDocument(replaceOnce(text, "namespace: \"shop\"", "namespace: \"staging\""),
                                          "m.yaml", keys("first"));
  REQUIRE(edited.ok());
  CHECK(documents(*edited, "m.yaml")[0]["metadata"]["namespace"] == "staging");
  CHECK(documents(*edited, "m.yaml")[0]["stringData"]["password"] == "mac-only-secret");

  const auto flipped = decryptSopsDocument(
      replaceOnce(text, "mac_only_encrypted: true", "mac_only_encrypted: false"), "m.yaml", keys("first"));
  REQUIRE_FALSE(flipped.ok());
  CHECK_THAT(flipped.error(), Catch::Contains("MAC mismatch"));
}

TEST_CASE("SOPS metadata that cannot be honoured is refused with the reason", "[gitops][sops]") {
  const std::string regex = fixture("encrypted-regex.sops.yaml");
  const std::string groups = fixture("key-groups.sops.yaml");
  struct Row {
    const char* what;
    std::string text;
    std::string error;
  };
  const std::string ageBlock = groups.substr(groups.find("        -\n            age:"));
  const std::vector<Row> rows = {
      {"two key groups (Shamir)",
       replaceOnce(groups, "    key_groups:\n",
                   "    key_groups:\n" + ageBlock.substr(0, ageBlock.find("    lastmodified"))),
       "key_groups with 2 groups (Shamir secret sharing) are not supported"},
      {"two encryption rules",
       replaceOnce(regex, "    version:", "    unencrypted_suffix: _plain\n    version:"),
       "more than one of unencrypted_suffix, encrypted_suffix"},
      {"an invalid regular expression", replaceOnce(regex, "\"^(data|stringData)$\"", "\"^(data\""),
       "encrypted_regex is not a valid regular expression"},
      {"comment rules",
       replaceOnce(regex, "    version:", "    unencrypted_comment_regex: sops\n    version:"),
       "unencrypted_comment_regex is not supported"},
      {"no age recipient", replaceOnce(regex, "    age:\n", "    pgp:\n"), "no age recipient"},
      {"a bad lastmodified", replaceOnce(regex, "2026-12-07T01:02:03Z", "yesterday"),
       "lastmodified is missing or not an RFC 3339 time"},
      {"malformed YAML", regex + "  bad: [\n", "invalid YAML"},
      {"YAML nested past the limit", "# sops\n" + std::string(300, '[') + std::string(300, ']'), "nest"},
  };
  for (const auto& row : rows) {
    INFO(row.what);
    const auto out = decryptSopsDocument(row.text, "s.yaml", keys("first"));
    REQUIRE_FALSE(out.ok());
    CHECK_THAT(out.error(), Catch::StartsWith("s.yaml"));
    CHECK_THAT(out.error(), Catch::Contains(row.error));
  }
  const auto deep = decryptSopsDocument("{\"sops\": " + std::string(2000, '[') + std::string(2000, ']') + "}",
                                        "deep.json", keys("first"));
  REQUIRE_FALSE(deep.ok());
  CHECK_THAT(deep.error(), Catch::StartsWith("deep.json: nested more than 200 levels deep"));
}

TEST_CASE("a value that does not decrypt to UTF-8 text is refused, not written out mangled",
          "[gitops][sops]") {
  const auto out = decryptSopsDocument(fixture("not-utf8.sops.yaml"), "not-utf8.sops.yaml", keys("first"));
  REQUIRE_FALSE(out.ok());
  CHECK(out.error() == "not-utf8.sops.yaml: blob (line 1): the decrypted value is not UTF-8 text");
}

TEST_CASE("SOPS metadata in a later document only is refused: SOPS reads it from the first",
          "[gitops][sops]") {
  const auto out = decryptSopsDocument("kind: ConfigMap\n---\n" + fixture("secret-default.sops.yaml"),
                                       "two.yaml", keys("first"));
  REQUIRE_FALSE(out.ok());
  CHECK(out.error() ==
        "two.yaml: document 2 has SOPS metadata but the first document has none (SOPS reads it "
        "from the first)");
}

TEST_CASE("with the MAC check skipped, as for objects out of kustomize build, only the values are verified",
          "[gitops][sops]") {
  // What kustomize does to an object: a namespace set, a label added (both covered by the MAC).
  std::string built =
      replaceOnce(fixture("encrypted-regex.sops.yaml"), "namespace: \"shop\"", "namespace: \"prod\"");
  built = replaceOnce(built, "        app: \"shop\"\n", "        app: \"shop\"\n        env: \"prod\"\n");
  const auto verified = decryptSopsDocument(built, "built.yaml", keys("first"));
  REQUIRE_FALSE(verified.ok());
  CHECK_THAT(verified.error(), Catch::Contains("MAC mismatch"));

  const auto skipped =
      decryptSopsDocument(built, "built.yaml", keys("first"), sluice::gitops::MacCheck::kSkip);
  REQUIRE(skipped.ok());
  const auto doc = documents(*skipped, "built.yaml")[0];
  CHECK(doc["metadata"]["labels"]["env"] == "prod");
  CHECK(doc["stringData"]["password"] == "hunter2");

  // An encrypted value is still authenticated with its path.
  const std::string regex = fixture("encrypted-regex.sops.yaml");
  const std::string password = valueOf(lineStarting(regex, "password:"));
  const std::string apiKey = valueOf(lineStarting(regex, "apiKey:"));
  const auto swapped = decryptSopsDocument(
      replaceOnce(replaceOnce(replaceOnce(regex, password, "SWAP"), apiKey, password), "SWAP", apiKey),
      "built.yaml", keys("first"), sluice::gitops::MacCheck::kSkip);
  REQUIRE_FALSE(swapped.ok());
  CHECK_THAT(swapped.error(), Catch::Contains("stringData.password (line 10): the value does not decrypt"));
  // No MAC at all is accepted when it is not checked.
  const auto noMac = decryptSopsDocument(replaceOnce(regex, lineStarting(regex, "mac: "), "    mac: \"\""),
                                         "built.yaml", keys("first"), sluice::gitops::MacCheck::kSkip);
  CHECK(noMac.ok());
}

TEST_CASE("unencrypted special floats (.inf, .nan) keep their value through decryption", "[gitops][sops]") {
  const std::string text = replaceOnce(fixture("encrypted-regex.sops.yaml"), "type: \"Opaque\"\n",
                                       "type: \"Opaque\"\nlimits_unencrypted: [.inf, -.inf, .nan]\n");
  // The MAC no longer matches (a value was added): skipped, so that only the reading is under test.
  const auto out = decryptSopsDocument(text, "f.yaml", keys("first"), sluice::gitops::MacCheck::kSkip);
  REQUIRE(out.ok());
  CHECK_THAT(*out,
             Catch::Contains("- .inf\n") && Catch::Contains("- -.inf\n") && Catch::Contains("- .nan\n"));
}

TEST_CASE("a manifest that never mentions sops passes unparsed, whatever its size", "[gitops][sops]") {
  const std::string big = "kind: ConfigMap\ndata:\n  blob: \"" + std::string(9u << 20, 'x') + "\"\n";
  const auto out = decryptSopsDocument(big, "big.yaml", keys("first"));
  REQUIRE(out.ok());
  CHECK(*out == big);
  const auto tooBig = decryptSopsDocument(big + "sops: {}\n", "big.yaml", keys("first"));
  REQUIRE_FALSE(tooBig.ok());
  CHECK(tooBig.error() == "big.yaml: larger than 8 MiB");
}
