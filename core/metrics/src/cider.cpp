// CIDEr-D as in pycocoevalcap/cider/cider_scorer.py. Dictionary iteration order of the Python code is
// kept (n-grams in first-occurrence order) so that the floating-point sums are done in the same order.
#include "prismer/metrics/cider.h"

#include "prismer/metrics/python_numeric.h"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace prismer::metrics {

namespace {

constexpr double kE = 2.718281828459045;  // numpy.e

// An insertion-ordered n-gram -> count table (Python defaultdict(int) semantics).
struct Counts {
  std::vector<std::pair<std::string, int>> items;  // key: words joined by ' ', in first-occurrence order
  std::vector<int> order;                          // n-gram order (1..n) of each item
  std::unordered_map<std::string, std::size_t> index;
};

Counts precook(const std::string& s, int n) {
  std::istringstream in(s);
  std::vector<std::string> words;
  std::string w;
  while (in >> w) words.push_back(w);
  Counts c;
  for (int k = 1; k <= n; ++k) {
    for (std::size_t i = 0; i + k <= words.size(); ++i) {
      std::string key = words[i];
      for (int j = 1; j < k; ++j) key += ' ' + words[i + j];
      auto it = c.index.find(key);
      if (it == c.index.end()) {
        c.index.emplace(key, c.items.size());
        c.items.emplace_back(std::move(key), 1);
        c.order.push_back(k);
      } else {
        c.items[it->second].second += 1;
      }
    }
  }
  return c;
}

struct Vec {
  std::vector<std::vector<std::pair<std::string, double>>> vec;  // per order, insertion-ordered
  std::vector<std::unordered_map<std::string, double>> lookup;
  std::vector<double> norm;
  int length = 0;
};

}  // namespace

CiderResult compute_cider_d(const std::vector<std::string>& hypotheses,
                            const std::vector<std::vector<std::string>>& references, int n, double sigma) {
  if (hypotheses.size() != references.size())
    throw std::invalid_argument("compute_cider_d: hypotheses and references differ in size");
  std::vector<Counts> ctest;
  std::vector<std::vector<Counts>> crefs;
  for (std::size_t i = 0; i < hypotheses.size(); ++i) {
    if (references[i].empty()) throw std::invalid_argument("compute_cider_d: an image has no reference");
    ctest.push_back(precook(hypotheses[i], n));
    std::vector<Counts> refs;
    for (const auto& r : references[i]) refs.push_back(precook(r, n));
    crefs.push_back(std::move(refs));
  }

  // compute_doc_freq
  std::unordered_map<std::string, double> document_frequency;
  for (const auto& refs : crefs) {
    std::unordered_set<std::string> seen;
    for (const auto& ref : refs) {
      for (const auto& item : ref.items) seen.insert(item.first);
    }
    for (const auto& ng : seen) document_frequency[ng] += 1.0;
  }

  const double ref_len = std::log(static_cast<double>(crefs.size()));

  auto counts2vec = [&](const Counts& cnts) {
    Vec v;
    v.vec.resize(n);
    v.lookup.resize(n);
    v.norm.assign(n, 0.0);
    for (std::size_t k = 0; k < cnts.items.size(); ++k) {
      const auto& [ngram, tf] = cnts.items[k];
      auto it = document_frequency.find(ngram);
      const double dfv = it == document_frequency.end() ? 0.0 : it->second;
      const double df = std::log(std::max(1.0, dfv));
      const int o = cnts.order[k] - 1;
      const double val = static_cast<double>(tf) * (ref_len - df);
      v.vec[o].emplace_back(ngram, val);
      v.lookup[o][ngram] = val;
      v.norm[o] += std::pow(val, 2);
      if (o == 1) v.length += tf;  // the toolkit counts bigrams as the "length"
    }
    for (auto& x : v.norm) x = std::sqrt(x);
    return v;
  };

  CiderResult result;
  for (std::size_t i = 0; i < ctest.size(); ++i) {
    const Vec hyp = counts2vec(ctest[i]);
    std::vector<double> score(n, 0.0);
    for (const auto& ref : crefs[i]) {
      const Vec rv = counts2vec(ref);
      const double delta = static_cast<double>(hyp.length - rv.length);
      for (int o = 0; o < n; ++o) {
        double val = 0.0;
        for (const auto& [ngram, hv] : hyp.vec[o]) {
          auto it = rv.lookup[o].find(ngram);
          const double r = it == rv.lookup[o].end() ? 0.0 : it->second;
          val += std::min(hv, r) * r;
        }
        if (hyp.norm[o] != 0 && rv.norm[o] != 0) val /= (hyp.norm[o] * rv.norm[o]);
        val *= std::pow(kE, -(delta * delta) / (2 * sigma * sigma));
        score[o] += val;
      }
    }
    double score_avg = numpy_mean(score);
    score_avg /= static_cast<double>(crefs[i].size());
    score_avg *= 10.0;
    result.per_sentence.push_back(score_avg);
  }
  result.corpus = numpy_mean(result.per_sentence);
  return result;
}

}  // namespace prismer::metrics
