// libarchive readers for tar shards: a full listing pass, and a random read that seeks to a recorded header
// (a tar stream may start at any header block, so an uncompressed shard needs no scan).
#include "prismer/datasets/tar_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>

namespace prismer::datasets {

namespace {

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveCloser>;
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

struct OpenArchive {
  FilePtr file;
  ArchivePtr reader;
};

OpenArchive open_tar(const std::string& path, std::int64_t offset) {
  OpenArchive o;
  o.file.reset(std::fopen(path.c_str(), "rb"));
  if (!o.file) throw std::runtime_error(path + ": cannot open the tar shard");
  if (offset > 0 && fseeko(o.file.get(), static_cast<off_t>(offset), SEEK_SET) != 0)
    throw std::runtime_error(path + ": cannot seek to offset " + std::to_string(offset));
  o.reader.reset(archive_read_new());
  archive_read_support_format_tar(o.reader.get());
  archive_read_support_filter_all(o.reader.get());
  if (archive_read_open_FILE(o.reader.get(), o.file.get()) != ARCHIVE_OK)
    throw std::runtime_error(path + ": not a readable tar archive: " + archive_error_string(o.reader.get()));
  return o;
}

std::string read_current(archive* a, const std::string& path, const std::string& name, std::int64_t size) {
  std::string data(static_cast<std::size_t>(size > 0 ? size : 0), '\0');
  std::size_t got = 0;
  while (got < data.size()) {
    const la_ssize_t n = archive_read_data(a, data.data() + got, data.size() - got);
    if (n < 0) throw std::runtime_error(path + ": member '" + name + "': " + archive_error_string(a));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got != data.size())
    throw std::runtime_error(path + ": member '" + name + "' is truncated (" + std::to_string(got) + " of " +
                             std::to_string(data.size()) + " bytes)");
  return data;
}

}  // namespace

void tar_for_each(const std::string& tar_path,
                  const std::function<void(const TarMember&, const std::function<std::string()>&)>& visit) {
  OpenArchive o = open_tar(tar_path, 0);
  archive* a = o.reader.get();
  archive_entry* entry = nullptr;
  for (;;) {
    const int r = archive_read_next_header(a, &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      throw std::runtime_error(tar_path + ": corrupt tar shard: " + archive_error_string(a));
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    TarMember m;
    m.name = archive_entry_pathname(entry);
    m.size = archive_entry_size(entry);
    // Header offsets are positions in the uncompressed stream: usable for seeking only without a filter.
    m.offset = archive_filter_count(a) <= 1 ? archive_read_header_position(a) : -1;
    visit(m, [&] { return read_current(a, tar_path, m.name, m.size); });
  }
}

std::string tar_read_member(const std::string& tar_path, const std::string& name, std::int64_t offset) {
  // From the recorded header (it must be the member's), else a scan from the start.
  auto attempt = [&](std::int64_t start, bool only_first) -> std::optional<std::string> {
    OpenArchive o = open_tar(tar_path, start);
    archive* a = o.reader.get();
    archive_entry* entry = nullptr;
    while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
      if (archive_entry_filetype(entry) == AE_IFREG && name == archive_entry_pathname(entry))
        return read_current(a, tar_path, name, archive_entry_size(entry));
      if (only_first) break;
    }
    return std::nullopt;
  };
  if (offset > 0)
    if (auto data = attempt(offset, true)) return *std::move(data);
  if (auto data = attempt(0, false)) return *std::move(data);
  throw std::runtime_error(tar_path + ": no member '" + name + "' (or the shard is corrupt)");
}

}  // namespace prismer::datasets
