// Running kustomize on a temporary copy of the source, and Flux's postBuild substitution.
#include "gitops/kustomize_build.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <future>
#include <list>
#include <mutex>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "base/child_process.h"
#include "base/clock.h"
#include "base/input_limits.h"
#include "base/source.h"
#include "gitops/sops_build.h"

namespace sluice::gitops {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kKustomizationFiles[] = {"kustomization.yaml", "kustomization.yml", "Kustomization"};

bool onPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) return true;
  }
  return false;
}

// A fresh directory under `root`; removed with everything in it when the guard goes.
class TempCopy {
 public:
  explicit TempCopy(const fs::path& root) {
    static std::atomic<unsigned> counter{0};
    std::random_device rd;
    for (int i = 0; i < 100 && path_.empty(); ++i) {
      fs::path p = root / ("sluice-build-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
                           "-" + std::to_string(rd() % 100000));
      std::error_code ec;
      if (fs::create_directory(p, ec)) path_ = p;
    }
  }
  ~TempCopy() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  TempCopy(const TempCopy&) = delete;
  TempCopy& operator=(const TempCopy&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Lays out `root` at `copy` for a build of its directory `rel`: real directories along `rel`, the
// directory at `rel` copied whole (its kustomization file is rewritten, and a generated one lists its
// files), and every other entry a symlink into the source. kustomize resolves symlinks before it checks
// that a file lies under its kustomization's root, so `../base` is read from the source as it would be
// from a full copy, and a build costs the size of its own directory instead of the repository's: a
// monorepo of a thousand apps copied whole for each of its thousand Kustomizations is the untar time
// Flux users report.
Status mirrorForBuild(const fs::path& root, const fs::path& rel, const fs::path& copy) {
  std::error_code ec;
  fs::path from = root, to = copy;
  fs::create_directory(to, ec);
  if (ec) return Error{"creating " + to.string() + ": " + ec.message()};
  for (const auto& part : rel) {
    if (part.empty() || part == ".") continue;
    for (const auto& e : fs::directory_iterator(from, ec)) {
      if (e.path().filename() == part) continue;
      fs::create_symlink(e.path(), to / e.path().filename(), ec);
      if (ec) return Error{"linking " + e.path().string() + " for the build: " + ec.message()};
    }
    if (ec) return Error{"reading " + from.string() + ": " + ec.message()};
    from /= part;
    to /= part;
    fs::create_directory(to, ec);
    if (ec) return Error{"creating " + to.string() + ": " + ec.message()};
  }
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
  if (ec) return Error{"copying " + from.string() + " for the build: " + ec.message()};
  return Status::Ok();
}

fs::path kustomizationFileIn(const fs::path& dir) {
  for (const char* name : kKustomizationFiles) {
    if (fs::is_regular_file(dir / name)) return dir / name;
  }
  return {};
}

bool isYamlFile(const fs::path& p) {
  const auto ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml";
}

// Flux's generated kustomization: every file under `dir` holding at least one object with apiVersion
// and kind, and each sub-directory that has its own kustomization file as one resource.
Result<json> generatedResources(const fs::path& dir, const fs::path& base, const fs::path& sourceRoot,
                                const fs::path& copyRoot) {
  json resources = json::array();
  std::vector<fs::directory_entry> entries;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) entries.push_back(e);
  if (ec) return Error{"reading " + dir.string() + ": " + ec.message()};
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
  for (const auto& e : entries) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(".")) continue;
    if (e.is_directory()) {
      if (!kustomizationFileIn(e.path()).empty()) {
        resources.push_back(fs::relative(e.path(), base).generic_string());
        continue;
      }
      auto sub = generatedResources(e.path(), base, sourceRoot, copyRoot);
      if (!sub) return sub;
      for (auto& r : *sub) resources.push_back(std::move(r));
    } else if (e.is_regular_file() && isYamlFile(e.path())) {
      const std::string shown = (sourceRoot / fs::relative(e.path(), copyRoot)).lexically_normal().string();
      auto text = readFile(e.path().string(), limits::kMaxFileBytes);
      if (!text) return Error{text.error()};
      auto docs = parseYamlDocuments(*text, shown);
      if (!docs) return Error{docs.error()};
      const bool holdsObject = std::any_of(docs->begin(), docs->end(), [](const Document& d) {
        return d.json.is_object() && d.json.contains("apiVersion") && d.json.contains("kind");
      });
      if (holdsObject) resources.push_back(fs::relative(e.path(), base).generic_string());
    }
  }
  return resources;
}

// Appends the items of `more` (a JSON list) to the list `key` of `k`.
void appendList(json& k, const char* key, const json& more) {
  if (!more.is_array() || more.empty()) return;
  if (!k.contains(key) || !k[key].is_array()) k[key] = json::array();
  for (const auto& item : more) k[key].push_back(item);
}

// What the Kustomization adds to the kustomization file, as kustomization fields: its name affixes and
// target namespace, common metadata, patches, images and components.
json overlayOf(const KustomizationSpec& spec) {
  json o = json::object();
  if (!spec.targetNamespace.empty()) o["namespace"] = spec.targetNamespace;
  if (!spec.namePrefix.empty()) o["namePrefix"] = spec.namePrefix;
  if (!spec.nameSuffix.empty()) o["nameSuffix"] = spec.nameSuffix;
  // Labels without selectors: common metadata must not change what selects what.
  if (!spec.commonLabels.empty())
    o["labels"] = json::array({{{"pairs", spec.commonLabels}, {"includeSelectors", false}}});
  if (!spec.commonAnnotations.empty()) o["commonAnnotations"] = spec.commonAnnotations;
  if (spec.patches.is_array() && !spec.patches.empty()) o["patches"] = spec.patches;
  if (spec.images.is_array() && !spec.images.empty()) o["images"] = spec.images;
  if (!spec.components.empty()) o["components"] = spec.components;
  return o;
}

// Adds `overlay` to the kustomization `k`: its values replace, its lists are appended to, its common
// annotations are merged key by key.
void mergeOverlay(json& k, const json& overlay) {
  for (const auto& [key, value] : overlay.items()) {
    if (value.is_array()) {
      appendList(k, key.c_str(), value);
    } else if (key == "commonAnnotations") {
      for (const auto& [name, v] : value.items()) k[key][name] = v;
    } else {
      k[key] = value;
    }
  }
}

// Writes the Kustomization's overlay into the kustomization file in `dir` (generating one first).
Status writeOverlay(const fs::path& dir, const KustomizationSpec& spec, const fs::path& sourceRoot,
                    const fs::path& copyRoot) {
  fs::path file = kustomizationFileIn(dir);
  json k = json::object();
  if (file.empty()) {
    file = dir / "kustomization.yaml";
    auto resources = generatedResources(dir, dir, sourceRoot, copyRoot);
    if (!resources) return Error{resources.error()};
    k = {{"apiVersion", "kustomize.config.k8s.io/v1beta1"},
         {"kind", "Kustomization"},
         {"resources", *resources}};
  } else {
    const std::string shown = (sourceRoot / fs::relative(file, copyRoot)).lexically_normal().string();
    auto text = readFile(file.string(), limits::kMaxFileBytes);
    if (!text) return Error{text.error()};
    auto docs = parseYamlDocuments(*text, shown);
    if (!docs) return Error{docs.error()};
    if (docs->size() != 1 || !(*docs)[0].json.is_object())
      return Error{shown + ": must hold one kustomization document"};
    k = std::move((*docs)[0].json);
  }
  mergeOverlay(k, overlayOf(spec));
  // JSON is YAML: kustomize reads it as it is.
  std::ofstream out(file, std::ios::trunc);
  out << k.dump(2) << "\n";
  if (!out) return Error{"writing the kustomization file " + file.string() + " failed"};
  return Status::Ok();
}

std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
  return s;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

const std::regex& varName() {
  static const std::regex re("^[_[:alpha:]][_[:alpha:][:digit:]]*$");
  return re;
}

}  // namespace

KustomizeBuilder::KustomizeBuilder(std::string binary, fs::path tempRoot)
    : binary_(std::move(binary)), tempRoot_(std::move(tempRoot)), cache_(std::make_unique<Cache>()) {
  if (binary_.empty()) binary_ = onPath("kustomize") ? "kustomize" : "kubectl";
  if (tempRoot_.empty()) tempRoot_ = fs::temp_directory_path();
}

std::vector<std::string> KustomizeBuilder::command(const fs::path& dir, const fs::path& output) const {
  const bool kubectl = fs::path(binary_).filename() == "kubectl";
  return {binary_, kubectl ? "kustomize" : "build", dir.string(), "--output", output.string()};
}

// Built outputs by source directory, path and overlay. The directory an artifact is unpacked in is named
// by its digest, so an entry never goes stale: a new revision is a new key. What is cached is kustomize's
// output before substitution; the variables are substituted on every build.
struct KustomizeBuilder::Cache {
  static constexpr size_t kMaxBytes = size_t{16} << 20;
  std::mutex mu;
  std::list<std::pair<std::string, std::string>> entries;  // most recently used first
  std::map<std::string, decltype(entries)::iterator> index;
  std::map<std::string, std::shared_future<Result<std::string>>> inFlight;
  size_t bytes = 0;

  void insert(const std::string& key, const std::string& text) {
    if (text.size() > kMaxBytes / 4 || index.count(key)) return;
    entries.emplace_front(key, text);
    index[key] = entries.begin();
    bytes += key.size() + text.size();
    while (bytes > kMaxBytes) {
      bytes -= entries.back().first.size() + entries.back().second.size();
      index.erase(entries.back().first);
      entries.pop_back();
    }
  }
};

KustomizeBuilder::~KustomizeBuilder() = default;

Result<std::vector<json>> KustomizeBuilder::build(const fs::path& root, const KustomizationSpec& spec,
                                                  const std::map<std::string, std::string>& vars,
                                                  std::chrono::milliseconds timeout,
                                                  const SopsBuildDecryptor* decryptor,
                                                  const std::string& revision) const {
  // Decrypted output is never kept: secrets stay in memory no longer than one build.
  if (decryptor) {
    auto text = run(root, spec, timeout, decryptor);
    if (!text) return Error{text.error()};
    return parseBuildOutput(*text, spec.hasPostBuild, vars, decryptor);
  }
  const std::string key =
      root.lexically_normal().string() + "\n" + revision + "\n" + spec.path + "\n" + overlayOf(spec).dump();
  std::promise<Result<std::string>> mine;
  std::shared_future<Result<std::string>> pending;
  bool owner = false;
  {
    std::lock_guard lock(cache_->mu);
    if (auto it = cache_->index.find(key); it != cache_->index.end()) {
      cache_->entries.splice(cache_->entries.begin(), cache_->entries, it->second);
      ++cacheHits_;
      return parseBuildOutput(it->second->second, spec.hasPostBuild, vars);
    }
    if (auto it = cache_->inFlight.find(key); it != cache_->inFlight.end()) {
      pending = it->second;  // the same build is running for another Kustomization: wait for it
    } else {
      pending = mine.get_future().share();
      cache_->inFlight.emplace(key, pending);
      owner = true;
    }
  }
  if (!owner) {
    Result<std::string> shared = pending.get();
    if (!shared) return Error{shared.error()};
    return parseBuildOutput(*shared, spec.hasPostBuild, vars);
  }
  Result<std::string> text = run(root, spec, timeout, nullptr);
  {
    std::lock_guard lock(cache_->mu);
    cache_->inFlight.erase(key);
    if (text) cache_->insert(key, *text);  // a failure is tried again next time (a timeout may pass)
  }
  mine.set_value(text);
  if (!text) return Error{text.error()};
  return parseBuildOutput(*text, spec.hasPostBuild, vars);
}

Result<std::string> KustomizeBuilder::run(const fs::path& root, const KustomizationSpec& spec,
                                          std::chrono::milliseconds timeout,
                                          const SopsBuildDecryptor* decryptor) const {
  ++kustomizeRuns_;
  const fs::path rel = fs::path(spec.path).lexically_normal().relative_path();
  if (rel.string().starts_with(".."))
    return Error{"kustomization path not found: " + spec.path + " (outside the source)"};
  if (!fs::is_directory(root / rel)) return Error{"kustomization path not found: " + spec.path};
  TempCopy tmp(tempRoot_);
  if (tmp.path().empty()) return Error{"cannot create a build directory under " + tempRoot_.string()};
  const fs::path copy = tmp.path() / "source";
  // Decryption writes files of the copy: those must all be copies, never links into the source.
  if (decryptor) {
    std::error_code ec;
    fs::copy(root, copy, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) return Error{"copying " + root.string() + " for the build: " + ec.message()};
  } else if (auto s = mirrorForBuild(root, rel, copy); !s) {
    return Error{s.error()};
  }
  const fs::path dir = (copy / rel).lexically_normal();
  if (auto s = writeOverlay(dir, spec, root, copy); !s) return Error{s.error()};
  if (decryptor) {
    if (auto s = decryptor->decryptSources(copy, dir); !s) return Error{"decryption failed for " + s.error()};
  }

  const fs::path output = tmp.path() / "output.yaml";
  const fs::path log = tmp.path() / "kustomize.log";
  auto child = ChildProcess::spawn(command(dir, output), log);
  if (!child) return Error{"running kustomize: " + child.error()};
  const auto deadline = realClock().now() + timeout;
  while ((*child)->running()) {
    if (realClock().now() > deadline) {
      (*child)->stop(std::chrono::seconds(1));
      return Error{"kustomize build timed out after " + std::to_string(timeout.count() / 1000) + "s"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const std::string how = (*child)->exitDescription();
  if (how != "exited with status 0") {
    auto text = readFile(log.string(), size_t{64} * 1024);
    std::string message = trimmed(text ? *text : std::string());
    // kustomize names files by their path in the copy: name them by the source's path instead.
    message = replaceAll(message, copy.string(), root.string());
    if (message.starts_with("Error: ")) message = message.substr(7);  // kustomize
    // kubectl logs it: `E1207 ... run.go:72] "command failed" err="..."`.
    if (const auto at = message.find("err=\""); at != std::string::npos && message.back() == '"')
      message = message.substr(at + 5, message.size() - at - 6);
    return Error{"kustomize build failed (" + how + "): " + message};
  }
  auto text = readFile(output.string());
  if (!text) return Error{"reading kustomize's output: " + text.error()};
  return std::move(*text);
}

Result<std::string> substituteVariables(std::string_view text,
                                        const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, "$${") == 0) {  // escaped: written as ${...}, not substituted
      out += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out += text[i++];
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos)
      return Error{"unterminated variable reference: " + std::string(text.substr(i, 40))};
    const std::string inner(text.substr(i + 2, close - i - 2));
    std::string name = inner, op, fallback;
    if (const size_t at = inner.find_first_of(":=-/"); at != std::string::npos) {
      name = inner.substr(0, at);
      const size_t opLength = inner[at] == ':' && at + 1 < inner.size() ? 2 : 1;
      op = inner.substr(at, opLength);
      fallback = inner.substr(at + opLength);
    }
    if (!std::regex_match(name, varName())) return Error{"invalid variable name in ${" + inner + "}"};
    auto it = vars.find(name);
    const bool set = it != vars.end();
    if (op.empty()) {
      out += set ? it->second : "";
    } else if (op == ":=" || op == ":-") {
      out += set && !it->second.empty() ? it->second : fallback;
    } else if (op == "=" || op == "-") {
      out += set ? it->second : fallback;
    } else {
      return Error{"unsupported variable operator in ${" + inner + "}"};
    }
    i = close + 1;
  }
  return out;
}

Result<std::vector<json>> parseBuildOutput(std::string_view yaml, bool substitute,
                                           const std::map<std::string, std::string>& vars,
                                           const SopsBuildDecryptor* decryptor) {
  // kustomize separates documents with a line of its own "---".
  std::vector<std::string> documents(1);
  std::istringstream in{std::string(yaml)};
  for (std::string line; std::getline(in, line);) {
    if (line == "---") {
      documents.emplace_back();
    } else {
      documents.back() += line + "\n";
    }
  }
  std::vector<json> objects;
  for (size_t i = 0; i < documents.size(); ++i) {
    const std::string where = "kustomize output document " + std::to_string(i + 1);
    auto parsed = parseYamlDocuments(documents[i], where);
    if (!parsed) return Error{parsed.error()};
    if (parsed->empty()) continue;
    json obj = std::move((*parsed)[0].json);
    const ObjectKey key = objectKey(obj);
    if (decryptor) {
      auto plain = decryptor->decryptObject(documents[i], key.describe());
      if (!plain) return Error{"decryption failed for " + plain.error()};
      if (*plain) {
        documents[i] = std::move(**plain);
        auto again = parseYamlDocuments(documents[i], key.describe() + " after decryption");
        if (!again) return Error{again.error()};
        if (again->empty()) continue;
        obj = std::move((*again)[0].json);
      }
    }
    const json* annotations = nullptr;
    if (obj.contains("metadata") && obj["metadata"].contains("annotations"))
      annotations = &obj["metadata"]["annotations"];
    const bool disabled =
        annotations && annotations->is_object() && annotations->value(kSubstituteAnnotation, "") == kDisabled;
    if (substitute && !disabled) {
      auto replaced = substituteVariables(documents[i], vars);
      if (!replaced) return Error{"postBuild substitution in " + key.describe() + ": " + replaced.error()};
      auto again = parseYamlDocuments(*replaced, key.describe() + " after substitution");
      if (!again) return Error{again.error()};
      if (again->empty()) continue;
      obj = std::move((*again)[0].json);
    }
    objects.push_back(std::move(obj));
  }
  return objects;
}

}  // namespace sluice::gitops
