// Image-text pairs as img2dataset writes them (CC3M, SBU, CC12M): numbered folders of <key>.jpg + <key>.txt, and
// webdataset .tar shards of the same members.
#pragma once

#include "prismer/datasets/sample_source.h"

#include <cstdint>
#include <string>
#include <vector>

namespace prismer::datasets {

/// Separates a tar shard from a member name in Sample::image_path ("<shard>.tar#<member>").
inline constexpr const char* kTarMemberSeparator = ".tar#";

/// Every pair under `<data_root>/<name>/`: each sub-folder `<shard>/` (the original's glob `<name>/*/` then
/// `*.jpg`) and each `<shard>.tar`. Sorted by shard, then key (the original follows the file system's unsorted
/// order). Captions are `pre_caption(first line of <key>.txt, max_words)`, read when a sample is asked for
/// (folders) or kept from the listing pass (tar). Sample id "<name>/<shard>/<key>", label folder `name`, label name
/// "<shard>/<key>" — the same for both layouts, so labels made from one serve the other.
class WebShards final : public SampleSource {
 public:
  /// Lists the shards; throws std::runtime_error when `<data_root>/<name>` is not a folder. A shard that cannot be
  /// read and an image without a caption are logged with their file name and counted in skipped().
  WebShards(const std::string& data_root, const std::string& name, int max_words);

  std::size_t size() const override { return entries_.size(); }
  Sample sample(std::size_t index) const override;
  /// Reads the .jpg from its folder, or from its tar shard starting at the member's recorded header.
  Image load_image(std::size_t index) const override;
  std::size_t skipped() const override { return skipped_; }

 private:
  struct Entry {
    std::string shard;
    std::string key;            ///< member path without ".jpg"
    int tar = -1;               ///< index into tars_, -1 for the folder layout
    std::int64_t offset = -1;   ///< header offset of the .jpg member
    std::string caption_bytes;  ///< the .txt member (tar layout)
  };
  void list_folder(const std::string& shard);
  void list_tar(const std::string& shard, const std::string& path);

  std::string dir_;
  std::string name_;
  int max_words_;
  std::vector<std::string> tars_;
  std::vector<Entry> entries_;
  std::size_t skipped_ = 0;
};

}  // namespace prismer::datasets
