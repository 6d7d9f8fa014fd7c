// A named tensor of a fixture's tensor file (loaded with prismer::load_weights), or an error naming the file.
#pragma once

#include <prismer/weights.h>

#include <torch/torch.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace prismer::test {

/// The tensor `name` of `map`, which was read from `file`; throws std::runtime_error naming both when absent.
inline const torch::Tensor& fixture_tensor(const prismer::TensorMap& map, const std::string& name,
                                           const std::filesystem::path& file) {
  const torch::Tensor* t = prismer::find_tensor(map, name);
  if (t == nullptr) throw std::runtime_error(file.string() + ": no tensor '" + name + "'");
  return *t;
}

}  // namespace prismer::test
