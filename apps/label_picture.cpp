// The label picture of one image (see label_picture.h).
#include "label_picture.h"

#include <prismer/image.h>
#include <prismer/weights.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <vector>

namespace prismer::cli {

namespace {

namespace fs = std::filesystem;

constexpr int kTileHeight = 320;
constexpr int kTitleHeight = 28;

/// The label of `image` in one expert folder: among `<stem>.png` files below it, the one whose parent folders match
/// the image's parent folders from the end the longest (the layout is `<expert>/<dataset>/<relative path>.png`).
std::optional<fs::path> find_label(const fs::path& expert_dir, const fs::path& image) {
  std::vector<std::string> image_dirs;
  for (const auto& part : fs::absolute(image).lexically_normal().parent_path()) image_dirs.push_back(part.string());
  std::optional<fs::path> best;
  std::size_t best_score = 0;
  for (const auto& entry : fs::recursive_directory_iterator(expert_dir, fs::directory_options::skip_permission_denied)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".png" || entry.path().stem() != image.stem()) continue;
    std::vector<std::string> dirs;
    for (const auto& part : fs::relative(entry.path(), expert_dir).parent_path()) dirs.push_back(part.string());
    std::size_t score = 0;
    while (score < dirs.size() && score < image_dirs.size() &&
           dirs[dirs.size() - 1 - score] == image_dirs[image_dirs.size() - 1 - score])
      ++score;
    if (!best || score > best_score || (score == best_score && entry.path() < *best)) {
      best = entry.path();
      best_score = score;
    }
  }
  return best;
}

/// A deterministic distinct colour per id (the PASCAL VOC bit-interleaving palette).
cv::Vec3b palette(int id) {
  int r = 0, g = 0, b = 0;
  int c = id + 1;
  for (int shift = 7; shift >= 0 && c > 0; --shift, c >>= 3) {
    r |= ((c >> 0) & 1) << shift;
    g |= ((c >> 1) & 1) << shift;
    b |= ((c >> 2) & 1) << shift;
  }
  return {static_cast<std::uint8_t>(b), static_cast<std::uint8_t>(g), static_cast<std::uint8_t>(r)};  // BGR
}

cv::Mat colour_map(const cv::Mat& grey, int map) {
  cv::Mat out;
  cv::applyColorMap(grey, out, map);
  return out;
}

/// Ids drawn in palette colours over the (dimmed) photo; `background` (255) stays the photo.
cv::Mat overlay_ids(const cv::Mat& photo, const cv::Mat& ids, int background) {
  cv::Mat out = photo.clone();
  for (int y = 0; y < ids.rows; ++y)
    for (int x = 0; x < ids.cols; ++x) {
      const int id = ids.at<std::uint8_t>(y, x);
      if (id == background) continue;
      const cv::Vec3b c = palette(id);
      cv::Vec3b& p = out.at<cv::Vec3b>(y, x);
      for (int k = 0; k < 3; ++k) p[k] = static_cast<std::uint8_t>((p[k] + c[k]) / 2);
    }
  return out;
}

void put_text(cv::Mat& img, const std::string& text, cv::Point at, double scale = 0.5) {
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  int base = 0;
  const cv::Size size = cv::getTextSize(text, font, scale, 1, &base);
  at.x = std::clamp(at.x - size.width / 2, 0, std::max(0, img.cols - size.width));
  at.y = std::clamp(at.y + size.height / 2, size.height, std::max(size.height, img.rows - 2));
  cv::putText(img, text, at, font, scale, cv::Scalar(0, 0, 0), 3, cv::LINE_AA);
  cv::putText(img, text, at, font, scale, cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
}

/// The centre of the bounding box of every id (except `background`).
std::map<int, cv::Rect> id_boxes(const cv::Mat& ids, int background) {
  std::map<int, cv::Rect> boxes;
  for (int y = 0; y < ids.rows; ++y)
    for (int x = 0; x < ids.cols; ++x) {
      const int id = ids.at<std::uint8_t>(y, x);
      if (id == background) continue;
      auto it = boxes.find(id);
      if (it == boxes.end()) boxes[id] = cv::Rect(x, y, 1, 1);
      else it->second |= cv::Rect(x, y, 1, 1);
    }
  return boxes;
}

/// Reads `<stem>.json` of a detection label: instance id -> class id (empty when absent or unreadable).
std::map<int, std::string> read_instance_classes(const fs::path& json_path) {
  std::map<int, std::string> out;
  std::error_code ec;
  if (!fs::is_regular_file(json_path, ec)) return out;
  try {
    std::ifstream in(json_path);
    const nlohmann::json j = nlohmann::json::parse(in);
    for (const auto& [k, v] : j.items()) out[std::stoi(k)] = "cls " + v.dump();
  } catch (const std::exception&) {
  }
  return out;
}

/// Reads the word texts of an OCR label's `.pt` ({word id: {'text': ..., 'features': ...}}); empty when absent.
std::map<int, std::string> read_ocr_words(const fs::path& pt_path) {
  std::map<int, std::string> out;
  std::error_code ec;
  if (!fs::is_regular_file(pt_path, ec)) return out;
  try {
    const PickleValue v = load_pickle_file(pt_path.string());
    if (!v.is(PickleValue::Type::dict)) return out;
    for (const auto& [key, value] : v.dict()) {
      if (!key.is(PickleValue::Type::integer)) continue;
      const PickleValue* text = value.find("text");
      if (text != nullptr && (text->is(PickleValue::Type::string) || text->is(PickleValue::Type::bytes)))
        out[static_cast<int>(key.to_int())] = text->to_string();
    }
  } catch (const std::exception& e) {
    std::cerr << "warning: " << pt_path.string() << ": " << e.what() << "\n";
  }
  return out;
}

/// Renders one expert label (already at the photo's size) for display.
cv::Mat render(const std::string& expert, const cv::Mat& label, const cv::Mat& photo, const fs::path& png) {
  if (label.channels() == 3) return label.clone();  // surface normals: the stored (n + 1) / 2 * 255 as colours
  if (expert.rfind("depth", 0) == 0) return colour_map(label, cv::COLORMAP_RAINBOW);
  if (expert.rfind("edge", 0) == 0) return colour_map(label, cv::COLORMAP_INFERNO);
  if (expert.rfind("seg", 0) == 0) {
    cv::Mat out = overlay_ids(photo, label, -1);
    for (const auto& [id, box] : id_boxes(label, -1))
      if (static_cast<std::size_t>(box.area()) > label.total() / 200) put_text(out, std::to_string(id), (box.tl() + box.br()) / 2, 0.4);
    return out;
  }
  if (expert.rfind("obj", 0) == 0) {
    cv::Mat out = overlay_ids(photo, label, 255);
    const auto classes = read_instance_classes(fs::path(png).replace_extension(".json"));
    for (const auto& [id, box] : id_boxes(label, 255)) {
      cv::rectangle(out, box, palette(id), 1);
      const auto it = classes.find(id);
      put_text(out, it != classes.end() ? it->second : std::to_string(id), (box.tl() + box.br()) / 2, 0.4);
    }
    return out;
  }
  if (expert.rfind("ocr", 0) == 0) {
    cv::Mat out;
    photo.convertTo(out, -1, 0.4, 0);  // dimmed, so the word boxes stand out
    const auto words = read_ocr_words(fs::path(png).replace_extension(".pt"));
    const auto boxes = id_boxes(label, 255);
    for (const auto& [id, box] : boxes) {
      cv::rectangle(out, box, cv::Scalar(0, 255, 255), 2);
      const auto it = words.find(id);
      put_text(out, it != words.end() ? it->second : "#" + std::to_string(id), (box.tl() + box.br()) / 2);
    }
    if (boxes.empty()) put_text(out, "No text detected", {out.cols / 2, out.rows / 2}, 0.7);
    return out;
  }
  cv::Mat out;
  cv::cvtColor(label, out, cv::COLOR_GRAY2BGR);
  return out;
}

/// A tile of height kTileHeight + title strip.
cv::Mat tile(const cv::Mat& content, const std::string& title) {
  const int width = std::max(1, content.cols * kTileHeight / std::max(1, content.rows));
  cv::Mat scaled;
  cv::resize(content, scaled, cv::Size(width, kTileHeight), 0, 0, cv::INTER_AREA);
  cv::Mat out(kTileHeight + kTitleHeight, std::max(width, 120), CV_8UC3, cv::Scalar(255, 255, 255));
  scaled.copyTo(out(cv::Rect(0, kTitleHeight, width, kTileHeight)));
  cv::putText(out, title, cv::Point(4, kTitleHeight - 8), cv::FONT_HERSHEY_SIMPLEX, 0.6, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  return out;
}

cv::Mat placeholder_tile(const std::string& title, const std::string& why, int width) {
  cv::Mat box(kTileHeight, width, CV_8UC3, cv::Scalar(235, 235, 235));
  put_text(box, why, {width / 2, kTileHeight / 2}, 0.5);
  return tile(box, title);
}

}  // namespace

int write_label_picture(const fs::path& label_root, const fs::path& image_path, const fs::path& target) {
  std::vector<fs::path> experts;
  for (const auto& entry : fs::directory_iterator(label_root))
    if (entry.is_directory()) experts.push_back(entry.path());
  std::sort(experts.begin(), experts.end());
  Image rgb = read_image(image_path.string());
  cv::Mat photo;
  cv::cvtColor(cv::Mat(rgb.height, rgb.width, CV_8UC3, rgb.pixels.data()), photo, cv::COLOR_RGB2BGR);
  std::vector<cv::Mat> tiles = {tile(photo, "RGB")};
  const int blank_width = std::max(120, rgb.width * kTileHeight / std::max(1, rgb.height));
  int found = 0;
  for (const fs::path& dir : experts) {
    const std::string expert = dir.filename().string();
    const auto png = find_label(dir, image_path);
    if (!png) continue;
    ++found;
    if (fs::file_size(*png) == 0) {  // the placeholder written for an unreadable image
      tiles.push_back(placeholder_tile(expert, "empty placeholder", blank_width));
      continue;
    }
    cv::Mat label = cv::imread(png->string(), cv::IMREAD_UNCHANGED);
    if (label.empty() || label.depth() != CV_8U) {
      tiles.push_back(placeholder_tile(expert, "unreadable label", blank_width));
      continue;
    }
    if (label.channels() == 4) cv::cvtColor(label, label, cv::COLOR_BGRA2BGR);
    if (label.channels() == 2) cv::extractChannel(label, label, 0);  // grey + alpha
    if (label.cols != photo.cols || label.rows != photo.rows)
      cv::resize(label, label, photo.size(), 0, 0, cv::INTER_NEAREST);
    tiles.push_back(tile(render(expert, label, photo, *png), expert));
  }
  cv::Mat sheet;
  cv::hconcat(tiles, sheet);
  std::vector<std::uint8_t> bytes;
  if (!cv::imencode(".png", sheet, bytes)) throw std::runtime_error(target.string() + ": cannot encode the picture");
  write_file_atomic(target.string(), std::string(bytes.begin(), bytes.end()));
  return found;
}

}  // namespace prismer::cli
