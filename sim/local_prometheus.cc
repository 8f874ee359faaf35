#include "sim/local_prometheus.h"

#include <snappy.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fstream>
#include <regex>
#include <sstream>
#include <system_error>
#include <thread>

#include "base/child_process.h"
#include "base/clock.h"
#include "net/http_client.h"
#include "sim/remote_write.pb.h"

namespace sluice::sim {
namespace {

// Time-based retention counts back from the newest block, and samples pushed at virtual instants may lie
// years before the wall clock: about 270 years keeps everything the simulator can push.
constexpr const char* kRetention = "100000d";
// Prometheus will not start without a configuration file; this one has no scrape jobs.
constexpr const char* kConfig = "global: {}\n";
constexpr std::size_t kLogTailBytes = 2000;

Result<std::filesystem::path> makeTempDir() {
  std::error_code ec;
  std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  if (ec) base = "/tmp";
  std::string pattern = (base / "sluice-prometheus-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return Error{"cannot create a temporary directory under " + base.string() + ": " + std::strerror(errno)};
  }
  return std::filesystem::path(pattern);
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The last lines of a log, whole lines only, for an error message.
std::string tail(const std::string& log) {
  if (log.empty()) return "(its log is empty)";
  if (log.size() <= kLogTailBytes) return log;
  std::size_t from = log.find('\n', log.size() - kLogTailBytes);
  return "..." + log.substr(from == std::string::npos ? log.size() - kLogTailBytes : from);
}

// The port is the kernel's pick (--web.listen-address=127.0.0.1:0), so no other process can take it
// between a probe and the bind; Prometheus logs the address it listens on.
int listeningPort(const std::string& log) {
  static const std::regex kListening(R"(msg="Listening on" address=127\.0\.0\.1:(\d+))");
  std::smatch m;
  if (!std::regex_search(log, m, kListening)) return 0;
  return std::stoi(m[1].str());
}

bool answersReady(net::HttpClient& http, const std::string& address) {
  net::Request request;
  request.url = address + "/-/ready";
  request.timeout = std::chrono::milliseconds(2000);
  net::Outcome outcome = http.send(request);
  return outcome.ok() && outcome.response().status == 200;
}

std::string describeLabels(const std::map<std::string, std::string>& labels) {
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    if (out.size() > 1) out += ",";
    out.append(name).append("=\"").append(value).append("\"");
  }
  return out + "}";
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

Result<std::unique_ptr<LocalPrometheus>> LocalPrometheus::start(const LocalPrometheusOptions& options) {
  auto workDir = makeTempDir();
  if (!workDir) return Error{"cannot start " + options.binary + ": " + workDir.error()};
  std::unique_ptr<LocalPrometheus> p(new LocalPrometheus());
  p->workDir_ = *workDir;
  p->dataDir_ = options.dataDir.empty() ? p->workDir_ / "data" : options.dataDir;
  p->http_ = std::make_unique<net::HttpClient>();

  std::filesystem::path config = p->workDir_ / "prometheus.yml";
  std::ofstream out(config);
  out << kConfig;
  out.close();
  if (!out) {
    return Error{"cannot start " + options.binary + ": cannot write its configuration " + config.string()};
  }
  auto process = ChildProcess::spawn(
      {options.binary, "--config.file=" + config.string(), "--storage.tsdb.path=" + p->dataDir_.string(),
       "--storage.tsdb.retention.time=" + std::string(kRetention), "--web.listen-address=127.0.0.1:0",
       "--web.enable-remote-write-receiver"},
      p->workDir_ / "prometheus.log");
  if (!process) {
    std::string hint = process.error().find("not found") != std::string::npos
                           ? " (is Prometheus installed? Debian's package is `prometheus`)"
                           : "";
    return Error{process.error() + hint};
  }
  p->process_ = std::move(*process);

  auto deadline = realClock().now() + options.readyTimeout;
  int port = 0;
  for (;;) {
    if (!p->process_->running()) {
      return Error{options.binary + " " + p->process_->exitDescription() +
                   " before it was ready; its log ends with:\n" + tail(p->log())};
    }
    if (port == 0) {
      port = listeningPort(p->log());
      if (port != 0) p->address_ = "http://127.0.0.1:" + std::to_string(port);
    }
    if (port != 0 && answersReady(*p->http_, p->address_)) return p;
    if (realClock().now() >= deadline) {
      p->process_->stop();
      return Error{options.binary + " was not ready within " + std::to_string(options.readyTimeout.count()) +
                   " ms (stopped); its log ends with:\n" + tail(p->log())};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

LocalPrometheus::~LocalPrometheus() {
  if (process_) process_->stop();
  std::error_code ec;
  std::filesystem::remove_all(workDir_, ec);
}

std::string LocalPrometheus::address() const { return address_; }

pid_t LocalPrometheus::pid() const { return process_->pid(); }

std::string LocalPrometheus::log() const { return readFile(workDir_ / "prometheus.log"); }

Status LocalPrometheus::push(const std::vector<Series>& series) {
  remote_write::WriteRequest request;
  for (const Series& s : series) {
    auto name = s.labels.find("__name__");
    if (name == s.labels.end() || name->second.empty()) {
      return Error{"cannot push the series " + describeLabels(s.labels) + ": it has no __name__ label"};
    }
    remote_write::TimeSeries* out = request.add_timeseries();
    for (const auto& [key, value] : s.labels) {
      remote_write::Label* label = out->add_labels();
      label->set_name(key);
      label->set_value(value);
    }
    for (const Sample& sample : s.samples) {
      remote_write::Sample* o = out->add_samples();
      o->set_value(sample.value);
      o->set_timestamp(toUnix(sample.at) * 1000);
    }
  }
  std::string encoded;
  request.SerializeToString(&encoded);
  net::Request post;
  post.method = "POST";
  post.url = address_ + "/api/v1/write";
  post.headers = {{"Content-Encoding", "snappy"},
                  {"Content-Type", "application/x-protobuf"},
                  {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
  snappy::Compress(encoded.data(), encoded.size(), &post.body);
  net::Outcome outcome = http_->send(post);
  if (!outcome.ok()) return Error{"remote write to " + address_ + " failed: " + outcome.failure().message};
  const net::Response& response = outcome.response();
  if (response.status < 200 || response.status > 299) {
    return Error{"Prometheus at " + address_ + " refused the remote write (HTTP " +
                 std::to_string(response.status) + "): " + trimmed(response.body)};
  }
  return Status::Ok();
}

}  // namespace sluice::sim
