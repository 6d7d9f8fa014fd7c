// img2dataset folders and webdataset tar shards -> image-caption samples.
#include "prismer/datasets/web_shards.h"

#include "prismer/data/text_clean.h"
#include "prismer/datasets/paths.h"
#include "prismer/datasets/tar_reader.h"

#include <prismer/log.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace prismer::datasets {

namespace fs = std::filesystem;

namespace {

bool hidden(const fs::path& p) { return p.filename().string().rfind('.', 0) == 0; }

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

WebShards::WebShards(const std::string& data_root, const std::string& name, int max_words)
    : dir_(join_path(data_root, name)), name_(name), max_words_(max_words) {
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) throw std::runtime_error(dir_ + ": no such folder (expected img2dataset output)");
  std::vector<std::string> folders, tars;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (hidden(e.path())) continue;
    if (e.is_directory()) folders.push_back(e.path().filename().string());
    else if (e.path().extension() == ".tar") tars.push_back(e.path().filename().string());
  }
  if (ec) throw std::runtime_error(dir_ + ": cannot list the folder: " + ec.message());
  std::sort(folders.begin(), folders.end());
  std::sort(tars.begin(), tars.end());
  for (const std::string& f : folders) list_folder(f);
  for (const std::string& t : tars) list_tar(t.substr(0, t.size() - 4), join_path(dir_, t));
}

void WebShards::list_folder(const std::string& shard) {
  std::vector<std::string> keys;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(join_path(dir_, shard), ec)) {
    const std::string file = e.path().filename().string();
    if (!hidden(e.path()) && ends_with(file, ".jpg")) keys.push_back(file.substr(0, file.size() - 4));
  }
  if (ec) {
    ++skipped_;
    log::warn("{}: cannot list the shard folder: {}", join_path(dir_, shard), ec.message());
    return;
  }
  std::sort(keys.begin(), keys.end());
  for (std::string& k : keys) entries_.push_back({shard, std::move(k), -1, -1, {}});
}

void WebShards::list_tar(const std::string& shard, const std::string& path) {
  std::map<std::string, std::int64_t> images;
  std::map<std::string, std::string> captions;
  try {
    tar_for_each(path, [&](const TarMember& m, const std::function<std::string()>& read) {
      if (ends_with(m.name, ".jpg")) images[m.name.substr(0, m.name.size() - 4)] = m.offset;
      else if (ends_with(m.name, ".txt")) captions[m.name.substr(0, m.name.size() - 4)] = read();
    });
  } catch (const std::exception& e) {
    ++skipped_;
    log::warn("skipping tar shard: {}", e.what());
    return;
  }
  tars_.push_back(path);
  for (auto& [key, offset] : images) {
    auto c = captions.find(key);
    if (c == captions.end()) {
      ++skipped_;
      log::warn("{}: '{}.jpg' has no '{}.txt' caption; skipped", path, key, key);
      continue;
    }
    entries_.push_back({shard, key, static_cast<int>(tars_.size()) - 1, offset, std::move(c->second)});
  }
}

Sample WebShards::sample(std::size_t index) const {
  const Entry& e = entries_.at(index);
  Sample s;
  s.id = name_ + "/" + e.shard + "/" + e.key;
  s.label_subdir = name_;
  s.label_name = e.shard + "/" + e.key;
  std::string caption_file, bytes;
  if (e.tar < 0) {
    s.image_path = join_path(join_path(dir_, e.shard), e.key + ".jpg");
    caption_file = join_path(join_path(dir_, e.shard), e.key + ".txt");
    std::ifstream in(caption_file, std::ios::binary);
    if (!in) throw std::runtime_error(caption_file + ": cannot open the caption file");
    std::ostringstream ss;
    ss << in.rdbuf();
    bytes = ss.str();
  } else {
    const std::string& tar = tars_[static_cast<std::size_t>(e.tar)];
    s.image_path = tar.substr(0, tar.size() - 4) + kTarMemberSeparator + e.key + ".jpg";
    caption_file = tar + ":" + e.key + ".txt";
    bytes = e.caption_bytes;
  }
  try {
    // open(...).readlines()[0], cleaned as the original Pretrain does
    s.text["caption"] = data::pre_caption(data::first_line_of_file(bytes), max_words_);
  } catch (const data::TextDecodeError& err) {
    throw std::runtime_error(caption_file + ": the caption is not UTF-8 (" + err.what() + ")");
  } catch (const std::out_of_range&) {
    throw std::runtime_error(caption_file + ": the caption file is empty");
  }
  return s;
}

Image WebShards::load_image(std::size_t index) const {
  const Entry& e = entries_.at(index);
  if (e.tar < 0) return read_image(join_path(join_path(dir_, e.shard), e.key + ".jpg"), 3);
  const std::string& tar = tars_[static_cast<std::size_t>(e.tar)];
  const std::string member = e.key + ".jpg";
  return decode_image(tar_read_member(tar, member, e.offset), tar + ":" + member, 3);
}

}  // namespace prismer::datasets
