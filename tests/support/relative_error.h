// The largest absolute difference between two tensors, relative to the largest magnitude of the expected one:
// the measure of the kernel tests, whose tolerances are float32 rounding of long sums.
#pragma once

#include <torch/torch.h>

#include <algorithm>

namespace prismer::testing {

inline double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  return (got - want).abs().max().item<double>() / std::max(1e-6, want.abs().max().item<double>());
}

}  // namespace prismer::testing
