#include "few_rows.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>

namespace F = torch::nn::functional;

// GCC 12's AVX-512 intrinsics build on _mm*_undefined_*() and trip -Wmaybe-uninitialized (GCC bug 105593, fixed in 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace prismer::backbone {

namespace {

// Up to these many rows the kernels beat OpenBLAS (measured on 2 cores, 50 cold 3072x768 weights: 3 rows 24 vs
// 50 ms, 24 rows 61 vs 84 ms, 32 rows 71 vs 66 ms).
constexpr std::int64_t kMaxLinearRows = 24;
constexpr std::int64_t kMaxAttentionRows = 32;

__attribute__((target("avx512f"), always_inline)) inline float sum_avx512(__m512 v) {
  const __m512 halves = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2)));  // lanes 0-7: high + low
  const __m256 h = _mm512_castps512_ps256(halves);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

// out[m, n] = dot(x[m, :], w[n, :]) + bias[n] for n in [n0, n1) and M rows of x (M <= 4), four weight rows at a
// time so that each loaded weight vector serves every row of x; the tail of K through masked loads.
template <int M>
__attribute__((target("avx512f"))) void rows_avx512(const float* x, const float* w, const float* bias, float* out,
                                                    std::int64_t k_len, std::int64_t n_len, std::int64_t n0,
                                                    std::int64_t n1) {
  const std::int64_t k_main = k_len / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (k_len - k_main)) - 1u);
  std::int64_t n = n0;
  for (; n + 4 <= n1; n += 4) {
    __m512 acc[4][M];
    for (int j = 0; j < 4; ++j)
      for (int m = 0; m < M; ++m) acc[j][m] = _mm512_setzero_ps();
    const float* w0 = w + n * k_len;
    for (std::int64_t k = 0; k < k_main; k += 16) {
      const float* ahead = w0 + 8 * k_len + k;  // four rows two blocks ahead (a prefetch past the end never faults)
      _mm_prefetch(reinterpret_cast<const char*>(ahead), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(ahead + k_len), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(ahead + 2 * k_len), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(ahead + 3 * k_len), _MM_HINT_T0);
      const __m512 a = _mm512_loadu_ps(w0 + k), b = _mm512_loadu_ps(w0 + k_len + k),
                   c = _mm512_loadu_ps(w0 + 2 * k_len + k), d = _mm512_loadu_ps(w0 + 3 * k_len + k);
      for (int m = 0; m < M; ++m) {
        const __m512 xv = _mm512_loadu_ps(x + m * k_len + k);
        acc[0][m] = _mm512_fmadd_ps(a, xv, acc[0][m]);
        acc[1][m] = _mm512_fmadd_ps(b, xv, acc[1][m]);
        acc[2][m] = _mm512_fmadd_ps(c, xv, acc[2][m]);
        acc[3][m] = _mm512_fmadd_ps(d, xv, acc[3][m]);
      }
    }
    if (tail != 0) {
      for (int m = 0; m < M; ++m) {
        const __m512 xv = _mm512_maskz_loadu_ps(tail, x + m * k_len + k_main);
        for (int j = 0; j < 4; ++j)
          acc[j][m] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, w0 + j * k_len + k_main), xv, acc[j][m]);
      }
    }
    for (int j = 0; j < 4; ++j)
      for (int m = 0; m < M; ++m)
        out[m * n_len + n + j] = sum_avx512(acc[j][m]) + (bias != nullptr ? bias[n + j] : 0.0f);
  }
  for (; n < n1; ++n)
    for (int m = 0; m < M; ++m) {
      float s = 0.0f;
      for (std::int64_t k = 0; k < k_len; ++k) s += x[m * k_len + k] * w[n * k_len + k];
      out[m * n_len + n] = s + (bias != nullptr ? bias[n] : 0.0f);
    }
}

__attribute__((target("avx2,fma"), always_inline)) inline float sum_avx2(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

// The AVX2 variant: two weight rows at a time (16 vector registers), the tail of K in scalar code.
template <int M>
__attribute__((target("avx2,fma"))) void rows_avx2(const float* x, const float* w, const float* bias, float* out,
                                                   std::int64_t k_len, std::int64_t n_len, std::int64_t n0,
                                                   std::int64_t n1) {
  const std::int64_t k_main = k_len / 8 * 8;
  std::int64_t n = n0;
  for (; n + 2 <= n1; n += 2) {
    __m256 acc[2][M];
    for (int j = 0; j < 2; ++j)
      for (int m = 0; m < M; ++m) acc[j][m] = _mm256_setzero_ps();
    const float* w0 = w + n * k_len;
    for (std::int64_t k = 0; k < k_main; k += 8) {
      const __m256 a = _mm256_loadu_ps(w0 + k), b = _mm256_loadu_ps(w0 + k_len + k);
      for (int m = 0; m < M; ++m) {
        const __m256 xv = _mm256_loadu_ps(x + m * k_len + k);
        acc[0][m] = _mm256_fmadd_ps(a, xv, acc[0][m]);
        acc[1][m] = _mm256_fmadd_ps(b, xv, acc[1][m]);
      }
    }
    for (int j = 0; j < 2; ++j)
      for (int m = 0; m < M; ++m) {
        float s = sum_avx2(acc[j][m]);
        for (std::int64_t k = k_main; k < k_len; ++k) s += x[m * k_len + k] * w0[j * k_len + k];
        out[m * n_len + n + j] = s + (bias != nullptr ? bias[n + j] : 0.0f);
      }
  }
  for (; n < n1; ++n)
    for (int m = 0; m < M; ++m) {
      float s = 0.0f;
      for (std::int64_t k = 0; k < k_len; ++k) s += x[m * k_len + k] * w[n * k_len + k];
      out[m * n_len + n] = s + (bias != nullptr ? bias[n] : 0.0f);
    }
}

using RowsKernel = void (*)(const float*, const float*, const float*, float*, std::int64_t, std::int64_t, std::int64_t,
                            std::int64_t);

template <template <int> class Pick>
RowsKernel kernel_for(int rows) {
  switch (rows) {
    case 1: return Pick<1>::fn;
    case 2: return Pick<2>::fn;
    case 3: return Pick<3>::fn;
    default: return Pick<4>::fn;
  }
}
template <int M>
struct PickAvx512 {
  static constexpr RowsKernel fn = rows_avx512<M>;
};
template <int M>
struct PickAvx2 {
  static constexpr RowsKernel fn = rows_avx2<M>;
};

enum class Isa { none, avx2, avx512 };

Isa detect_isa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return Isa::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
  return Isa::none;
}

// out[i, :] = sum_l p[i, l] * v[l, :] for M rows (M <= 4), 64 columns of v at a time.
template <int M>
__attribute__((target("avx512f"))) void weighted_rows_avx512(const float* p, const float* v, float* out, std::int64_t l_len,
                                                             std::int64_t d_len) {
  for (std::int64_t d0 = 0; d0 < d_len; d0 += 64) {
    __mmask16 lane_mask[4];
    for (int c = 0; c < 4; ++c) {
      const std::int64_t left = std::max<std::int64_t>(0, std::min<std::int64_t>(16, d_len - d0 - 16 * c));
      lane_mask[c] = static_cast<__mmask16>((1u << left) - 1u);
    }
    __m512 acc[M][4];
    for (int m = 0; m < M; ++m)
      for (int c = 0; c < 4; ++c) acc[m][c] = _mm512_setzero_ps();
    for (std::int64_t l = 0; l < l_len; ++l) {
      __m512 row[4];
      for (int c = 0; c < 4; ++c) row[c] = _mm512_maskz_loadu_ps(lane_mask[c], v + l * d_len + d0 + 16 * c);
      for (int m = 0; m < M; ++m) {
        const __m512 w = _mm512_set1_ps(p[m * l_len + l]);
        for (int c = 0; c < 4; ++c) acc[m][c] = _mm512_fmadd_ps(w, row[c], acc[m][c]);
      }
    }
    for (int m = 0; m < M; ++m)
      for (int c = 0; c < 4; ++c) _mm512_mask_storeu_ps(out + m * d_len + d0 + 16 * c, lane_mask[c], acc[m][c]);
  }
}

using WeightedKernel = void (*)(const float*, const float*, float*, std::int64_t, std::int64_t);

WeightedKernel weighted_kernel_for(int rows) {
  switch (rows) {
    case 1: return weighted_rows_avx512<1>;
    case 2: return weighted_rows_avx512<2>;
    case 3: return weighted_rows_avx512<3>;
    default: return weighted_rows_avx512<4>;
  }
}

bool inference_float_cpu(std::initializer_list<const torch::Tensor*> tensors) {
  for (const torch::Tensor* t : tensors) {
    if (!t->defined()) continue;
    if (!t->device().is_cpu() || t->scalar_type() != torch::kFloat) return false;
    if (torch::GradMode::is_enabled() && t->requires_grad()) return false;
  }
  return !at::autocast::is_cpu_enabled();
}

}  // namespace

bool few_rows_attention_applies(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  static const bool avx512 = detect_isa() == Isa::avx512;
  return avx512 && q.dim() == 4 && k.dim() == 4 && v.dim() == 4 && q.size(2) <= kMaxAttentionRows && q.size(2) >= 1 &&
         k.size(0) == q.size(0) && k.size(1) == q.size(1) && v.sizes() == k.sizes() && k.size(3) == q.size(3) &&
         inference_float_cpu({&q, &k, &v});
}

torch::Tensor few_rows_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double divisor,
                                 const torch::Tensor& mask) {
  if (!few_rows_attention_applies(q, k, v)) {  // the plain formula, for other CPUs, dtypes and devices
    auto scores = torch::matmul(q, k.transpose(-1, -2)) / divisor;
    if (mask.defined()) scores = torch::clamp_min(scores + mask, std::numeric_limits<float>::lowest());
    return torch::matmul(torch::softmax(scores, -1), v);
  }
  const std::int64_t g = q.size(0), h = q.size(1), r = q.size(2), d = q.size(3), l = k.size(2);
  const torch::Tensor qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous();
  torch::Tensor scores = torch::empty({g, h, r, l}, q.options());
  const float* qp = qc.data_ptr<float>();
  const float* kp = kc.data_ptr<float>();
  float* sp = scores.data_ptr<float>();
  const RowsKernel full = kernel_for<PickAvx512>(4), last = kernel_for<PickAvx512>(static_cast<int>((r - 1) % 4 + 1));
  at::parallel_for(0, g * h, 1, [&](std::int64_t i0, std::int64_t i1) {
    for (std::int64_t i = i0; i < i1; ++i)
      for (std::int64_t m0 = 0; m0 < r; m0 += 4)
        (m0 + 4 <= r ? full : last)(qp + (i * r + m0) * d, kp + i * l * d, nullptr, sp + (i * r + m0) * l, d, l, 0, l);
  });
  scores = scores / divisor;
  if (mask.defined()) scores = torch::clamp_min(scores + mask, std::numeric_limits<float>::lowest());
  const torch::Tensor probs = torch::softmax(scores, -1).contiguous();
  torch::Tensor out = torch::empty({g, h, r, d}, q.options());
  const float* pp = probs.data_ptr<float>();
  const float* vp = vc.data_ptr<float>();
  float* op = out.data_ptr<float>();
  const WeightedKernel wfull = weighted_kernel_for(4), wlast = weighted_kernel_for(static_cast<int>((r - 1) % 4 + 1));
  at::parallel_for(0, g * h, 1, [&](std::int64_t i0, std::int64_t i1) {
    for (std::int64_t i = i0; i < i1; ++i)
      for (std::int64_t m0 = 0; m0 < r; m0 += 4)
        (m0 + 4 <= r ? wfull : wlast)(pp + (i * r + m0) * l, vp + i * l * d, op + (i * r + m0) * d, l, d);
  });
  return out;
}

torch::Tensor few_rows_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  static const Isa isa = detect_isa();
  const std::int64_t k_len = weight.size(1), n_len = weight.size(0);
  const std::int64_t rows = x.dim() == 0 || k_len == 0 ? 0 : x.numel() / k_len;
  const bool grad = torch::GradMode::is_enabled() &&
                    (x.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad()));
  if (isa == Isa::none || rows < 1 || rows > kMaxLinearRows || grad || !x.device().is_cpu() || !weight.device().is_cpu() ||
      x.scalar_type() != torch::kFloat || weight.scalar_type() != torch::kFloat || !weight.is_contiguous() ||
      x.size(-1) != k_len || (bias.defined() && (bias.scalar_type() != torch::kFloat || !bias.is_contiguous())) ||
      at::autocast::is_cpu_enabled())
    return F::linear(x, weight, bias);
  const torch::Tensor xc = x.contiguous();
  std::vector<std::int64_t> shape = x.sizes().vec();
  shape.back() = n_len;
  torch::Tensor out = torch::empty({rows, n_len}, x.options());
  const float* xp = xc.data_ptr<float>();
  const float* wp = weight.data_ptr<float>();
  const float* bp = bias.defined() ? bias.data_ptr<float>() : nullptr;
  float* op = out.data_ptr<float>();
  // Blocks of 64 output features: each block's weights (64 x K floats, within L2) are read from memory once and
  // serve every group of four rows of x; enough work per block to pay for the scheduling.
  const std::int64_t block = 64, blocks = (n_len + block - 1) / block;
  const RowsKernel full_kernel = isa == Isa::avx512 ? kernel_for<PickAvx512>(4) : kernel_for<PickAvx2>(4);
  const RowsKernel last_kernel =
      isa == Isa::avx512 ? kernel_for<PickAvx512>(static_cast<int>((rows - 1) % 4 + 1)) : kernel_for<PickAvx2>(static_cast<int>((rows - 1) % 4 + 1));
  at::parallel_for(0, blocks, 1, [&](std::int64_t b0, std::int64_t b1) {
    for (std::int64_t b = b0; b < b1; ++b) {
      const std::int64_t n0 = b * block, n1 = std::min(n_len, n0 + block);
      for (std::int64_t m0 = 0; m0 < rows; m0 += 4)
        (m0 + 4 <= rows ? full_kernel : last_kernel)(xp + m0 * k_len, wp, bp, op + m0 * n_len, k_len, n_len, n0, n1);
    }
  });
  return out.view(shape);
}

}  // namespace prismer::backbone
