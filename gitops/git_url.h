// Git repository addresses as GitRepository's `spec.url` holds them: file://, http(s)://, ssh://, git://
// and the scp-like `git@host:path`.
#pragma once

#include <string>

#include "base/result.h"

namespace sluice::gitops {

struct GitUrl {
  std::string scheme;  // "file", "http", "https", "ssh", "git"; "ssh" for the scp-like form
  std::string user;    // "git" in ssh://git@host/...; empty when none
  std::string host;    // empty for file://
  int port = 0;        // 0: the scheme's default
  std::string path;    // as written after the host ("/org/repo.git"; "org/repo.git" in the scp-like form)
  bool scpLike = false;
  std::string original;

  // The host as OpenSSH's known_hosts names it: "host" on port 22, "[host]:port" otherwise.
  std::string knownHostsName() const;
  // The address without its password, for messages.
  std::string redacted() const;
};

// An error says what is wrong with `url` ("unsupported scheme \"ftp\"", "no host").
Result<GitUrl> parseGitUrl(const std::string& url);

}  // namespace sluice::gitops
