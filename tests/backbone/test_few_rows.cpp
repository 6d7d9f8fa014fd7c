// The decoding-step kernels (few_rows.h) against the plain torch formulas, at shapes that exercise every tail: row
// counts that are not multiples of 4, K not a multiple of 16, N not a multiple of 4 or 64, head sizes not a
// multiple of 16, masks. Tolerance: float32 rounding of sums of K products (1e-5 relative to the largest output).
#include "few_rows.h"

#include "relative_error.h"

#include <doctest/doctest.h>
#include <torch/torch.h>

#include <iostream>

using namespace prismer::backbone;
using prismer::testing::relative_error;
namespace F = torch::nn::functional;

TEST_CASE("few_rows_linear equals F::linear for every row count, tail and bias") {
  torch::InferenceMode guard;
  torch::manual_seed(5);
  double worst = 0.0;
  for (const std::int64_t rows : {1, 2, 3, 4, 5, 7, 8, 24, 31, 32, 33}) {
    for (const auto& [n, k] : std::vector<std::pair<std::int64_t, std::int64_t>>{{768, 768}, {67, 50}, {130, 16}, {5, 3}}) {
      const auto x = torch::randn({rows, k});
      const auto w = torch::randn({n, k});
      const auto b = torch::randn({n});
      const double with_bias = relative_error(few_rows_linear(x, w, b), F::linear(x, w, b));
      const double without = relative_error(few_rows_linear(x, w, torch::Tensor()), F::linear(x, w));
      CHECK_MESSAGE(with_bias < 1e-5, rows << " rows, " << n << "x" << k << ": " << with_bias);
      CHECK_MESSAGE(without < 1e-5, rows << " rows, " << n << "x" << k << " without bias: " << without);
      worst = std::max({worst, with_bias, without});
    }
  }
  // leading dimensions are kept: [beams, 1 token, K]
  const auto x3 = torch::randn({3, 1, 40});
  const auto w = torch::randn({9, 40});
  CHECK(few_rows_linear(x3, w, torch::Tensor()).sizes() == torch::IntArrayRef({3, 1, 9}));
  std::cout << "  few_rows_linear: largest relative error " << worst << " (tolerance 1e-5)\n";
}

TEST_CASE("few_rows_linear leaves training to autograd") {
  const auto x = torch::randn({2, 8}, torch::requires_grad());
  const auto w = torch::randn({4, 8}, torch::requires_grad());
  few_rows_linear(x, w, torch::Tensor()).sum().backward();
  REQUIRE(x.grad().defined());
  CHECK(torch::allclose(x.grad(), w.sum(0).expand({2, 8})));
}

TEST_CASE("few_rows_attention equals softmax(q k^T / divisor + mask) v") {
  torch::InferenceMode guard;
  torch::manual_seed(6);
  double worst = 0.0;
  for (const std::int64_t r : {1, 3, 4, 6, 9}) {
    for (const auto& [l, d] : std::vector<std::pair<std::int64_t, std::int64_t>>{{964, 64}, {7, 40}, {20, 80}}) {
      const auto q = torch::randn({2, 3, r, d});
      const auto k = torch::randn({2, 3, l, d});
      const auto v = torch::randn({2, 3, l, d});
      const double divisor = std::sqrt(static_cast<double>(d));
      const auto mask = torch::where(torch::rand({2, 1, r, l}) < 0.3, std::numeric_limits<float>::lowest(), 0.0f);
      for (const bool masked : {false, true}) {
        auto scores = torch::matmul(q, k.transpose(-1, -2)) / divisor;
        if (masked) scores = torch::clamp_min(scores + mask, std::numeric_limits<float>::lowest());
        const auto want = torch::matmul(torch::softmax(scores, -1), v);
        const double err = relative_error(few_rows_attention(q, k, v, divisor, masked ? mask : torch::Tensor()), want);
        CHECK_MESSAGE(err < 1e-5, r << " queries, " << l << " keys of " << d << (masked ? ", masked" : "") << ": " << err);
        worst = std::max(worst, err);
      }
    }
  }
  const bool kernel = few_rows_attention_applies(torch::zeros({1, 1, 3, 64}), torch::zeros({1, 1, 9, 64}),
                                                 torch::zeros({1, 1, 9, 64}));
  std::cout << "  few_rows_attention (" << (kernel ? "AVX-512 kernel" : "no AVX-512 here: the matmul formula")
            << "): largest relative error " << worst << " (tolerance 1e-5)\n";
}
