// spec.ref.semver: Masterminds-style ranges over tag versions, and the highest matching tag.
#include "gitops/semver.h"

#include <catch2/catch.hpp>

using namespace sluice::gitops;

TEST_CASE("a semver range matches the versions Masterminds' rules say it does", "[gitops][semver]") {
  struct Row {
    const char* range;
    const char* version;
    bool matches;
  };
  const Row rows[] = {
      // explicit bounds
      {">=1.0.0 <2.0.0", "1.0.0", true},
      {">=1.0.0 <2.0.0", "1.9.9", true},
      {">=1.0.0 <2.0.0", "2.0.0", false},
      {">=1.0.0 <2.0.0", "0.9.0", false},
      {">=1.0.0, <2.0.0", "1.5.0", true},
      {">= 1.2", "1.2.0", true},
      {">1.2.3", "1.2.3", false},
      {">1.2.3", "1.2.4", true},
      {">1.2", "1.2.9", false},  // partial: greater than every 1.2.x
      {">1.2", "1.3.0", true},
      {"<=1.2", "1.2.9", true},  // partial: up to every 1.2.x
      {"<=1.2", "1.3.0", false},
      {"!=1.2.3", "1.2.3", false},
      {"!=1.2.3", "1.2.4", true},
      // tilde: patch-level changes
      {"~1.2.3", "1.2.9", true},
      {"~1.2.3", "1.2.2", false},
      {"~1.2.3", "1.3.0", false},
      {"~1.2", "1.2.0", true},
      {"~1.2", "1.3.0", false},
      {"~1", "1.9.0", true},
      {"~1", "2.0.0", false},
      // caret: compatible changes, the first non-zero part fixed
      {"^1.2.3", "1.9.0", true},
      {"^1.2.3", "1.2.2", false},
      {"^1.2.3", "2.0.0", false},
      {"^0.2.3", "0.2.9", true},
      {"^0.2.3", "0.3.0", false},
      {"^0.0.3", "0.0.3", true},
      {"^0.0.3", "0.0.4", false},
      {"^2", "2.5.1", true},
      {"^2", "3.0.0", false},
      // wildcards and bare partial versions
      {"1.2.x", "1.2.7", true},
      {"1.2.x", "1.3.0", false},
      {"1.2.*", "1.2.0", true},
      {"1.x", "1.99.0", true},
      {"1.x", "2.0.0", false},
      {"1.2", "1.2.5", true},
      {"*", "3.4.5", true},
      {"1.2.3", "1.2.3", true},
      {"1.2.3", "1.2.4", false},
      // hyphen ranges
      {"1.2 - 1.4.5", "1.2.0", true},
      {"1.2 - 1.4.5", "1.4.5", true},
      {"1.2 - 1.4.5", "1.4.6", false},
      {"1.2 - 1.4", "1.4.9", true},
      // alternatives
      {"<1.0.0 || >=3.0.0", "0.5.0", true},
      {"<1.0.0 || >=3.0.0", "2.0.0", false},
      {"<1.0.0 || >=3.0.0", "3.1.0", true},
      // prereleases only when the range names one
      {">=1.0.0", "2.0.0-rc.1", false},
      {">=2.0.0-rc.0", "2.0.0-rc.1", true},
      {">=2.0.0-rc.2", "2.0.0-rc.1", false},
      {"^1.2.3", "1.3.0-beta", false},
      // a leading v on either side
      {">=v1.0.0", "1.0.0", true},
  };
  for (const Row& row : rows) {
    INFO(row.range << " against " << row.version);
    auto range = SemVerRange::parse(row.range);
    INFO((range ? std::string() : range.error()));
    REQUIRE(range.ok());
    auto version = parseSemVer(row.version);
    REQUIRE(version);
    CHECK(range->matches(*version) == row.matches);
  }
}

TEST_CASE("a range that cannot be read is an error naming it", "[gitops][semver]") {
  for (const char* bad : {"", ">=abc", "1.x.3", "=>>1.0", "1.2.3.4", ">", "<*", "!=1.2", "1.0 ||"}) {
    INFO(bad);
    auto range = SemVerRange::parse(bad);
    REQUIRE_FALSE(range.ok());
    CHECK_THAT(range.error(), Catch::Contains("semver range"));
  }
}

TEST_CASE("versions order by SemVer precedence, prereleases before their release", "[gitops][semver]") {
  const char* ascending[] = {"0.9.0",      "1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta",
                             "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",
                             "1.0.0",      "1.0.1",        "1.10.0",        "2.0.0"};
  for (size_t i = 0; i + 1 < std::size(ascending); ++i) {
    INFO(ascending[i] << " < " << ascending[i + 1]);
    CHECK(parseSemVer(ascending[i])->compare(*parseSemVer(ascending[i + 1])) < 0);
    CHECK(parseSemVer(ascending[i + 1])->compare(*parseSemVer(ascending[i])) > 0);
  }
  CHECK(parseSemVer("1.0.0+build.5")->compare(*parseSemVer("1.0.0")) == 0);
}

TEST_CASE("tags that are not versions are not versions", "[gitops][semver]") {
  for (const char* tag : {"latest", "release-1", "1.x", "v", "01.2.3", "1.2.3-", "1.2.3-a..b"}) {
    INFO(tag);
    CHECK_FALSE(parseSemVer(tag));
  }
  CHECK(parseSemVer("v1.2")->minor == 2);
  CHECK(parseSemVer("v1.2")->patch == 0);
}

TEST_CASE("the highest tag in the range wins, and tags that are not versions are skipped",
          "[gitops][semver]") {
  const std::vector<std::string> tags = {"v1.0.0",      "v1.2.0", "v1.10.1", "v2.0.0",
                                         "v2.1.0-rc.1", "latest", "v0.9.0"};
  struct Row {
    const char* range;
    std::optional<std::string> tag;
  };
  const Row rows[] = {
      {">=1.0.0 <2.0.0", "v1.10.1"},   {"^2", "v2.0.0"},          {"~1.2", "v1.2.0"},
      {">=2.1.0-rc.0", "v2.1.0-rc.1"}, {">=3.0.0", std::nullopt}, {"*", "v2.0.0"},
  };
  for (const Row& row : rows) {
    INFO(row.range);
    auto range = SemVerRange::parse(row.range);
    REQUIRE(range.ok());
    CHECK(highestMatchingTag(*range, tags) == row.tag);
  }
}
