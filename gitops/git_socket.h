// The plain sockets libgit2 connects with (git://, http://, and under TLS and SSH), replaced by ones that
// honour a deadline: libgit2 1.5 has no timeout of its own (GIT_OPT_SET_SERVER_TIMEOUT came in 1.7), so
// a silent server would hold a fetch for ever.
#pragma once

#include <chrono>

namespace sluice::gitops {

// Registers the sockets with libgit2 for the whole process (after git_libgit2_init). Idempotent.
void registerDeadlineSockets();

// While it lives, every socket libgit2 opens or uses on this thread gives up at `deadline`: connect, and
// each read and write of git:// and HTTP(S). (SSH reads and writes go through libssh2, which waits on its
// own; only its connect is bounded.)
class SocketDeadline {
 public:
  explicit SocketDeadline(std::chrono::steady_clock::time_point deadline);
  ~SocketDeadline();
  SocketDeadline(const SocketDeadline&) = delete;
  SocketDeadline& operator=(const SocketDeadline&) = delete;
};

}  // namespace sluice::gitops
