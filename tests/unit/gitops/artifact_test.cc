// Artifacts: what goes into the tarball (checked with the tar and sha256sum commands), that the same files
// give the same digest, extraction with its digest check and its refusals, and garbage collection.
#include "gitops/artifact.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "tests/support/process.h"

using namespace sluice;
using namespace sluice::gitops;
using sluice::testing::runCommand;
using sluice::testing::TempDir;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A checkout as git would leave it, with what the rules should keep out.
void makeCheckout(const fs::path& dir) {
  write(dir / "kustomization.yaml", "resources: [apps]\n");
  write(dir / "apps/web/deployment.yaml", "kind: Deployment\n");
  write(dir / "apps/web/notes.txt", "not for the cluster\n");
  write(dir / "apps/web/.sourceignore", "*.txt\n");
  write(dir / "docs/logo.png", "PNG");
  write(dir / ".github/workflows/ci.yaml", "on: push\n");
  write(dir / ".git/HEAD", "ref: refs/heads/main\n");
  write(dir / "scripts/run.sh", "#!/bin/sh\n");
  fs::permissions(dir / "scripts/run.sh", fs::perms::owner_exec, fs::perm_options::add);
  fs::create_symlink("/etc/passwd", dir / "apps/link");
}

std::vector<std::string> tarList(const fs::path& file) {
  auto r = runCommand("tar -tzf '" + file.string() + "'");
  REQUIRE(r.exitCode == 0);
  std::vector<std::string> out;
  std::istringstream lines(r.output);
  for (std::string l; std::getline(lines, l);) {
    if (!l.empty() && l.back() == '/') l.pop_back();
    out.push_back(l);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("an artifact holds the checkout minus .git, links and what the ignore rules exclude",
          "[gitops][artifact]") {
  TempDir tmp;
  const fs::path src = tmp / "checkout", storage = tmp / "storage";
  makeCheckout(src);
  auto file =
      writeArtifact(src, ignoreRulesFor(src, std::nullopt), storage, "gitrepository/ns/repo/abc.tar.gz");
  INFO((file ? std::string() : file.error()));
  REQUIRE(file.ok());
  const fs::path path = storage / "gitrepository/ns/repo/abc.tar.gz";
  CHECK(tarList(path) == std::vector<std::string>{"apps", "apps/web", "apps/web/.sourceignore",
                                                  "apps/web/deployment.yaml", "docs", "kustomization.yaml",
                                                  "scripts", "scripts/run.sh"});
  CHECK(file->files == 4);
  CHECK(file->size == static_cast<int64_t>(fs::file_size(path)));
  // The digest is the file's sha256, as sha256sum computes it.
  auto sum = runCommand("sha256sum '" + path.string() + "'");
  CHECK(file->digest == "sha256:" + sum.output.substr(0, 64));
  // No temporary file is left beside it.
  CHECK(std::distance(fs::directory_iterator(path.parent_path()), fs::directory_iterator()) == 1);
}

TEST_CASE("spec.ignore replaces the default exclusions and overrules .sourceignore", "[gitops][artifact]") {
  TempDir tmp;
  const fs::path src = tmp / "checkout", storage = tmp / "storage";
  makeCheckout(src);
  auto file = writeArtifact(src, ignoreRulesFor(src, std::string("/*\n!/apps\n!apps/web/notes.txt\n")),
                            storage, "a.tar.gz");
  REQUIRE(file.ok());
  CHECK(tarList(storage / "a.tar.gz") ==
        std::vector<std::string>{"apps", "apps/web", "apps/web/.sourceignore", "apps/web/deployment.yaml",
                                 "apps/web/notes.txt"});
}

TEST_CASE("the same files give the same artifact digest, other files another", "[gitops][artifact]") {
  TempDir tmp;
  const fs::path src = tmp / "checkout", storage = tmp / "storage";
  makeCheckout(src);
  const IgnoreRules rules = ignoreRulesFor(src, std::nullopt);
  auto first = writeArtifact(src, rules, storage, "1.tar.gz");
  fs::last_write_time(src / "kustomization.yaml", fs::file_time_type::clock::now() - std::chrono::hours(5));
  auto second = writeArtifact(src, rules, storage, "2.tar.gz");
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->digest == second->digest);
  write(src / "kustomization.yaml", "resources: [apps, more]\n");
  auto third = writeArtifact(src, rules, storage, "3.tar.gz");
  REQUIRE(third.ok());
  CHECK(third->digest != first->digest);
}

TEST_CASE("an artifact extracts to the files it was made of, after its digest is checked",
          "[gitops][artifact]") {
  TempDir tmp;
  const fs::path src = tmp / "checkout", storage = tmp / "storage", out = tmp / "out";
  makeCheckout(src);
  auto file = writeArtifact(src, ignoreRulesFor(src, std::nullopt), storage, "gitrepository/ns/r/c.tar.gz");
  REQUIRE(file.ok());
  const nlohmann::json artifact = {{"path", file->path}, {"digest", file->digest}};
  Status extracted = extractArtifact(storage, artifact, out);
  INFO(extracted.error());
  REQUIRE(extracted.ok());
  CHECK(read(out / "apps/web/deployment.yaml") == "kind: Deployment\n");
  CHECK(read(out / "kustomization.yaml") == "resources: [apps]\n");
  CHECK((fs::status(out / "scripts/run.sh").permissions() & fs::perms::owner_exec) != fs::perms::none);
  CHECK_FALSE(fs::exists(out / "apps/web/notes.txt"));
  CHECK_FALSE(fs::exists(out / ".git"));

  // A file changed after it was recorded is refused before anything is written.
  write(storage / file->path, read(storage / file->path) + "x");
  Status tampered = extractArtifact(storage, artifact, tmp / "out2");
  REQUIRE_FALSE(tampered.ok());
  CHECK_THAT(tampered.error(), Catch::Contains("digest") && Catch::Contains(file->digest));
  CHECK_FALSE(fs::exists(tmp / "out2" / "kustomization.yaml"));

  // Paths that leave the storage are refused.
  Status outside = extractArtifact(storage, {{"path", "../x.tar.gz"}, {"digest", "sha256:00"}}, out);
  CHECK_THAT(outside.error(), Catch::Contains("leaves the storage"));
  CHECK_THAT(extractArtifact(storage, {{"path", file->path}}, out).error(), Catch::Contains("no digest"));
}

TEST_CASE("an archive with a '..' or absolute entry is refused", "[gitops][artifact]") {
  for (const char* evil : {"../escaped.txt", "/tmp/absolute.txt", "ok/../../escaped.txt"}) {
    INFO(evil);
    TempDir tmp;
    const fs::path storage = tmp / "storage";
    fs::create_directories(storage);
    {
      archive* a = archive_write_new();
      archive_write_set_format_pax_restricted(a);
      archive_write_add_filter_gzip(a);
      REQUIRE(archive_write_open_filename(a, (storage / "evil.tar.gz").c_str()) == ARCHIVE_OK);
      archive_entry* e = archive_entry_new();
      archive_entry_set_pathname(e, evil);
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 0644);
      archive_entry_set_size(e, 3);
      archive_write_header(a, e);
      archive_write_data(a, "bad", 3);
      archive_entry_free(e);
      archive_write_close(a);
      archive_write_free(a);
    }
    auto digest = fileDigest(storage / "evil.tar.gz");
    REQUIRE(digest.ok());
    Status s = extractArtifact(storage, {{"path", "evil.tar.gz"}, {"digest", *digest}}, tmp / "out");
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.error(), Catch::Contains("refused the entry"));
    CHECK_FALSE(fs::exists(tmp / "escaped.txt"));
  }
}

TEST_CASE("garbage collection keeps the current artifact and the newest others, up to the retention",
          "[gitops][artifact]") {
  TempDir tmp;
  const fs::path dir = tmp / "gitrepository/ns/r";
  const auto now = fs::file_time_type::clock::now();
  // Oldest first; the current one is not the newest file (a revision rebuilt, say).
  const char* names[] = {"a.tar.gz", "b.tar.gz", "current.tar.gz", "c.tar.gz", "d.tar.gz"};
  for (int i = 0; i < 5; ++i) {
    write(dir / names[i], names[i]);
    fs::last_write_time(dir / names[i], now - std::chrono::minutes(10 - i));
  }
  write(dir / "notes.txt", "not an artifact");
  auto deleted =
      garbageCollectArtifacts(tmp.path(), "gitrepository/ns/r", "gitrepository/ns/r/current.tar.gz", 2);
  REQUIRE(deleted.ok());
  CHECK(*deleted == 3);
  CHECK(fs::exists(dir / "current.tar.gz"));
  CHECK(fs::exists(dir / "d.tar.gz"));
  for (const char* gone : {"a.tar.gz", "b.tar.gz", "c.tar.gz"}) CHECK_FALSE(fs::exists(dir / gone));
  CHECK(fs::exists(dir / "notes.txt"));
}
