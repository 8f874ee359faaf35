// age decryption against files the real `age` command encrypted: binary and armored, chunk boundaries,
// several recipients, the wrong key, and files cut short or altered anywhere.
#include "gitops/age.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/base64.h"
#include "tests/support/process.h"

using sluice::gitops::ageDecrypt;
using sluice::gitops::ageRecipient;
using sluice::gitops::parseAgeIdentities;
using sluice::testing::runCommand;
using sluice::testing::TempDir;

namespace {

std::string readAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void writeAll(const std::filesystem::path& p, const std::string& data) {
  std::ofstream(p, std::ios::binary) << data;
}

// A key made by the real age-keygen: the identity line and the recipient it printed.
struct Key {
  std::string identity;
  std::string recipient;
};

Key makeKey(const TempDir& dir, const std::string& name) {
  const auto file = dir / (name + ".agekey");
  const auto gen = runCommand("age-keygen -o '" + file.string() + "' 2>&1");
  REQUIRE(gen.exitCode == 0);
  const auto ids = parseAgeIdentities(readAll(file));
  REQUIRE(ids.ok());
  REQUIRE(ids->size() == 1);
  const auto pub = runCommand("age-keygen -y '" + file.string() + "'");
  REQUIRE(pub.exitCode == 0);
  return {ids->front(), pub.output.substr(0, pub.output.find('\n'))};
}

// Encrypts `plain` with the age command for `recipients`; armored with -a.
std::string ageEncrypt(const TempDir& dir, const std::string& plain, const std::vector<Key>& recipients,
                       bool armor) {
  writeAll(dir / "plain", plain);
  std::string cmd = "age --encrypt";
  if (armor) cmd += " --armor";
  for (const auto& k : recipients) cmd += " -r " + k.recipient;
  cmd += " -o '" + (dir / "cipher").string() + "' '" + (dir / "plain").string() + "' 2>&1";
  const auto r = runCommand(cmd);
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  return readAll(dir / "cipher");
}

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + 7) % 251);
  return s;
}

}  // namespace

TEST_CASE("files the age command encrypted decrypt to their plaintext, binary and armored, at chunk edges",
          "[gitops][age]") {
  TempDir dir("sluice-age");
  const Key key = makeKey(dir, "k");
  struct Row {
    size_t size;
    bool armor;
  };
  for (const Row row : {Row{0, false}, Row{1, true}, Row{32, false}, Row{65535, false}, Row{65536, true},
                        Row{65537, false}, Row{3 * 65536, false}, Row{200001, true}}) {
    INFO("plaintext of " << row.size << " bytes, " << (row.armor ? "armored" : "binary"));
    const std::string plain = pattern(row.size);
    const auto file = ageEncrypt(dir, plain, {key}, row.armor);
    CHECK((file.rfind("-----BEGIN AGE ENCRYPTED FILE-----", 0) == 0) == row.armor);
    const auto out = ageDecrypt(file, {key.identity});
    REQUIRE(out.ok());
    CHECK(*out == plain);
  }
}

TEST_CASE("a file for several recipients decrypts with any one of their identities", "[gitops][age]") {
  TempDir dir("sluice-age");
  const Key a = makeKey(dir, "a");
  const Key b = makeKey(dir, "b");
  const Key c = makeKey(dir, "c");
  const auto file = ageEncrypt(dir, "the data key", {a, b, c}, true);
  for (const auto& k : {a, b, c}) {
    const auto out = ageDecrypt(file, {k.identity});
    REQUIRE(out.ok());
    CHECK(*out == "the data key");
  }
  const Key stranger = makeKey(dir, "stranger");
  // The stranger's key first: the next identity is tried.
  const auto out = ageDecrypt(file, {stranger.identity, b.identity});
  REQUIRE(out.ok());
  CHECK(*out == "the data key");
}

TEST_CASE("the wrong key is refused with a clear error that holds no key", "[gitops][age]") {
  TempDir dir("sluice-age");
  const Key right = makeKey(dir, "right");
  const Key wrong = makeKey(dir, "wrong");
  const auto out = ageDecrypt(ageEncrypt(dir, "secret payload", {right}, false), {wrong.identity});
  REQUIRE_FALSE(out.ok());
  CHECK(out.error() == "no age identity matched any of the file's recipients");
}

TEST_CASE("a truncated, extended or altered age file is refused", "[gitops][age]") {
  TempDir dir("sluice-age");
  const Key key = makeKey(dir, "k");
  const std::string plain = pattern(100000);  // two chunks
  const std::string file = ageEncrypt(dir, plain, {key}, false);
  const size_t payload = file.find("\n---") + 1 + file.substr(file.find("\n---") + 1).find('\n') + 1;
  const size_t stanza = file.find("-> X25519 ");
  struct Row {
    const char* what;
    std::string bytes;
    const char* error;
  };
  auto flip = [&file](size_t at) {
    std::string f = file;
    f[at] = static_cast<char>(f[at] ^ 0x01);
    return f;
  };
  // Another base64 character in place of the one at `at`, so that the text stays well-formed.
  auto another = [&file](size_t at) {
    std::string f = file;
    f[at] = f[at] == 'A' ? 'B' : 'A';
    return f;
  };
  const std::vector<Row> rows = {
      {"the last byte cut", file.substr(0, file.size() - 1), "failed authentication at chunk 1"},
      {"the whole last chunk cut (the first then reads as the last)",
       file.substr(0, payload + 16 + 65536 + 16), "failed authentication at chunk 0"},
      {"cut inside the header", file.substr(0, payload - 10), "the age header"},
      {"no chunk after the nonce", file.substr(0, payload + 16), "truncated (no chunk)"},
      {"a byte appended", file + "x", "failed authentication at chunk 1"},
      {"an empty chunk appended", file + std::string(16, '\0'), "failed authentication"},
      {"a payload byte flipped", flip(payload + 16 + 100), "failed authentication at chunk 0"},
      {"the nonce altered", flip(payload + 3), "failed authentication at chunk 0"},
      {"the header MAC altered", another(payload - 5), "the age header MAC does not verify"},
      {"the ephemeral share altered", flip(stanza + 12), "no age identity matched"},
      {"the version line altered", flip(3), "not an age file"},
  };
  for (const auto& row : rows) {
    INFO(row.what);
    const auto out = ageDecrypt(row.bytes, {key.identity});
    REQUIRE_FALSE(out.ok());
    CHECK_THAT(out.error(), Catch::Contains(row.error));
    CHECK_THAT(out.error(), !Catch::Contains("AGE-SECRET-KEY"));
  }
  // A stanza moved in from another file: its wrapped key no longer matches this header's MAC.
  const std::string other = ageEncrypt(dir, plain, {key}, false);
  const size_t otherStanza = other.find("-> X25519 ");
  std::string spliced = file;
  spliced.replace(stanza, file.find("\n---") - stanza,
                  other.substr(otherStanza, other.find("\n---") - otherStanza));
  const auto out = ageDecrypt(spliced, {key.identity});
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error(), Catch::Contains("header MAC"));
}

TEST_CASE("age key files are read as age-keygen writes them: comments, blank lines, several keys",
          "[gitops][age]") {
  TempDir dir("sluice-age");
  const Key a = makeKey(dir, "a");
  const Key b = makeKey(dir, "b");
  std::string lower = b.identity;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto ids =
      parseAgeIdentities(readAll(dir / "a.agekey") + "\n\n  # second key, in lower case\n" + lower + "\r\n");
  REQUIRE(ids.ok());
  REQUIRE(ids->size() == 2);
  CHECK((*ids)[0] == a.identity);
  CHECK((*ids)[1] == b.identity);
  // The recipient computed from the identity is the one age-keygen printed.
  CHECK(ageRecipient(a.identity).value() == a.recipient);
  CHECK(ageRecipient(b.identity).value() == b.recipient);
}

TEST_CASE("a malformed age key file is refused naming the line, never quoting it", "[gitops][age]") {
  TempDir dir("sluice-age");
  const Key a = makeKey(dir, "a");
  std::string typo = a.identity;
  typo[20] = typo[20] == 'Q' ? 'P' : 'Q';  // breaks the Bech32 checksum
  std::string mixed = a.identity;
  // One letter of the key part in lower case (a digit has no case: the first letter after the prefix).
  const size_t letter = mixed.find_first_not_of("0123456789", 16);
  mixed[letter] = static_cast<char>(std::tolower(mixed[letter]));
  struct Row {
    std::string text;
    std::string error;
  };
  for (const auto& row : {Row{"# only a comment\n\n", "no age identity (AGE-SECRET-KEY-1...) found"},
                          Row{"# key\n" + typo + "\n", "line 2 is not an age X25519 identity"},
                          Row{a.identity + "\n" + mixed + "\n", "line 2 is not an age X25519 identity"},
                          Row{a.identity + "\n" + a.recipient + "\n", "line 2 is not an age X25519 identity"},
                          Row{a.identity + " trailing\n", "line 1 is not an age X25519 identity"}}) {
    const auto ids = parseAgeIdentities(row.text);
    REQUIRE_FALSE(ids.ok());
    CHECK_THAT(ids.error(), Catch::StartsWith(row.error));
    CHECK_THAT(ids.error(), !Catch::Contains(a.identity.substr(15, 20)));
    CHECK_THAT(ids.error(), !Catch::Contains(typo.substr(15, 20)));
  }
}

TEST_CASE("a decryption Secret's .agekey entries give its identities, other entries are left alone",
          "[gitops][age]") {
  TempDir dir("sluice-age");
  const Key a = makeKey(dir, "a");
  const Key b = makeKey(dir, "b");
  const std::string both = readAll(dir / "a.agekey") + readAll(dir / "b.agekey");
  const nlohmann::json secret = {
      {"metadata", {{"name", "sops-age"}, {"namespace", "flux-system"}}},
      {"data", {{"team.agekey", sluice::base64Encode(both)}, {"pgp.asc", sluice::base64Encode("not age")}}},
      {"stringData", {{"extra.agekey", "# one more\n" + a.identity + "\n"}}}};
  const auto ids = sluice::gitops::ageIdentitiesFromSecret(secret);
  REQUIRE(ids.ok());
  CHECK(*ids == std::vector<std::string>{a.identity, b.identity, a.identity});

  struct Row {
    nlohmann::json data;
    std::string error;
  };
  for (const auto& row :
       {Row{{{"pgp.asc", "eA=="}}, "Secret flux-system/sops-age: no entry ending in .agekey"},
        Row{{{"k.agekey", "!!"}}, "Secret flux-system/sops-age: data.k.agekey: not valid base64"},
        Row{{{"k.agekey", sluice::base64Encode("oops " + a.identity)}},
            "Secret flux-system/sops-age: data.k.agekey: line 1 is not an age X25519 identity"}}) {
    const auto bad = sluice::gitops::ageIdentitiesFromSecret(
        {{"metadata", {{"name", "sops-age"}, {"namespace", "flux-system"}}}, {"data", row.data}});
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.error(), Catch::StartsWith(row.error));
    CHECK_THAT(bad.error(), !Catch::Contains(a.identity.substr(15, 20)));
  }
}
