// BLEU as in pycocoevalcap/bleu/bleu_scorer.py (BleuScorer.compute_score(option='closest')).
#include "prismer/metrics/bleu.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>
#include <stdexcept>

namespace prismer::metrics {

namespace {

constexpr int kN = 4;
using NgramCounts = std::map<std::vector<std::string>, int>;

std::vector<std::string> split_ws(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> words;
  std::string w;
  while (in >> w) words.push_back(w);
  return words;
}

NgramCounts count_ngrams(const std::vector<std::string>& words) {
  NgramCounts counts;
  for (int k = 1; k <= kN; ++k) {
    for (std::size_t i = 0; i + k <= words.size(); ++i) {
      counts[std::vector<std::string>(words.begin() + static_cast<std::ptrdiff_t>(i),
                                      words.begin() + static_cast<std::ptrdiff_t>(i) + k)] += 1;
    }
  }
  return counts;
}

}  // namespace

BleuResult compute_bleu(const std::vector<std::string>& hypotheses,
                        const std::vector<std::vector<std::string>>& references) {
  if (hypotheses.size() != references.size())
    throw std::invalid_argument("compute_bleu: hypotheses and references differ in size");
  const double tiny = 1e-15;
  const double small = 1e-9;
  BleuResult result;
  std::array<double, kN> total_guess{};
  std::array<double, kN> total_correct{};
  double total_testlen = 0;
  double total_reflen = 0;

  for (std::size_t img = 0; img < hypotheses.size(); ++img) {
    if (references[img].empty()) throw std::invalid_argument("compute_bleu: an image has no reference");
    // cook_refs: reference lengths and the max count of every n-gram over the references.
    std::vector<int> reflens;
    NgramCounts maxcounts;
    for (const auto& ref : references[img]) {
      const auto words = split_ws(ref);
      reflens.push_back(static_cast<int>(words.size()));
      for (const auto& [ng, c] : count_ngrams(words)) {
        auto& m = maxcounts[ng];
        m = std::max(m, c);
      }
    }
    // cook_test
    const auto words = split_ws(hypotheses[img]);
    const int testlen = static_cast<int>(words.size());
    std::array<double, kN> guess{};
    std::array<double, kN> correct{};
    for (int k = 1; k <= kN; ++k) guess[k - 1] = std::max(0, testlen - k + 1);
    for (const auto& [ng, c] : count_ngrams(words)) {
      auto it = maxcounts.find(ng);
      const int ref_c = it == maxcounts.end() ? 0 : it->second;
      correct[ng.size() - 1] += std::min(ref_c, c);
    }
    // _single_reflen(option='closest'): min over (|l - testlen|, l)
    int reflen = reflens.front();
    for (int l : reflens) {
      const int d = std::abs(l - testlen);
      const int db = std::abs(reflen - testlen);
      if (d < db || (d == db && l < reflen)) reflen = l;
    }
    total_testlen += testlen;
    total_reflen += reflen;
    for (int k = 0; k < kN; ++k) {
      total_guess[k] += guess[k];
      total_correct[k] += correct[k];
    }
    std::array<double, kN> sent{};
    double bleu = 1.0;
    for (int k = 0; k < kN; ++k) {
      bleu *= (correct[k] + tiny) / (guess[k] + small);
      sent[k] = std::pow(bleu, 1.0 / (k + 1));
    }
    const double ratio = (testlen + tiny) / (reflen + small);
    if (ratio < 1) {
      for (int k = 0; k < kN; ++k) sent[k] *= std::exp(1 - 1 / ratio);
    }
    result.per_sentence.push_back(sent);
  }

  double bleu = 1.0;
  for (int k = 0; k < kN; ++k) {
    bleu *= (total_correct[k] + tiny) / (total_guess[k] + small);
    result.corpus[k] = std::pow(bleu, 1.0 / (k + 1));
  }
  const double ratio = (total_testlen + tiny) / (total_reflen + small);
  if (ratio < 1) {
    for (int k = 0; k < kN; ++k) result.corpus[k] *= std::exp(1 - 1 / ratio);
  }
  result.testlen = total_testlen;
  result.reflen = total_reflen;
  return result;
}

}  // namespace prismer::metrics
