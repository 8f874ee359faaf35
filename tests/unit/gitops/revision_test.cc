// Flux's revision strings, as GitRepository status carries them and dependsOn compares them.
#include "gitops/revision.h"

#include <catch2/catch.hpp>

using namespace sluice::gitops;

TEST_CASE("a Flux revision parses into ref, algorithm and digest, and prints back the same", "[gitops]") {
  const auto r = parseRevision("main@sha1:4f2c0e1d9a");
  REQUIRE(r);
  CHECK(r->ref == "main");
  CHECK(r->algorithm == "sha1");
  CHECK(r->digest == "4f2c0e1d9a");
  CHECK(r->str() == "main@sha1:4f2c0e1d9a");

  const auto bare = parseRevision("sha1:4f2c0e1d9a");
  REQUIRE(bare);
  CHECK(bare->ref.empty());
  CHECK(bare->str() == "sha1:4f2c0e1d9a");

  const auto pull = parseRevision("refs/pull/1/head@sha1:ab");
  REQUIRE(pull);
  CHECK(pull->ref == "refs/pull/1/head");
}

TEST_CASE("strings that are not Flux revisions are refused", "[gitops]") {
  for (const char* bad : {"", "main", "main@", "@sha1:ab", "main@sha1:", "main@:ab", "sha1:XYZ", "sha1:AB"}) {
    INFO(bad);
    CHECK_FALSE(parseRevision(bad));
  }
}

TEST_CASE("two revisions are the same content when their digests agree, whatever the ref", "[gitops]") {
  CHECK(sameContent("main@sha1:ab12", "sha1:ab12"));
  CHECK(sameContent("main@sha1:ab12", "v1.0.0@sha1:ab12"));
  CHECK_FALSE(sameContent("main@sha1:ab12", "main@sha1:ab13"));
  CHECK_FALSE(sameContent("main@sha1:ab12", "main@sha256:ab12"));
}
