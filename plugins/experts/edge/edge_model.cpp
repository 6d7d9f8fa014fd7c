// Pre- and post-processing of the edge expert, bit for bit as experts/edge/{generate_dataset,images}.py and
// experts/generate_edge.py do them, and strict weight loading.
#include "edge_model.h"

#include <prismer/data/image_tensor.h>
#include <prismer/data/resize.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>

namespace prismer::edge {

torch::Tensor preprocess(const Image& rgb, int size) {
  if (rgb.channels != 3 || rgb.empty()) throw std::invalid_argument("edge: expected an RGB image");
  const Image resized = data::resize(rgb, size, size, data::Resample::bilinear);
  const torch::Tensor x = data::to_tensor(resized);  // byte / 255 in float32
  // Normalize(mean, std=1): x - mean, then / 1.0 (exact, so left out).
  const torch::Tensor mean = torch::tensor({0.485f, 0.456f, 0.406f}, torch::kFloat32).view({3, 1, 1});
  return torch::flip(x - mean, {0}) * 255.0;
}

Image fuse_edge(const torch::Tensor& logits) {
  TORCH_CHECK(logits.dim() == 2, "fuse_edge expects one [H, W] map, got ", logits.sizes());
  const torch::Tensor p = torch::sigmoid(logits.to(torch::kCPU, torch::kFloat32)).contiguous();
  const float* v = p.data_ptr<float>();
  const auto n = static_cast<std::size_t>(p.numel());
  const auto [lo_it, hi_it] = std::minmax_element(v, v + n);
  const float lo = *lo_it, hi = *hi_it;
  // numpy 1.x: (img - min) * 255 is float32; (max - min) + 1e-12 is a float64 scalar, cast to float32 for the
  // float32 division. np.uint8 truncates; cv2.bitwise_not is 255 - x.
  const auto denom = static_cast<float>(static_cast<double>(hi - lo) + 1e-12);
  Image out(static_cast<int>(p.size(1)), static_cast<int>(p.size(0)), 1);
  for (std::size_t i = 0; i < n; ++i) {
    const float scaled = (v[i] - lo) * 255.0f / denom;
    const auto u = static_cast<std::uint8_t>(scaled > 0.0f ? std::min(scaled, 255.0f) : 0.0f);  // NaN -> 0
    out.pixels[i] = static_cast<std::uint8_t>(255 - u);
  }
  return out;
}

Image label_from_fuse(const Image& fuse, int width, int height) {
  return data::resize(fuse, width, height, data::Resample::bilinear);
}

void load_state_dict_strict(torch::nn::Module& model, const TensorMap& weights, const std::string& source) {
  std::map<std::string, torch::Tensor> wanted;
  for (const auto& item : model.named_parameters(true)) wanted[item.key()] = item.value();
  for (const auto& item : model.named_buffers(true)) wanted[item.key()] = item.value();
  std::map<std::string, const torch::Tensor*> given;
  std::vector<std::string> unexpected, mismatched, missing;
  for (const auto& [key, value] : weights) {
    auto it = wanted.find(key);
    if (it == wanted.end()) {
      unexpected.push_back(key);
    } else if (it->second.sizes() != value.sizes()) {
      std::ostringstream ss;
      ss << key << ": file " << value.sizes() << " vs model " << it->second.sizes();
      mismatched.push_back(ss.str());
    } else {
      given[key] = &value;
    }
  }
  for (const auto& [key, value] : wanted)
    if (given.count(key) == 0 && std::none_of(mismatched.begin(), mismatched.end(), [&](const std::string& m) {
          return m.compare(0, key.size() + 1, key + ":") == 0;
        }))
      missing.push_back(key);
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::ostringstream ss;
    ss << source << ": not a DexiNed state_dict (" << missing.size() << " missing, " << unexpected.size()
       << " unexpected, " << mismatched.size() << " mis-shaped keys)";
    auto list = [&](const char* what, const std::vector<std::string>& keys) {
      if (keys.empty()) return;
      ss << "\n  " << what << ":";
      for (std::size_t i = 0; i < keys.size(); ++i) {
        if (i == 20) {
          ss << "\n    ... and " << keys.size() - 20 << " more";
          break;
        }
        ss << "\n    " << keys[i];
      }
    };
    list("missing", missing);
    list("unexpected", unexpected);
    list("mis-shaped", mismatched);
    throw std::runtime_error(ss.str());
  }
  torch::NoGradGuard no_grad;
  for (auto& [key, target] : wanted) target.copy_(*given.at(key));
}

void load_dexined(DexiNed& model, const std::string& path) {
  // model_bank.py: model.load_state_dict(torch.load(path, map_location='cpu')): the file is the state_dict itself
  // (load_weights would also unwrap a {'model': ...} or {'state_dict': ...} container; the keys stay strict).
  const TensorMap weights = load_weights(path);
  load_state_dict_strict(*model, weights, path);
}

void init_random(DexiNed& model, std::uint64_t seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard no_grad;
  for (auto& item : model->named_modules()) {
    torch::nn::Module& m = *item.value();
    if (auto* c = m.as<torch::nn::Conv2d>()) {
      if (c->weight.size(1) == 1) torch::nn::init::normal_(c->weight, 0.0, 1.0);
      else torch::nn::init::xavier_normal_(c->weight);
      torch::nn::init::zeros_(c->bias);
    } else if (auto* t = m.as<torch::nn::ConvTranspose2d>()) {
      if (t->weight.size(1) == 1) torch::nn::init::normal_(t->weight, 0.0, 0.1);
      else torch::nn::init::xavier_normal_(t->weight);
      torch::nn::init::zeros_(t->bias);
    }
  }
}

std::vector<Image> predict_labels(DexiNed& model, const std::vector<Image>& images, const torch::Device& device) {
  if (images.empty()) return {};
  std::vector<torch::Tensor> inputs;
  inputs.reserve(images.size());
  for (const Image& image : images) inputs.push_back(preprocess(image));
  const torch::Tensor fused = model->forward(torch::stack(inputs).to(device)).back().to(torch::kCPU);
  std::vector<Image> labels;
  labels.reserve(images.size());
  for (std::size_t i = 0; i < images.size(); ++i)
    labels.push_back(label_from_fuse(fuse_edge(fused[static_cast<std::int64_t>(i)][0]), images[i].width,
                                     images[i].height));
  return labels;
}

}  // namespace prismer::edge
