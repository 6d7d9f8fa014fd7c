// Regenerating the seeded reference weights of the expert fixtures (../shared/fixtures/experts/<expert>/weights.json).
//
// The fixtures store no weights: each tensor's init rule is recorded instead, and LibTorch's CPU generator draws
// exactly what Python's torch.manual_seed + randn/rand drew, so the weights are rebuilt here bit for bit.
#pragma once

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace prismer::test {

/// One tensor of a weights.json: its official key and generated value.
using SeededTensor = std::pair<std::string, torch::Tensor>;

inline torch::ScalarType fixture_dtype(const std::string& name) {
  if (name == "float32") return torch::kFloat32;
  if (name == "float16") return torch::kFloat16;
  if (name == "float64") return torch::kFloat64;
  if (name == "int64") return torch::kInt64;
  if (name == "int32") return torch::kInt32;
  if (name == "uint8") return torch::kUInt8;
  if (name == "bool") return torch::kBool;
  throw std::runtime_error("weights.json: unknown dtype '" + name + "'");
}

/// Swin's relative position index for a (wh, ww) window, as the fixture rule text states.
inline torch::Tensor swin_relative_position_index(int64_t wh, int64_t ww) {
  auto grids = torch::meshgrid({torch::arange(wh), torch::arange(ww)}, "ij");
  auto coords = torch::stack({grids[0], grids[1]}).flatten(1);                           // [2, wh*ww]
  auto rel = (coords.unsqueeze(2) - coords.unsqueeze(1)).permute({1, 2, 0}).contiguous();  // [n, n, 2]
  rel.select(2, 0).add_(wh - 1);
  rel.select(2, 1).add_(ww - 1);
  rel.select(2, 0).mul_(2 * ww - 1);
  return rel.sum(-1);
}

/// Generates one tensor from its weights.json entry (always in float32 first, then cast, as the fixtures did).
inline torch::Tensor seeded_tensor(const nlohmann::json& entry) {
  const std::vector<int64_t> shape = entry.at("shape").get<std::vector<int64_t>>();
  const torch::ScalarType dtype = fixture_dtype(entry.at("dtype").get<std::string>());
  const nlohmann::json& init = entry.at("init");
  const std::string kind = init.at("kind").get<std::string>();
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  torch::Tensor t;
  if (kind == "normal") {
    torch::manual_seed(init.at("seed").get<uint64_t>());
    t = torch::randn(shape, f32).mul(init.at("std").get<double>()).add(init.at("mean").get<double>());
  } else if (kind == "uniform") {
    torch::manual_seed(init.at("seed").get<uint64_t>());
    const double low = init.at("low").get<double>(), high = init.at("high").get<double>();
    t = torch::rand(shape, f32).mul(high - low).add(low);
  } else if (kind == "zeros") {
    return torch::zeros(shape, torch::TensorOptions().dtype(dtype));
  } else if (kind == "ones") {
    return torch::ones(shape, torch::TensorOptions().dtype(dtype));
  } else if (kind == "value") {
    const nlohmann::json& v = init.at("value");
    std::vector<double> values = v.is_array() ? v.get<std::vector<double>>() : std::vector<double>{v.get<double>()};
    t = torch::tensor(values, torch::TensorOptions().dtype(torch::kFloat64)).to(torch::kFloat32).reshape(shape);
  } else if (kind == "swin_relative_position_index") {
    const auto window = init.at("window").get<std::vector<int64_t>>();
    return swin_relative_position_index(window.at(0), window.at(1)).to(dtype).reshape(shape);
  } else {
    throw std::runtime_error("weights.json: tensor '" + entry.at("key").get<std::string>() +
                             "' has unknown init kind '" + kind + "'");
  }
  return t.to(dtype);
}

/// Reads a weights.json and regenerates the full state dict in file order.
inline nlohmann::json read_weights_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return nlohmann::json::parse(in);
}

inline std::vector<SeededTensor> seeded_weights(const std::filesystem::path& weights_json) {
  const nlohmann::json doc = read_weights_json(weights_json);
  std::vector<SeededTensor> out;
  out.reserve(doc.at("tensors").size());
  for (const auto& entry : doc.at("tensors")) out.emplace_back(entry.at("key").get<std::string>(), seeded_tensor(entry));
  return out;
}

}  // namespace prismer::test
