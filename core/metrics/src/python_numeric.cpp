// numpy.mean (pairwise summation), Python sum() and Python 3 round().
#include "prismer/metrics/python_numeric.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace prismer::metrics {

namespace {

// numpy's pairwise_sum for contiguous float64 data (numpy/core/src/umath/loops_utils.h.src).
double pairwise_sum(const double* a, std::size_t n) {
  constexpr std::size_t kBlock = 128;
  if (n < 8) {
    double res = 0.;
    for (std::size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= kBlock) {
    double r[8];
    for (int k = 0; k < 8; ++k) r[k] = a[k];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int k = 0; k < 8; ++k) r[k] += a[i + k];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

}  // namespace

double numpy_mean(const std::vector<double>& values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  return pairwise_sum(values.data(), values.size()) / static_cast<double>(values.size());
}

double python_sum(const std::vector<double>& values) {
  double s = 0.0;
  for (double v : values) s += v;
  return s;
}

double python_round(double x, int ndigits) {
  if (!std::isfinite(x)) return x;
  // glibc printf converts the exact binary value and rounds ties to even, like Python's dtoa mode 3.
  char buf[512];
  std::snprintf(buf, sizeof buf, "%.*f", ndigits, x);
  return std::strtod(buf, nullptr);
}

}  // namespace prismer::metrics
