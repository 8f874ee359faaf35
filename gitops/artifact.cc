// Artifacts (see artifact.h): tarballs written and read with libarchive, digests with OpenSSL's EVP.
#include "gitops/artifact.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <random>
#include <vector>

namespace sluice::gitops {

namespace fs = std::filesystem;

namespace {

struct ArchiveWriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

std::string archiveError(archive* a) {
  const char* e = archive_error_string(a);
  return e ? e : "unknown libarchive error";
}

// The files and directories to archive, relative to `root`, sorted so the tarball does not depend on the
// file system's order.
struct Item {
  std::string rel;
  bool dir = false;
  bool executable = false;
};

void collect(const fs::path& root, const fs::path& dir, const IgnoreRules& rules, std::vector<Item>& out) {
  std::vector<fs::directory_entry> entries;
  for (const auto& e : fs::directory_iterator(dir)) entries.push_back(e);
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
  for (const auto& e : entries) {
    const std::string rel = fs::relative(e.path(), root).generic_string();
    if (e.is_symlink()) continue;  // a link could point out of the checkout
    const bool isDir = e.is_directory();
    if (isDir && e.path().filename() == ".git") continue;
    if (!isDir && !e.is_regular_file()) continue;
    if (rules.ignored(rel, isDir)) continue;
    const auto perms = e.status().permissions();
    out.push_back({rel, isDir, (perms & fs::perms::owner_exec) != fs::perms::none});
    if (isDir) collect(root, e.path(), rules, out);
  }
}

void findSourceIgnores(const fs::path& root, const fs::path& dir, std::vector<fs::path>& out) {
  std::vector<fs::path> subdirs;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_symlink()) continue;
    if (e.is_directory()) {
      if (e.path().filename() != ".git") subdirs.push_back(e.path());
    } else if (e.path().filename() == ".sourceignore" && e.is_regular_file()) {
      out.push_back(e.path());
    }
  }
  std::sort(subdirs.begin(), subdirs.end());
  for (const auto& d : subdirs) findSourceIgnores(root, d, out);
}

std::string toHex(const unsigned char* data, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0xf];
  }
  return out;
}

bool safeRelative(const std::string& p) {
  if (p.empty() || p[0] == '/') return false;
  for (const auto& part : fs::path(p)) {
    if (part == "..") return false;
  }
  return true;
}

}  // namespace

std::string artifactDirectory(const std::string& ns, const std::string& name) {
  return "gitrepository/" + ns + "/" + name;
}

IgnoreRules ignoreRulesFor(const fs::path& dir, const std::optional<std::string>& specIgnore) {
  IgnoreRules rules;
  if (!specIgnore) rules.add(defaultSourceIgnore());
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) findSourceIgnores(dir, dir, files);
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string where = fs::relative(f.parent_path(), dir).generic_string();
    if (where == ".") where.clear();
    rules.add(text, where);
  }
  if (specIgnore) rules.add(*specIgnore);
  return rules;
}

Result<std::string> fileDigest(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{"cannot read " + file.string()};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return Error{"cannot read " + file.string()};
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  return "sha256:" + toHex(digest, len);
}

Result<ArtifactFile> writeArtifact(const fs::path& sourceDir, const IgnoreRules& rules,
                                   const fs::path& storageRoot, const std::string& relativePath) {
  if (!safeRelative(relativePath)) return Error{"artifact path \"" + relativePath + "\" leaves the storage"};
  const fs::path target = storageRoot / relativePath;
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) return Error{"cannot create " + target.parent_path().string() + ": " + ec.message()};
  std::vector<Item> items;
  try {
    collect(sourceDir, sourceDir, rules, items);
  } catch (const fs::filesystem_error& e) {
    return Error{"cannot read the checkout: " + std::string(e.what())};
  }

  std::random_device rd;
  const fs::path temp =
      target.parent_path() / (".tmp-" + std::to_string(rd()) + "-" + target.filename().string());
  ArtifactFile out;
  {
    std::unique_ptr<archive, ArchiveWriteFree> a(archive_write_new());
    archive_write_set_format_pax_restricted(a.get());
    archive_write_add_filter_gzip(a.get());
    // No time in the gzip header: the same files give the same bytes.
    archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr);
    if (archive_write_open_filename(a.get(), temp.c_str()) != ARCHIVE_OK)
      return Error{"cannot write " + temp.string() + ": " + archiveError(a.get())};
    std::unique_ptr<archive_entry, EntryFree> entry(archive_entry_new());
    std::vector<char> buf(1 << 16);
    for (const Item& item : items) {
      archive_entry_clear(entry.get());
      archive_entry_set_pathname(entry.get(), item.rel.c_str());
      archive_entry_set_mtime(entry.get(), 0, 0);
      archive_entry_set_uid(entry.get(), 0);
      archive_entry_set_gid(entry.get(), 0);
      if (item.dir) {
        archive_entry_set_filetype(entry.get(), AE_IFDIR);
        archive_entry_set_perm(entry.get(), 0755);
        archive_entry_set_size(entry.get(), 0);
      } else {
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_perm(entry.get(), item.executable ? 0755 : 0644);
        archive_entry_set_size(entry.get(), static_cast<la_int64_t>(fs::file_size(sourceDir / item.rel)));
        ++out.files;
      }
      if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) {
        fs::remove(temp, ec);
        return Error{"cannot archive " + item.rel + ": " + archiveError(a.get())};
      }
      if (item.dir) continue;
      std::ifstream in(sourceDir / item.rel, std::ios::binary);
      while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        if (in.gcount() > 0 &&
            archive_write_data(a.get(), buf.data(), static_cast<size_t>(in.gcount())) < 0) {
          fs::remove(temp, ec);
          return Error{"cannot archive " + item.rel + ": " + archiveError(a.get())};
        }
      }
    }
    if (archive_write_close(a.get()) != ARCHIVE_OK) {
      fs::remove(temp, ec);
      return Error{"cannot write " + temp.string() + ": " + archiveError(a.get())};
    }
  }
  auto digest = fileDigest(temp);
  if (!digest) {
    fs::remove(temp, ec);
    return Error{digest.error()};
  }
  out.digest = *digest;
  out.size = static_cast<int64_t>(fs::file_size(temp, ec));
  fs::rename(temp, target, ec);
  if (ec) {
    fs::remove(temp, ec);
    return Error{"cannot move the artifact into " + target.string() + ": " + ec.message()};
  }
  out.path = relativePath;
  return out;
}

Result<size_t> garbageCollectArtifacts(const fs::path& storageRoot, const std::string& directory,
                                       const std::string& current, size_t keep) {
  const fs::path dir = storageRoot / directory;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return size_t{0};
  std::vector<std::pair<fs::file_time_type, fs::path>> artifacts;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || name[0] == '.' || name.size() < 7 ||
        name.substr(name.size() - 7) != ".tar.gz")
      continue;
    artifacts.emplace_back(e.last_write_time(), e.path());
  }
  if (ec) return Error{"cannot list " + dir.string() + ": " + ec.message()};
  std::sort(artifacts.begin(), artifacts.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  const fs::path currentPath = storageRoot / current;
  size_t kept = 0, deleted = 0;
  // The current one counts first, whatever its time.
  for (const auto& [time, path] : artifacts) {
    if (path == currentPath) ++kept;
  }
  for (const auto& [time, path] : artifacts) {
    if (path == currentPath) continue;
    if (kept < keep) {
      ++kept;
      continue;
    }
    if (!fs::remove(path, ec) && ec) return Error{"cannot delete " + path.string() + ": " + ec.message()};
    ++deleted;
  }
  return deleted;
}

Status extractArtifact(const fs::path& storageRoot, const nlohmann::json& artifact,
                       const fs::path& destination) {
  if (!artifact.is_object() || !artifact.contains("path") || !artifact["path"].is_string())
    return Error{"the artifact has no path"};
  if (!artifact.contains("digest") || !artifact["digest"].is_string())
    return Error{"the artifact has no digest"};
  const std::string rel = artifact["path"].get<std::string>();
  const std::string expected = artifact["digest"].get<std::string>();
  if (!safeRelative(rel)) return Error{"artifact path \"" + rel + "\" leaves the storage"};
  const fs::path file = storageRoot / rel;
  auto digest = fileDigest(file);
  if (!digest) return Error{"artifact " + rel + ": " + digest.error()};
  if (*digest != expected)
    return Error{"artifact " + rel + ": its digest is " + *digest + ", not the " + expected +
                 " its source recorded (changed or truncated since it was written)"};

  std::error_code ec;
  fs::create_directories(destination, ec);
  if (ec) return Error{"cannot create " + destination.string() + ": " + ec.message()};
  std::unique_ptr<archive, ArchiveReadFree> in(archive_read_new());
  archive_read_support_filter_gzip(in.get());
  archive_read_support_format_tar(in.get());
  if (archive_read_open_filename(in.get(), file.c_str(), 1 << 16) != ARCHIVE_OK)
    return Error{"artifact " + rel + ": " + archiveError(in.get())};
  std::unique_ptr<archive, ArchiveWriteFree> out(archive_write_disk_new());
  // Entries are written at destination/name, an absolute path: their own names were checked above.
  archive_write_disk_set_options(
      out.get(), ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_PERM);
  // Errors about one entry (built outside the loop: one string each, when it happens).
  const auto entryError = [&rel](const char* what, const std::string& name, const std::string& detail) {
    return Error{"artifact " + rel + ": " + what + " \"" + name + "\" (" + detail + ")"};
  };
  archive_entry* entry = nullptr;
  int rc = 0;
  while ((rc = archive_read_next_header(in.get(), &entry)) == ARCHIVE_OK) {
    const char* rawName = archive_entry_pathname(entry);
    const std::string name = rawName ? rawName : "";
    if (!safeRelative(name)) return entryError("refused the entry", name, "absolute or with '..'");
    const auto type = archive_entry_filetype(entry);
    if (type != AE_IFREG && type != AE_IFDIR)
      return entryError("refused the entry", name, "neither a file nor a directory");
    const std::string target = (destination / name).string();
    archive_entry_set_pathname(entry, target.c_str());
    if (archive_write_header(out.get(), entry) != ARCHIVE_OK)
      return entryError("cannot write", name, archiveError(out.get()));
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int r = 0;
    while ((r = archive_read_data_block(in.get(), &block, &size, &offset)) == ARCHIVE_OK) {
      if (archive_write_data_block(out.get(), block, size, offset) != ARCHIVE_OK)
        return entryError("cannot write", name, archiveError(out.get()));
    }
    if (r != ARCHIVE_EOF) return entryError("cannot read", name, archiveError(in.get()));
    if (archive_write_finish_entry(out.get()) != ARCHIVE_OK)
      return entryError("cannot write", name, archiveError(out.get()));
  }
  if (rc != ARCHIVE_EOF) return Error{"artifact " + rel + ": " + archiveError(in.get())};
  return Status::Ok();
}

}  // namespace sluice::gitops
