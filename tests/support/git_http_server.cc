// The CGI bridge to `git http-backend` (see git_http_server.h): each request's body goes to the program's
// standard input through a file, its output (CGI headers, a blank line, the body) becomes the reply.
#include "tests/support/git_http_server.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <vector>

namespace sluice::testing {

namespace {

std::string tempPath(const std::string& what) {
  std::random_device rd;
  return (std::filesystem::temp_directory_path() / ("sluice-git-cgi-" + what + "-" + std::to_string(rd())))
      .string();
}

// Runs `git http-backend` with `env`, stdin from `in`, stdout to `out`; returns its exit status.
int runBackend(const std::vector<std::string>& env, const std::string& in, const std::string& out) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int inFd = open(in.c_str(), O_RDONLY);
    const int outFd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int nullFd = open("/dev/null", O_WRONLY);
    if (inFd < 0 || outFd < 0) _exit(127);
    dup2(inFd, 0);
    dup2(outFd, 1);
    if (nullFd >= 0) dup2(nullFd, 2);
    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    char* argv[] = {const_cast<char*>("git"), const_cast<char*>("http-backend"), nullptr};
    execvpe("git", argv, envp.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

GitHttpServer::GitHttpServer(std::filesystem::path root, GitHttpAuth auth, std::optional<PeerTls> tls)
    : root_(std::move(root)), auth_(std::move(auth)) {
  peer_ = std::make_unique<HttpPeer>([this](const PeerRequest& r) { return handle(r); }, std::move(tls));
}

PeerReply GitHttpServer::handle(const PeerRequest& request) {
  std::string remoteUser;
  if (!auth_.username.empty() || !auth_.bearerToken.empty()) {
    const std::string* header = request.header("Authorization");
    bool ok = false;
    if (header && !auth_.username.empty() &&
        *header == "Basic " + base64(auth_.username + ":" + auth_.password)) {
      ok = true;
      remoteUser = auth_.username;
    }
    if (header && !auth_.bearerToken.empty() && *header == "Bearer " + auth_.bearerToken) {
      ok = true;
      remoteUser = "token";
    }
    if (!ok) {
      ++refused_;
      PeerReply reply;
      reply.status = 401;
      reply.headers = {{"WWW-Authenticate", "Basic realm=\"git\""}, {"Content-Type", "text/plain"}};
      reply.body = "authentication required\n";
      return reply;
    }
  }
  std::vector<std::string> env = {"GIT_PROJECT_ROOT=" + root_.string(),
                                  "GIT_HTTP_EXPORT_ALL=1",
                                  "REQUEST_METHOD=" + request.method,
                                  "PATH_INFO=" + request.path,
                                  "QUERY_STRING=" + request.query,
                                  "CONTENT_LENGTH=" + std::to_string(request.body.size()),
                                  "REMOTE_ADDR=127.0.0.1",
                                  "PATH=/usr/bin:/bin",
                                  "HOME=" + root_.string()};
  if (!remoteUser.empty()) env.push_back("REMOTE_USER=" + remoteUser);
  if (const std::string* type = request.header("Content-Type")) env.push_back("CONTENT_TYPE=" + *type);
  if (const std::string* encoding = request.header("Content-Encoding"))
    env.push_back("HTTP_CONTENT_ENCODING=" + *encoding);
  if (const std::string* protocol = request.header("Git-Protocol"))
    env.push_back("GIT_PROTOCOL=" + *protocol);

  const std::string in = tempPath("in"), out = tempPath("out");
  std::ofstream(in, std::ios::binary) << request.body;
  const int status = runBackend(env, in, out);
  std::ifstream outFile(out, std::ios::binary);
  std::string output((std::istreambuf_iterator<char>(outFile)), std::istreambuf_iterator<char>());
  std::filesystem::remove(in);
  std::filesystem::remove(out);

  PeerReply reply;
  if (status != 0 && output.empty()) {
    reply.status = 500;
    reply.body = "git http-backend exited with " + std::to_string(status) + "\n";
    return reply;
  }
  size_t headerEnd = output.find("\r\n\r\n");
  size_t bodyStart = headerEnd == std::string::npos ? std::string::npos : headerEnd + 4;
  if (headerEnd == std::string::npos) {
    headerEnd = output.find("\n\n");
    bodyStart = headerEnd == std::string::npos ? output.size() : headerEnd + 2;
  }
  std::istringstream headers(output.substr(0, headerEnd));
  for (std::string line; std::getline(headers, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value[0] == ' ') value.erase(0, 1);
    if (name == "Status") {
      reply.status = std::stoi(value);
    } else {
      reply.headers.emplace_back(name, value);
    }
  }
  reply.body = output.substr(std::min(bodyStart, output.size()));
  return reply;
}

}  // namespace sluice::testing
