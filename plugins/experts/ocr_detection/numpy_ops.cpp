#include "numpy_ops.h"

#include <cmath>
#include <utility>

namespace prismer::experts::ocr {

namespace {

// numpy's float ordering: NaN after everything.
bool less(float a, float b) { return a < b || (b != b && a == a); }

void heapsort(const float* v, std::int64_t* tosort, std::int64_t n) {
  std::int64_t* a = tosort - 1;  // 1-based heap indexing
  std::int64_t i, j, l, tmp;
  for (l = n >> 1; l > 0; --l) {
    tmp = a[l];
    for (i = l, j = l << 1; j <= n;) {
      if (j < n && less(v[a[j]], v[a[j + 1]])) j += 1;
      if (less(v[tmp], v[a[j]])) {
        a[i] = a[j];
        i = j;
        j += j;
      } else {
        break;
      }
    }
    a[i] = tmp;
  }
  for (; n > 1;) {
    tmp = a[n];
    a[n] = a[1];
    n -= 1;
    for (i = 1, j = 2; j <= n;) {
      if (j < n && less(v[a[j]], v[a[j + 1]])) j++;
      if (less(v[tmp], v[a[j]])) {
        a[i] = a[j];
        i = j;
        j += j;
      } else {
        break;
      }
    }
    a[i] = tmp;
  }
}

int msb(std::int64_t n) {
  int depth = 0;
  while (n >>= 1) depth++;
  return depth;
}

}  // namespace

std::vector<std::int64_t> numpy_argsort(const std::vector<float>& values) {
  const auto num = static_cast<std::int64_t>(values.size());
  std::vector<std::int64_t> order(values.size());
  for (std::int64_t i = 0; i < num; ++i) order[static_cast<std::size_t>(i)] = i;
  if (num < 2) return order;
  const float* v = values.data();
  constexpr int kSmall = 15;
  std::int64_t* pl = order.data();
  std::int64_t* pr = order.data() + num - 1;
  std::vector<std::int64_t*> stack;
  std::vector<int> depths;
  int cdepth = msb(num) * 2;
  for (;;) {
    if (cdepth < 0) {
      heapsort(v, pl, pr - pl + 1);
    } else {
      while ((pr - pl) > kSmall) {
        std::int64_t* pm = pl + ((pr - pl) >> 1);
        if (less(v[*pm], v[*pl])) std::swap(*pm, *pl);
        if (less(v[*pr], v[*pm])) std::swap(*pr, *pm);
        if (less(v[*pm], v[*pl])) std::swap(*pm, *pl);
        const float vp = v[*pm];
        std::int64_t* pi = pl;
        std::int64_t* pj = pr - 1;
        std::swap(*pm, *pj);
        for (;;) {
          do ++pi;
          while (less(v[*pi], vp));
          do --pj;
          while (less(vp, v[*pj]));
          if (pi >= pj) break;
          std::swap(*pi, *pj);
        }
        std::int64_t* pk = pr - 1;
        std::swap(*pi, *pk);
        // Push the larger partition, continue with the smaller one.
        if (pi - pl < pr - pi) {
          stack.push_back(pi + 1);
          stack.push_back(pr);
          pr = pi - 1;
        } else {
          stack.push_back(pl);
          stack.push_back(pi - 1);
          pl = pi + 1;
        }
        depths.push_back(--cdepth);
      }
      // Insertion sort of the small remainder.
      for (std::int64_t* pi = pl + 1; pi <= pr; ++pi) {
        const std::int64_t vi = *pi;
        const float vp = v[vi];
        std::int64_t* pj = pi;
        std::int64_t* pk = pi - 1;
        while (pj > pl && less(vp, v[*pk])) *pj-- = *pk--;
        *pj = vi;
      }
    }
    if (stack.empty()) break;
    pr = stack.back();
    stack.pop_back();
    pl = stack.back();
    stack.pop_back();
    cdepth = depths.back();
    depths.pop_back();
  }
  return order;
}

float numpy_sum(const float* a, std::int64_t n) {
  if (n < 8) {
    float res = 0.f;
    for (std::int64_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    float r[8];
    for (int k = 0; k < 8; ++k) r[k] = a[k];
    std::int64_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int k = 0; k < 8; ++k) r[k] += a[i + k];
    float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::int64_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_sum(a, n2) + numpy_sum(a + n2, n - n2);
}

float numpy_mean(const std::vector<float>& v) {
  const float s = 0.f + numpy_sum(v.data(), static_cast<std::int64_t>(v.size()));
  return static_cast<float>(static_cast<double>(s) / static_cast<double>(v.size()));
}

}  // namespace prismer::experts::ocr
