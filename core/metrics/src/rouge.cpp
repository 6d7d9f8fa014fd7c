// ROUGE-L as in pycocoevalcap/rouge/rouge.py.
#include "prismer/metrics/rouge.h"

#include "prismer/metrics/python_numeric.h"

#include <algorithm>
#include <stdexcept>

namespace prismer::metrics {

namespace {

// Python's str.split(" "): every single space separates, empty pieces are kept.
std::vector<std::string> split_space(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t p = s.find(' ', start);
    if (p == std::string::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, p - start));
    start = p + 1;
  }
}

std::size_t lcs(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::size_t> prev(b.size() + 1, 0);
  std::vector<std::size_t> cur(b.size() + 1, 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = (a[i - 1] == b[j - 1]) ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

double rouge_l(const std::string& candidate, const std::vector<std::string>& references, double beta) {
  if (references.empty()) throw std::invalid_argument("rouge_l: no reference");
  const auto cand = split_space(candidate);
  double prec_max = 0;
  double rec_max = 0;
  bool first = true;
  for (const auto& ref : references) {
    const auto r = split_space(ref);
    const double l = static_cast<double>(lcs(r, cand));
    const double p = l / static_cast<double>(cand.size());
    const double rc = l / static_cast<double>(r.size());
    prec_max = first ? p : std::max(prec_max, p);
    rec_max = first ? rc : std::max(rec_max, rc);
    first = false;
  }
  if (prec_max != 0 && rec_max != 0) {
    return ((1 + beta * beta) * prec_max * rec_max) / (rec_max + beta * beta * prec_max);
  }
  return 0.0;
}

RougeResult compute_rouge_l(const std::vector<std::string>& candidates,
                            const std::vector<std::vector<std::string>>& references) {
  if (candidates.size() != references.size())
    throw std::invalid_argument("compute_rouge_l: candidates and references differ in size");
  RougeResult result;
  for (std::size_t i = 0; i < candidates.size(); ++i) result.per_sentence.push_back(rouge_l(candidates[i], references[i]));
  result.corpus = numpy_mean(result.per_sentence);
  return result;
}

}  // namespace prismer::metrics
