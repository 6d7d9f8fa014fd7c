// image_folder: every .jpg/.jpeg/.png under a folder (recursively), in a stable order — the demo's dataset
// and the input of the labels pipeline for a plain folder of photos.
#include <prismer/config.h>
#include <prismer/dataset.h>
#include <prismer/log.h>
#include <prismer/plugin.h>

#include <algorithm>
#include <filesystem>
#include <set>

namespace {

namespace fs = std::filesystem;

class ImageFolder final : public prismer::Dataset {
 public:
  explicit ImageFolder(const prismer::Config& config) {
    const prismer::Config root_cfg = config["root"];
    root_ = root_cfg.as<std::string>();
    if (root_.empty()) root_cfg.fail("set 'root' to the folder of images");
    if (!fs::is_directory(root_)) root_cfg.fail("folder '" + root_ + "' does not exist");
    name_ = config.get<std::string>("name");
    if (name_.empty()) name_ = fs::path(root_).lexically_normal().filename().string();
    if (name_.empty() || name_ == "." || name_ == "..") name_ = "images";
    std::set<std::string> extensions;
    for (std::string e : config.get<std::vector<std::string>>("extensions")) {
      std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      extensions.insert(e.empty() || e[0] == '.' ? e : "." + e);
    }
    // Sorted relative paths: the same order on every machine and every run (resume and sharding rely on it).
    std::error_code ec;
    fs::recursive_directory_iterator it(root_, fs::directory_options::skip_permission_denied, ec), end;
    if (ec) root_cfg.fail("cannot list '" + root_ + "': " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) {
        ++skipped_;
        prismer::log::warn("{}: cannot list an entry: {}", root_, ec.message());
        ec.clear();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      std::string ext = it->path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (extensions.count(ext) == 0) continue;
      files_.push_back(fs::relative(it->path(), root_).generic_string());
    }
    std::sort(files_.begin(), files_.end());
    if (files_.empty()) root_cfg.fail("no images (" + config["extensions"].dump() + ") under '" + root_ + "'");
  }

  std::size_t size() const override { return files_.size(); }

  prismer::Sample sample(std::size_t index) const override {
    const std::string& rel = files_.at(index);
    prismer::Sample s;
    s.id = rel;
    s.image_path = (fs::path(root_) / rel).string();
    s.label_name = (fs::path(rel).parent_path() / fs::path(rel).stem()).generic_string();
    return s;
  }

  std::string label_subdir() const override { return name_; }
  std::size_t skipped() const override { return skipped_; }

 private:
  std::string root_;
  std::string name_;
  std::vector<std::string> files_;
  std::size_t skipped_ = 0;
};

}  // namespace

PRISMER_PLUGIN(ImageFolder, "image_folder", dataset, "1.0.0",
               "Every .jpg/.jpeg/.png under a folder, recursively, in sorted order",
               "root: \"\"             # the folder of images (required)\n"
               "name: \"\"             # label sub-folder name; default: the folder's name\n"
               "extensions: [.jpg, .jpeg, .png]\n")
