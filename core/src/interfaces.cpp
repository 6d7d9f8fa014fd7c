// Out-of-line destructors (the key functions that pin each SDK interface's type information in
// libprismer_core) and the interfaces' default behaviour.
#include <prismer/backbone.h>
#include <prismer/dataset.h>
#include <prismer/expert.h>
#include <prismer/task.h>
#include <prismer/tokenizer.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace prismer {

Component::~Component() = default;
Dataset::~Dataset() = default;
Expert::~Expert() = default;
Backbone::~Backbone() = default;
Task::~Task() = default;
Tokenizer::~Tokenizer() = default;
DecodeCache::~DecodeCache() = default;

Image Dataset::load_image(std::size_t index) const { return read_image(sample(index).image_path); }

std::vector<std::string> Expert::label_files(const std::string& stem) const { return {stem + ".png"}; }

void Expert::save(const Label& label, const std::string& stem) const {
  // Side files first: a label counts as present once its PNG exists, so the PNG is written last.
  for (const auto& [ext, bytes] : label.sidecars) write_file_atomic(stem + ext, bytes);
  write_png(stem + ".png", label.map);
}

Label Expert::load(const std::string& stem) const {
  Label label;
  label.map = read_image(stem + ".png", spec().map_channels);
  for (const std::string& file : label_files(stem)) {
    if (file == stem + ".png") continue;
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error(file + ": label side file is missing");
    std::stringstream ss;
    ss << in.rdbuf();
    label.sidecars[file.substr(stem.size())] = ss.str();
  }
  return label;
}

torch::Tensor dense_encode(const Label& label) {
  const Image& m = label.map;
  if (m.empty()) throw std::runtime_error("dense_encode: empty label map");
  torch::Tensor t = torch::from_blob(const_cast<std::uint8_t*>(m.pixels.data()), {m.height, m.width, m.channels}, torch::kUInt8)
                        .permute({2, 0, 1})
                        .to(torch::kFloat);
  const float lo = t.min().item<float>();
  const float hi = t.max().item<float>();
  if (hi - lo < 1e-12f) return torch::zeros_like(t);
  return (t - lo) / (hi - lo) * 2.0f - 1.0f;
}

}  // namespace prismer
