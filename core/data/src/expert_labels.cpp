// get_expert_labels of the original dataset/utils.py: file layout, zero-byte fallbacks, side files.
#include "prismer/data/expert_labels.h"

#include <nlohmann/json.hpp>
#include <prismer/weights.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace prismer::data {

namespace {

namespace fs = std::filesystem;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Python os.path.join for relative components.
std::string join(const std::string& a, const std::string& b) {
  if (b.empty()) return a.empty() || a.back() == '/' ? a : a + "/";
  if (b.front() == '/' || a.empty()) return b;
  return a.back() == '/' ? a + b : a + "/" + b;
}

/// Python str.replace(old, new): every non-overlapping occurrence, left to right.
std::string replace_all(const std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  std::string out;
  std::size_t pos = 0;
  for (std::size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out += to;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

/// Pillow `convert('L')` of an RGB image: L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16.
Image rgb_to_l(const Image& rgb) {
  Image out(rgb.width, rgb.height, 1);
  for (std::size_t i = 0, n = out.pixels.size(); i < n; ++i) {
    const std::uint8_t* p = &rgb.pixels[i * 3];
    out.pixels[i] = static_cast<std::uint8_t>((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16);
  }
  return out;
}

bool png_is_grey(const std::string& bytes) {
  static const char sig[] = "\x89PNG\r\n\x1a\n";
  if (bytes.size() < 26 || bytes.compare(0, 8, std::string(sig, 8)) != 0) return false;
  const unsigned colour_type = static_cast<unsigned char>(bytes[25]);
  return colour_type == 0 || colour_type == 4;
}

/// `Image.open(path).convert('L')`.
Image open_as_l(const std::string& path, const std::string& bytes) {
  if (png_is_grey(bytes)) return decode_image(bytes, path, 1);
  return rgb_to_l(decode_image(bytes, path, 3));
}

std::map<std::string, std::int64_t> load_class_json(const std::string& path) {
  const nlohmann::json j = nlohmann::json::parse(read_bytes(path));
  if (!j.is_object()) throw std::runtime_error(path + ": expected a JSON object {instance id: class id}");
  std::map<std::string, std::int64_t> out;
  for (auto it = j.begin(); it != j.end(); ++it) out[it.key()] = it.value().get<std::int64_t>();
  return out;
}

}  // namespace

std::pair<std::map<std::int64_t, torch::Tensor>, std::map<std::int64_t, std::string>> load_ocr_words(const std::string& path) {
  const PickleValue root = load_pickle_file(path);
  if (!root.is(PickleValue::Type::dict)) throw std::runtime_error(path + ": expected a dict of OCR words, got " + root.type_name());
  std::map<std::int64_t, torch::Tensor> features;
  std::map<std::int64_t, std::string> words;
  for (const auto& [key, value] : root.dict()) {
    if (!key.is(PickleValue::Type::integer)) throw std::runtime_error(path + ": OCR word keys must be ints, got " + key.type_name());
    const PickleValue* f = value.find("features");
    if (f == nullptr || !f->is(PickleValue::Type::tensor)) throw std::runtime_error(path + ": OCR word without a 'features' tensor");
    features[key.to_int()] = f->tensor();
    if (const PickleValue* t = value.find("text"); t != nullptr && t->is(PickleValue::Type::string)) words[key.to_int()] = t->to_string();
  }
  return {std::move(features), std::move(words)};
}

ExpertSample get_expert_labels(const std::string& data_path, const std::string& label_path, const std::string& image_path,
                               const std::string& dataset, const std::vector<std::string>& experts) {
  Image image = read_image(join(join(data_path, dataset), image_path), 3);
  const std::size_t dot = image_path.rfind('.');
  const std::string ps = dot == std::string::npos ? image_path : image_path.substr(dot + 1);
  auto label_file = [&](const std::string& exp, const std::string& ext) {
    return join(join(join(label_path, exp), dataset), replace_all(image_path, "." + ps, ext));
  };
  return load_expert_labels(std::move(image), label_file, experts);
}

ExpertSample load_expert_labels(Image image, const LabelFileFn& label_file, const std::vector<std::string>& experts) {
  ExpertSample s;
  s.image = std::move(image);
  const int w = s.image.width, h = s.image.height;
  for (const std::string& exp : experts) {
    const std::string png = label_file(exp, ".png");
    if (exp == "seg_coco" || exp == "seg_ade" || exp == "edge" || exp == "depth" || exp == "normal" ||
        exp == "obj_detection") {
      if (!fs::exists(png)) throw std::runtime_error(png + ": label file not found");
      const std::string bytes = read_bytes(png);
      if (exp == "normal") {
        s.labels.emplace_back(exp, bytes.empty() ? Image(w, h, 3, 0) : decode_image(bytes, png, 3));
      } else if (exp == "obj_detection") {
        s.labels.emplace_back(exp, bytes.empty() ? Image(w, h, 1, 255) : open_as_l(png, bytes));
        s.info.obj_detection = load_class_json(label_file(exp, ".json"));
      } else {
        s.labels.emplace_back(exp, bytes.empty() ? Image(w, h, 1, 0) : open_as_l(png, bytes));
      }
    } else if (exp == "ocr_detection") {
      const std::string pt = label_file(exp, ".pt");
      if (fs::exists(pt)) {
        s.labels.emplace_back(exp, open_as_l(png, read_bytes(png)));
        auto [features, words] = load_ocr_words(pt);
        s.info.ocr_detection = std::move(features);
        s.info.ocr_words = std::move(words);
      } else {
        s.labels.emplace_back(exp, Image(w, h, 1, 255));
        s.info.ocr_detection.reset();
      }
    } else {
      throw std::runtime_error("get_expert_labels: unknown expert '" + exp +
                               "' (known: depth, normal, edge, seg_coco, seg_ade, obj_detection, ocr_detection)");
    }
  }
  return s;
}

}  // namespace prismer::data
