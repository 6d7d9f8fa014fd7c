// Reading webdataset .tar shards (img2dataset's output) with libarchive.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace prismer::datasets {

/// One regular file of a tar archive, as tar_for_each presents it.
struct TarMember {
  std::string name;            ///< the member's path inside the archive
  std::int64_t size = 0;       ///< bytes
  std::int64_t offset = -1;    ///< where its header starts (uncompressed tar), -1 when the archive is compressed
};

/// Calls `visit(member, read_data)` for every regular file of `tar_path` in archive order; `read_data()` returns
/// the member's bytes (call it at most once, inside `visit`). Throws std::runtime_error naming the file when
/// the archive cannot be opened or is corrupt (e.g. truncated).
void tar_for_each(const std::string& tar_path,
                  const std::function<void(const TarMember&, const std::function<std::string()>& read_data)>& visit);

/// The bytes of member `name` of `tar_path`. With an `offset` from tar_for_each the read starts at that header
/// (no scan); otherwise, or when the member is not there, the archive is scanned from the start. Throws
/// std::runtime_error naming the archive and member when it is missing or unreadable.
std::string tar_read_member(const std::string& tar_path, const std::string& name, std::int64_t offset = -1);

}  // namespace prismer::datasets
