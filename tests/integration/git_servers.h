// Real git servers on loopback for the GitOps tests: `git daemon` (git://) and OpenSSH's sshd (ssh://), each
// on a free port with its own files, stopped with the test.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "tests/support/process.h"

namespace sluice::testing {

// Whether a TCP connection to 127.0.0.1:port is accepted.
inline bool portOpen(int port) {
  return runCommand("bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) + "' 2>/dev/null")
             .exitCode == 0;
}

// `git daemon` exporting every repository under `root` as git://127.0.0.1:PORT/<dir>.
class GitDaemon {
 public:
  explicit GitDaemon(const std::filesystem::path& root, const std::filesystem::path& logDir) {
    port_ = freeLoopbackPort();
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"git", "daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1",
                                 "--port=" + std::to_string(port_), "--base-path=" + root.string(),
                                 "--verbose", root.string()},
        logDir / "git-daemon.log");
    INFO(process_->log());
    REQUIRE(waitUntil([&] { return portOpen(port_); }, std::chrono::seconds(10)));
  }
  std::string url(const std::string& repo) const {
    return "git://127.0.0.1:" + std::to_string(port_) + "/" + repo;
  }
  int port() const { return port_; }
  void stop() { process_->stop(); }
  std::string log() const { return process_->log(); }

 private:
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// OpenSSH's sshd on a free port with its own host key, letting in one client key for the current user,
// whose shell runs git-upload-pack. Needs Debian's openssh-server. Run as root, sshd needs its privilege
// separation directory, which a packaged sshd's service creates: created here when missing.
class SshServer {
 public:
  explicit SshServer(const std::filesystem::path& dir) : dir_(dir) {
    std::filesystem::create_directories(dir_);
    keygen("host_key");
    keygen("client_key");
    std::filesystem::copy_file(dir_ / "client_key.pub", dir_ / "authorized_keys");
    if (geteuid() == 0 && !std::filesystem::exists("/run/sshd")) ::mkdir("/run/sshd", 0755);
    port_ = freeLoopbackPort();
    std::ofstream(dir_ / "sshd_config")
        << "Port " << port_ << "\nListenAddress 127.0.0.1\n"
        << "HostKey " << (dir_ / "host_key").string() << "\n"
        << "AuthorizedKeysFile " << (dir_ / "authorized_keys").string() << "\n"
        << "PidFile " << (dir_ / "sshd.pid").string() << "\n"
        << "StrictModes no\nUsePAM no\nPasswordAuthentication no\n"
        << "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n";
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/usr/sbin/sshd", "-D", "-e", "-f", (dir_ / "sshd_config").string()},
        dir_ / "sshd.log");
    const bool up = waitUntil([&] { return portOpen(port_); }, std::chrono::seconds(10));
    INFO(process_->log());
    REQUIRE(up);
  }
  static bool available() { return std::filesystem::exists("/usr/sbin/sshd"); }

  int port() const { return port_; }
  static std::string user() {
    const std::string out = runCommand("id -un").output;
    return out.substr(0, out.find('\n'));
  }
  // ssh://USER@127.0.0.1:PORT/<absolute path>
  std::string url(const std::filesystem::path& repo) const {
    return "ssh://" + user() + "@127.0.0.1:" + std::to_string(port_) + repo.string();
  }
  std::string read(const std::string& file) const {
    std::ifstream in(dir_ / file);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  // A known_hosts line for this server, from its host key as ssh-keyscan sees it.
  std::string knownHosts() const {
    auto r = runCommand("ssh-keyscan -p " + std::to_string(port_) + " -t ed25519 127.0.0.1 2>/dev/null");
    return r.output;
  }
  std::string log() const { return process_->log(); }

 private:
  void keygen(const std::string& name) {
    auto r = runCommand("ssh-keygen -q -t ed25519 -N '' -C '' -f '" + (dir_ / name).string() + "'");
    REQUIRE(r.exitCode == 0);
  }
  std::filesystem::path dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace sluice::testing
