/// \file cider.h
/// CIDEr-D exactly as pycocoevalcap's CiderScorer computes it (n = 4, sigma = 6).
#pragma once

#include <string>
#include <vector>

namespace prismer::metrics {

/// Per-image CIDEr-D scores and their numpy mean (the corpus score).
struct CiderResult {
  double corpus = 0;                 ///< numpy.mean of per_sentence
  std::vector<double> per_sentence;  ///< one score per image, input order
};

/// Scores tokenised hypotheses (one per image) against references (>= 1 per image).
/// Document frequency counts the images whose reference set contains an n-gram, computed over the
/// images given here; ref_len = log(#images); tf-idf vectors per n; clipped similarity with the
/// Gaussian length penalty exp(-delta^2 / (2 sigma^2)) where, as in the toolkit, the "length" of a
/// sentence is its number of bigrams; averaged over n, divided by #refs, times 10.
/// Throws std::invalid_argument if the sizes differ or an image has no reference.
CiderResult compute_cider_d(const std::vector<std::string>& hypotheses,
                            const std::vector<std::vector<std::string>>& references, int n = 4,
                            double sigma = 6.0);

}  // namespace prismer::metrics
