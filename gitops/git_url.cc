// Git repository addresses (see git_url.h).
#include "gitops/git_url.h"

#include <algorithm>
#include <cctype>

namespace sluice::gitops {

namespace {

Result<int> parsePort(const std::string& text, const std::string& url) {
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }))
    return Error{"URL \"" + url + "\": port \"" + text + "\" is not a number"};
  const int port = std::stoi(text);
  if (port < 1 || port > 65535) return Error{"URL \"" + url + "\": port " + text + " is out of range"};
  return port;
}

}  // namespace

std::string GitUrl::knownHostsName() const {
  if (port == 0 || port == 22) return host;
  return "[" + host + "]:" + std::to_string(port);
}

std::string GitUrl::redacted() const {
  if (scpLike || scheme == "file") return original;
  const auto schemeEnd = original.find("://");
  const auto at = original.find('@', schemeEnd + 3);
  const auto slash = original.find('/', schemeEnd + 3);
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) return original;
  const auto colon = original.find(':', schemeEnd + 3);
  if (colon == std::string::npos || colon > at) return original;
  return original.substr(0, colon) + ":***" + original.substr(at);
}

Result<GitUrl> parseGitUrl(const std::string& url) {
  GitUrl u;
  u.original = url;
  if (url.empty()) return Error{"URL is empty"};
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return std::isspace(c) || c < 0x20; }))
    return Error{"URL \"" + url + "\" holds whitespace or a control character"};
  const auto schemeEnd = url.find("://");
  if (schemeEnd == std::string::npos) {
    // scp-like: [user@]host:path, the host part holding no '/' (else it is a local path).
    const auto colon = url.find(':');
    const auto slash = url.find('/');
    if (colon == std::string::npos || colon == 0 || (slash != std::string::npos && slash < colon))
      return Error{"URL \"" + url +
                   "\" has no scheme: use file://, http://, https://, ssh:// or git://, or the scp-like "
                   "user@host:path"};
    std::string hostPart = url.substr(0, colon);
    if (const auto at = hostPart.find('@'); at != std::string::npos) {
      u.user = hostPart.substr(0, at);
      hostPart = hostPart.substr(at + 1);
    }
    if (hostPart.empty()) return Error{"URL \"" + url + "\": no host before ':'"};
    u.scheme = "ssh";
    u.host = hostPart;
    u.path = url.substr(colon + 1);
    u.scpLike = true;
    if (u.path.empty()) return Error{"URL \"" + url + "\": no repository path after ':'"};
    return u;
  }
  u.scheme = url.substr(0, schemeEnd);
  std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static const char* kSchemes[] = {"file", "http", "https", "ssh", "git"};
  if (std::find(std::begin(kSchemes), std::end(kSchemes), u.scheme) == std::end(kSchemes))
    return Error{"URL \"" + url + "\": unsupported scheme \"" + u.scheme +
                 "\" (file, http, https, ssh, git, or the scp-like user@host:path)"};
  const std::string rest = url.substr(schemeEnd + 3);
  if (u.scheme == "file") {
    if (rest.empty() || rest[0] != '/')
      return Error{"URL \"" + url + "\": a file:// URL needs an absolute path"};
    u.path = rest;
    return u;
  }
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "" : rest.substr(slash);
  if (const auto at = authority.rfind('@'); at != std::string::npos) {
    u.user = authority.substr(0, at);
    if (const auto colon = u.user.find(':'); colon != std::string::npos) u.user = u.user.substr(0, colon);
    authority = authority.substr(at + 1);
  }
  std::string portText;
  if (!authority.empty() && authority[0] == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return Error{"URL \"" + url + "\": unclosed '[' in the host"};
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return Error{"URL \"" + url + "\": unexpected text after the host"};
      portText = authority.substr(close + 2);
    }
  } else if (const auto colon = authority.find(':'); colon != std::string::npos) {
    u.host = authority.substr(0, colon);
    portText = authority.substr(colon + 1);
  } else {
    u.host = authority;
  }
  if (u.host.empty()) return Error{"URL \"" + url + "\": no host"};
  if (!portText.empty()) {
    auto port = parsePort(portText, url);
    if (!port) return Error{port.error()};
    u.port = *port;
  }
  if (u.path.empty() || u.path == "/") return Error{"URL \"" + url + "\": no repository path"};
  return u;
}

}  // namespace sluice::gitops
