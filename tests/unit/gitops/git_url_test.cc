// spec.url: the address forms a GitRepository accepts, and the ones it refuses with a reason.
#include "gitops/git_url.h"

#include <catch2/catch.hpp>

using namespace sluice::gitops;

TEST_CASE("git URLs parse into scheme, user, host, port and path", "[gitops][url]") {
  struct Row {
    const char* url;
    const char* scheme;
    const char* user;
    const char* host;
    int port;
    const char* path;
    bool scpLike;
    const char* knownHostsName;
  };
  const Row rows[] = {
      {"https://github.com/org/repo.git", "https", "", "github.com", 0, "/org/repo.git", false, "github.com"},
      {"http://127.0.0.1:8080/repo", "http", "", "127.0.0.1", 8080, "/repo", false, "[127.0.0.1]:8080"},
      {"ssh://git@github.com/org/repo.git", "ssh", "git", "github.com", 0, "/org/repo.git", false,
       "github.com"},
      {"ssh://git@127.0.0.1:2222/srv/repo", "ssh", "git", "127.0.0.1", 2222, "/srv/repo", false,
       "[127.0.0.1]:2222"},
      {"ssh://git@host:22/repo", "ssh", "git", "host", 22, "/repo", false, "host"},
      {"git@github.com:org/repo.git", "ssh", "git", "github.com", 0, "org/repo.git", true, "github.com"},
      {"github.com:org/repo.git", "ssh", "", "github.com", 0, "org/repo.git", true, "github.com"},
      {"git://127.0.0.1:9418/repo", "git", "", "127.0.0.1", 9418, "/repo", false, "[127.0.0.1]:9418"},
      {"file:///srv/git/repo", "file", "", "", 0, "/srv/git/repo", false, ""},
      {"https://user:pw@example.com/r", "https", "user", "example.com", 0, "/r", false, "example.com"},
      {"ssh://git@[::1]:2222/repo", "ssh", "git", "::1", 2222, "/repo", false, "[::1]:2222"},
  };
  for (const Row& row : rows) {
    INFO(row.url);
    auto u = parseGitUrl(row.url);
    INFO((u ? std::string() : u.error()));
    REQUIRE(u.ok());
    CHECK(u->scheme == row.scheme);
    CHECK(u->user == row.user);
    CHECK(u->host == row.host);
    CHECK(u->port == row.port);
    CHECK(u->path == row.path);
    CHECK(u->scpLike == row.scpLike);
    if (*row.host) CHECK(u->knownHostsName() == row.knownHostsName);
  }
}

TEST_CASE("git URLs that cannot be fetched are refused with the reason", "[gitops][url]") {
  struct Row {
    const char* url;
    const char* message;
  };
  const Row rows[] = {
      {"", "empty"},
      {"ftp://example.com/repo", "unsupported scheme \"ftp\""},
      {"/srv/git/repo", "has no scheme"},
      {"relative/path", "has no scheme"},
      {"https:///repo", "no host"},
      {"https://example.com", "no repository path"},
      {"https://example.com:99999/r", "out of range"},
      {"https://example.com:abc/r", "is not a number"},
      {"file://relative", "absolute path"},
      {"https://exa mple.com/r", "whitespace"},
      {"git@github.com:", "no repository path"},
  };
  for (const Row& row : rows) {
    INFO(row.url);
    auto u = parseGitUrl(row.url);
    REQUIRE_FALSE(u.ok());
    CHECK_THAT(u.error(), Catch::Contains(row.message));
  }
}

TEST_CASE("a URL's password never shows in messages", "[gitops][url]") {
  auto u = parseGitUrl("https://user:hunter2@example.com/r.git");
  REQUIRE(u.ok());
  CHECK(u->redacted() == "https://user:***@example.com/r.git");
  CHECK(parseGitUrl("https://example.com/r.git")->redacted() == "https://example.com/r.git");
}
