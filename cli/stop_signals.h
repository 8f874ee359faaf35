// SIGINT and SIGTERM taken synchronously by a long-running command (`cluster`, `controller`): blocked in
// every thread before any is started, then waited for on the main thread.
#pragma once

#include <signal.h>
#include <unistd.h>

namespace sluice::cli {

class StopSignals {
 public:
  // Blocks SIGINT and SIGTERM in the calling thread and every thread it starts afterwards.
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  // Makes a wait() on another thread return: sends the process SIGTERM (a signal sent to one thread would
  // stay pending on it, blocked).
  void wake() const { kill(getpid(), SIGTERM); }
  // Blocks until one of them arrives; returns it.
  int wait() const {
    int sig = 0;
    sigwait(&set_, &sig);
    return sig;
  }

 private:
  sigset_t set_;
};

}  // namespace sluice::cli
