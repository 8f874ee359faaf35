// Sockets with a deadline for libgit2 (see git_socket.h): non-blocking connect and poll before each read
// and write, against a per-thread deadline.
#include "gitops/git_socket.h"

#include <fcntl.h>
#include <git2.h>
#include <git2/sys/stream.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

namespace sluice::gitops {

namespace {

using SteadyClock = std::chrono::steady_clock;
thread_local std::optional<SteadyClock::time_point> tDeadline;

// libgit2's SSH transport takes the file descriptor out of the stream it connected, reading it where
// libgit2 1.5's own socket stream keeps it: right after the stream, its host and its port. So this layout
// is that one, field for field.
struct DeadlineSocket {
  git_stream parent;
  char* host;
  char* port;
  int fd;
};

// Milliseconds left before the deadline for poll(), rounded up so that a poll that times out returns at or
// after the deadline (the fetch then reports a timeout, not a failed read); -1 (wait for ever) when there
// is none.
int remainingMs() {
  if (!tDeadline) return -1;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*tDeadline - SteadyClock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

std::string where(const DeadlineSocket* s) { return std::string(s->host) + ":" + s->port; }

int fail(const std::string& message) {
  git_error_set_str(GIT_ERROR_NET, message.c_str());
  return -1;
}

// Waits until `fd` is ready for `events`; false (with the error set) when the deadline passed first.
bool waitFor(const DeadlineSocket* s, short events) {
  pollfd p{s->fd, events, 0};
  while (true) {
    const int rc = ::poll(&p, 1, remainingMs());
    if (rc > 0) return true;
    if (rc == 0) {
      fail("timed out waiting for " + where(s));
      return false;
    }
    if (errno != EINTR) {
      fail("poll on the connection to " + where(s) + ": " + std::strerror(errno));
      return false;
    }
  }
}

int connectSocket(git_stream* stream) {
  auto* s = reinterpret_cast<DeadlineSocket*>(stream);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* info = nullptr;
  if (const int rc = ::getaddrinfo(s->host, s->port, &hints, &info); rc != 0)
    return fail(std::string("failed to resolve address for ") + s->host + ": " + ::gai_strerror(rc));
  std::string lastError = "no address";
  for (addrinfo* a = info; a; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      s->fd = fd;
      if (!waitFor(s, POLLOUT)) {
        ::close(fd);
        s->fd = -1;
        ::freeaddrinfo(info);
        return fail("failed to connect to " + where(s) + ": timed out");
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc == 0) {
      ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);  // libssh2 expects a blocking socket
      s->fd = fd;
      ::freeaddrinfo(info);
      return 0;
    }
    lastError = std::strerror(errno);
    ::close(fd);
    s->fd = -1;
  }
  ::freeaddrinfo(info);
  return fail("failed to connect to " + where(s) + ": " + lastError);
}

ssize_t readSocket(git_stream* stream, void* data, size_t len) {
  auto* s = reinterpret_cast<DeadlineSocket*>(stream);
  if (!waitFor(s, POLLIN)) return -1;
  while (true) {
    const ssize_t n = ::recv(s->fd, data, len, 0);
    if (n >= 0) return n;
    if (errno != EINTR) return fail("error receiving from " + where(s) + ": " + std::strerror(errno));
  }
}

ssize_t writeSocket(git_stream* stream, const char* data, size_t len, int /*flags*/) {
  auto* s = reinterpret_cast<DeadlineSocket*>(stream);
  size_t done = 0;
  while (done < len) {
    if (!waitFor(s, POLLOUT)) return -1;
    const ssize_t n = ::send(s->fd, data + done, len - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("error sending to " + where(s) + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(len);
}

int closeSocket(git_stream* stream) {
  auto* s = reinterpret_cast<DeadlineSocket*>(stream);
  if (s->fd >= 0) ::close(s->fd);
  s->fd = -1;
  return 0;
}

void freeSocket(git_stream* stream) {
  auto* s = reinterpret_cast<DeadlineSocket*>(stream);
  closeSocket(stream);
  std::free(s->host);
  std::free(s->port);
  delete s;
}

int newSocket(git_stream** out, const char* host, const char* port) {
  auto* s = new DeadlineSocket{};
  s->parent.version = GIT_STREAM_VERSION;
  s->parent.connect = connectSocket;
  s->parent.read = readSocket;
  s->parent.write = writeSocket;
  s->parent.close = closeSocket;
  s->parent.free = freeSocket;
  s->host = ::strdup(host);
  s->port = ::strdup(port);
  s->fd = -1;
  *out = &s->parent;
  return 0;
}

}  // namespace

void registerDeadlineSockets() {
  static const int once = [] {
    git_stream_registration registration{};
    registration.version = GIT_STREAM_VERSION;
    registration.init = newSocket;
    return git_stream_register(GIT_STREAM_STANDARD, &registration);
  }();
  (void)once;
}

SocketDeadline::SocketDeadline(SteadyClock::time_point deadline) { tDeadline = deadline; }
SocketDeadline::~SocketDeadline() { tDeadline.reset(); }

}  // namespace sluice::gitops
