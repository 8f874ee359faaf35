// Decrypting a Kustomization's SOPS files before kustomize reads them, and its built objects after.
#include "gitops/sops_build.h"

#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "base/base64.h"
#include "base/input_limits.h"
#include "base/source.h"
#include "gitops/kustomization.h"
#include "gitops/sops.h"

namespace sluice::gitops {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kKustomizationFiles[] = {"kustomization.yaml", "kustomization.yml", "Kustomization"};

// How a file or a data entry is stored: SOPS's stores, and its binary one (a JSON envelope whose `data`
// holds the whole file), which the name decides when its extension is none of the others.
enum class Stored { kYaml, kJson, kDotenv, kBinary };

Stored storedAs(const std::string& name) {
  const std::string ext = fs::path(name).extension().string();
  if (ext == ".yaml" || ext == ".yml") return Stored::kYaml;
  if (ext == ".json") return Stored::kJson;
  if (ext == ".env") return Stored::kDotenv;
  return Stored::kBinary;
}

// The bytes every SOPS file of the store holds (its MAC), as Flux detects them: cheap, and a file
// without them is left alone unparsed.
const char* markerOf(Stored s) {
  switch (s) {
    case Stored::kYaml:
      return "mac: ENC[";
    case Stored::kDotenv:
      return "sops_mac=ENC[";
    default:
      return "\"mac\": \"ENC[";
  }
}

SopsFormat sopsFormatOf(Stored s) {
  switch (s) {
    case Stored::kYaml:
      return SopsFormat::kYaml;
    case Stored::kDotenv:
      return SopsFormat::kDotenv;
    default:
      return SopsFormat::kJson;
  }
}

// Decrypts `text` stored as `stored`: nullopt when it holds no SOPS metadata. A binary file comes out
// as the bytes it held.
Result<std::optional<std::string>> decryptStored(const std::string& text, Stored stored,
                                                 const std::string& name,
                                                 const std::vector<std::string>& identities) {
  if (text.find(markerOf(stored)) == std::string::npos) return std::optional<std::string>();
  auto plain = decryptSopsDocument(text, name, sopsFormatOf(stored), identities, MacCheck::kVerify);
  if (!plain) return Error{plain.error()};
  if (stored != Stored::kBinary) return std::optional<std::string>(std::move(*plain));
  try {
    const json envelope = json::parse(*plain);
    if (envelope.is_object() && envelope.contains("data") && envelope["data"].is_string())
      return std::optional<std::string>(envelope["data"].get<std::string>());
  } catch (const json::exception&) {
  }
  return Error{name + ": a SOPS binary file must hold a single `data` string"};
}

// `ref` (relative to `dir`) as a path inside `root`, or nullopt when it leaves it or is remote.
std::optional<fs::path> inside(const fs::path& root, const fs::path& dir, const std::string& ref) {
  if (ref.empty() || ref.find("://") != std::string::npos) return std::nullopt;
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(dir / ref, ec);
  if (ec) return std::nullopt;
  const fs::path rel = p.lexically_relative(fs::weakly_canonical(root, ec));
  if (ec || rel.empty() || *rel.begin() == "..") return std::nullopt;
  return p;
}

struct SourceWalk {
  const fs::path& root;
  const std::vector<std::string>& identities;
  std::set<fs::path> visitedDirs;
  std::set<fs::path> decrypted;

  std::string shown(const fs::path& p) const {
    return p.lexically_relative(fs::weakly_canonical(root)).generic_string();
  }

  Status decryptFile(const fs::path& dir, const std::string& ref, Stored stored) {
    auto path = inside(root, dir, ref);
    if (!path || decrypted.count(*path)) return Status::Ok();
    // Only a regular file: a symbolic link is not followed (it may lead out of the copy). What a link
    // feeds a secretGenerator is still decrypted as the Secret's data entry after the build.
    struct stat st {};
    if (::lstat(path->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return Status::Ok();
    const std::string name = shown(*path);
    auto text = readFile(path->string(), limits::kMaxFileBytes);
    if (!text) return Error{text.error()};
    auto plain = decryptStored(*text, stored, name, identities);
    if (!plain) return Error{plain.error()};
    decrypted.insert(*path);
    if (!*plain) return Status::Ok();
    std::ofstream out(*path, std::ios::binary | std::ios::trunc);
    out << **plain;
    if (!out) return Error{name + ": writing the decrypted file for the build failed"};
    out.close();
    std::error_code ec;
    fs::permissions(*path, fs::perms::owner_read | fs::perms::owner_write, ec);
    return Status::Ok();
  }

  Status visit(const fs::path& dir) {
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(dir, ec);
    if (ec || !visitedDirs.insert(canonical).second) return Status::Ok();
    fs::path file;
    for (const char* n : kKustomizationFiles)
      if (fs::is_regular_file(canonical / n)) {
        file = canonical / n;
        break;
      }
    if (file.empty()) return Status::Ok();
    auto text = readFile(file.string(), limits::kMaxFileBytes);
    if (!text) return Status::Ok();  // kustomize reports what it cannot read, with its own words
    auto docs = parseYamlDocuments(*text, shown(file));
    if (!docs || docs->size() != 1 || !(*docs)[0].json.is_object()) return Status::Ok();
    const json& k = (*docs)[0].json;
    auto strings = [](const json& list) {
      std::vector<std::string> out;
      if (list.is_string()) out.push_back(list.get<std::string>());
      if (list.is_array())
        for (const auto& s : list)
          if (s.is_string()) out.push_back(s.get<std::string>());
      return out;
    };
    for (const char* generators : {"secretGenerator", "configMapGenerator"}) {
      if (!k.contains(generators) || !k[generators].is_array()) continue;
      for (const auto& gen : k[generators]) {
        if (!gen.is_object()) continue;
        // files: `path` or `key=path`; the key's extension says how the data entry is stored.
        for (const auto& f : strings(gen.value("files", json::array()))) {
          const auto eq = f.find('=');
          const std::string key = eq == std::string::npos ? f : f.substr(0, eq);
          const std::string path = eq == std::string::npos ? f : f.substr(eq + 1);
          if (auto s = decryptFile(canonical, path, storedAs(key)); !s) return s;
        }
        for (const char* envs : {"envs", "env"}) {
          for (const auto& e : strings(gen.value(envs, json::array()))) {
            Stored stored = storedAs(e);
            if (stored == Stored::kBinary) stored = Stored::kDotenv;  // an env file, whatever its name
            if (auto s = decryptFile(canonical, e, stored); !s) return s;
          }
        }
      }
    }
    if (k.contains("patches") && k["patches"].is_array()) {
      for (const auto& p : k["patches"]) {
        if (!p.is_object() || !p.contains("path") || !p["path"].is_string()) continue;
        const std::string path = p["path"].get<std::string>();
        Stored stored = storedAs(path);
        if (stored == Stored::kBinary) stored = Stored::kYaml;
        if (auto s = decryptFile(canonical, path, stored); !s) return s;
      }
    }
    for (const char* refs : {"resources", "components"}) {
      for (const auto& r : strings(k.value(refs, json::array()))) {
        auto sub = inside(root, canonical, r);
        if (sub && fs::is_directory(*sub))
          if (auto s = visit(*sub); !s) return s;
      }
    }
    return Status::Ok();
  }
};

bool decryptionDisabled(const json& obj) {
  const json* meta = obj.contains("metadata") ? &obj["metadata"] : nullptr;
  if (!meta || !meta->is_object() || !meta->contains("annotations")) return false;
  const json& a = (*meta)["annotations"];
  if (!a.is_object()) return false;
  std::string v = a.value(kDecryptAnnotation, "");
  for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == kDisabled;
}

}  // namespace

SopsBuildDecryptor::SopsBuildDecryptor(std::vector<std::string> identities)
    : identities_(std::move(identities)) {}

Status SopsBuildDecryptor::decryptSources(const fs::path& copyRoot, const fs::path& dir) const {
  SourceWalk walk{copyRoot, identities_, {}, {}};
  return walk.visit(dir);
}

Result<std::optional<std::string>> SopsBuildDecryptor::decryptObject(std::string_view yaml,
                                                                     const std::string& object) const {
  // Most objects hold no SOPS metadata and no Secret data: they pass unparsed.
  if (yaml.find("sops") == std::string_view::npos && yaml.find("Secret") == std::string_view::npos)
    return std::optional<std::string>();
  auto docs = parseYamlDocuments(yaml, object);
  if (!docs) return Error{docs.error()};
  if (docs->empty() || !(*docs)[0].json.is_object()) return std::optional<std::string>();
  json obj = std::move((*docs)[0].json);
  if (decryptionDisabled(obj)) return std::optional<std::string>();
  // Quoted, so that an object whose name ends in .json is not taken for a JSON file in messages.
  const std::string name = "'" + object + "'";
  if (obj.contains("sops") && obj["sops"].is_object()) {
    auto plain = decryptSopsDocument(yaml, name, SopsFormat::kYaml, identities_, MacCheck::kSkip);
    if (!plain) return Error{plain.error()};
    return std::optional<std::string>(std::move(*plain));
  }
  if (obj.value("kind", "") != "Secret" || !obj.contains("data") || !obj["data"].is_object())
    return std::optional<std::string>();
  // A Secret made by a secretGenerator from an encrypted file the walk above did not reach: each data
  // entry that is a SOPS file is decrypted, in the store its key's extension names.
  bool changed = false;
  for (auto& [key, value] : obj["data"].items()) {
    if (!value.is_string()) continue;
    auto bytes = sluice::base64Decode(value.get<std::string>());
    if (!bytes) continue;  // the API server refuses it, with its own message
    Stored stored = Stored::kBinary;
    if (bytes->find(markerOf(Stored::kYaml)) != std::string::npos) {
      stored = Stored::kYaml;
    } else if (bytes->find(markerOf(Stored::kDotenv)) != std::string::npos) {
      stored = Stored::kDotenv;
    } else if (bytes->find(markerOf(Stored::kJson)) != std::string::npos) {
      stored = storedAs(key) == Stored::kJson ? Stored::kJson : Stored::kBinary;
    } else {
      continue;
    }
    std::string entry = name;
    entry += " data.";
    entry += key;
    if (stored != Stored::kBinary && storedAs(key) != Stored::kBinary && storedAs(key) != stored)
      return Error{entry + ": the SOPS file is stored in another format than its key's extension says"};
    auto plain = decryptStored(*bytes, stored, entry, identities_);
    if (!plain) return Error{plain.error()};
    if (!*plain) continue;
    value = sluice::base64Encode(**plain);
    changed = true;
  }
  if (!changed) return std::optional<std::string>();
  return std::optional<std::string>(obj.dump() + "\n");  // JSON is YAML
}

}  // namespace sluice::gitops
