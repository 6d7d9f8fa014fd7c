// numpy 1.24's float32 behaviour where the OCR post-processing depends on it: the introsort behind
// `argsort()` (its order of equal keys) and the pairwise summation behind `sum()` / `mean()`.
#pragma once

#include <cstdint>
#include <vector>

namespace prismer::experts::ocr {

/// `np.argsort(v)` (kind 'quicksort' = numpy's introsort: median-of-3 quicksort, insertion sort below 16
/// elements, heapsort past the depth limit), so that ties come out in numpy's order. NaN sorts last.
std::vector<std::int64_t> numpy_argsort(const std::vector<float>& v);

/// `np.add.reduce` of a contiguous float32 vector: float32 pairwise summation (8 accumulators up to 128
/// elements, halves above).
float numpy_sum(const float* v, std::int64_t n);

/// `np.mean` of a contiguous float32 vector: numpy_sum, then the division in double, rounded to float32.
float numpy_mean(const std::vector<float>& v);

}  // namespace prismer::experts::ocr
