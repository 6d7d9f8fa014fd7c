// The backbone's linear() dispatch (linear.h): every path it picks gives F::linear's values (float32 rounding of
// sums of K products: 1e-5 relative to the largest output), and training keeps autograd's path.
#include "linear.h"

#include "relative_error.h"

#include <doctest/doctest.h>
#include <torch/torch.h>

#include <iostream>

using namespace prismer::backbone;
using prismer::testing::relative_error;
namespace F = torch::nn::functional;

TEST_CASE("linear equals F::linear on every path: few rows, oneDNN, OpenBLAS") {
  torch::InferenceMode guard;
  torch::manual_seed(7);
  double worst = 0.0;
  // 3: few-rows kernel; 100: OpenBLAS; 256, 300 and [2, 150, K]: oneDNN where LibTorch has it
  for (const auto& shape : std::vector<std::vector<std::int64_t>>{{3}, {100}, {256}, {300}, {2, 150}}) {
    for (const auto& [n, k] : std::vector<std::pair<std::int64_t, std::int64_t>>{{768, 768}, {67, 50}, {5, 3}}) {
      std::vector<std::int64_t> xs = shape;
      xs.push_back(k);
      const auto x = torch::randn(xs);
      const auto w = torch::randn({n, k});
      const auto b = torch::randn({n});
      const auto got = linear(x, w, b);
      REQUIRE(got.sizes() == F::linear(x, w, b).sizes());
      const double with_bias = relative_error(got, F::linear(x, w, b));
      const double without = relative_error(linear(x, w, torch::Tensor()), F::linear(x, w));
      CHECK_MESSAGE(with_bias < 1e-5, x.sizes() << " x " << n << "x" << k << ": " << with_bias);
      CHECK_MESSAGE(without < 1e-5, x.sizes() << " x " << n << "x" << k << " without bias: " << without);
      worst = std::max({worst, with_bias, without});
    }
  }
  // a non-contiguous input (the transposed token-major layout of the encoder)
  const auto xt = torch::randn({40, 300, 64}).transpose(0, 1);
  const auto w = torch::randn({32, 64});
  worst = std::max(worst, relative_error(linear(xt, w, torch::Tensor()), F::linear(xt, w)));
  CHECK(worst < 1e-5);
  std::cout << "  linear: largest relative error " << worst << " (tolerance 1e-5); oneDNN "
            << (onednn_linear_applies(torch::randn({300, 8}), torch::randn({4, 8}), torch::Tensor()) ? "used" : "not available")
            << "\n";
}

TEST_CASE("linear picks oneDNN only at inference for many float32 rows") {
  if (!at::hasMKLDNN()) {
    std::cout << "  this LibTorch has no oneDNN: linear() always takes OpenBLAS's path\n";
    CHECK_FALSE(onednn_linear_applies(torch::randn({300, 8}), torch::randn({4, 8}), torch::Tensor()));
    return;
  }
  const auto w = torch::randn({4, 8});
  {
    torch::NoGradGuard no_grad;
    CHECK(onednn_linear_applies(torch::randn({256, 8}), w, torch::Tensor()));
    CHECK_FALSE(onednn_linear_applies(torch::randn({255, 8}), w, torch::Tensor()));
    CHECK_FALSE(onednn_linear_applies(torch::randn({300, 8}, torch::kDouble), w.to(torch::kDouble), torch::Tensor()));
    set_onednn_linear_enabled(false);
    CHECK_FALSE(onednn_linear_applies(torch::randn({300, 8}), w, torch::Tensor()));
    set_onednn_linear_enabled(true);
    CHECK(onednn_linear_enabled());
  }
  // training: autograd's path, and gradients flow
  const auto x = torch::randn({300, 8}, torch::requires_grad());
  const auto wg = torch::randn({4, 8}, torch::requires_grad());
  CHECK_FALSE(onednn_linear_applies(x, wg, torch::Tensor()));
  linear(x, wg, torch::Tensor()).sum().backward();
  REQUIRE(x.grad().defined());
  CHECK(torch::allclose(x.grad(), wg.sum(0).expand({300, 8})));
}
