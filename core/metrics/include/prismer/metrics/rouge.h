/// \file rouge.h
/// ROUGE-L as pycocoevalcap's Rouge scorer computes it (LCS-based F-measure, beta = 1.2).
#pragma once

#include <string>
#include <vector>

namespace prismer::metrics {

/// ROUGE-L of one tokenised candidate against its references: P = max over references of LCS/|cand|,
/// R = max of LCS/|ref|, F = (1+b^2)PR/(R+b^2 P), 0 when P or R is 0. Tokens are split on single
/// spaces like Python's str.split(" ") (so an empty candidate counts one empty token).
double rouge_l(const std::string& candidate, const std::vector<std::string>& references, double beta = 1.2);

/// Per-image ROUGE-L and their numpy mean (the corpus score).
struct RougeResult {
  double corpus = 0;               ///< numpy.mean of per_sentence
  std::vector<double> per_sentence;  ///< one score per image, input order
};

/// Scores every image. Throws std::invalid_argument if the sizes differ or an image has no reference.
RougeResult compute_rouge_l(const std::vector<std::string>& candidates,
                            const std::vector<std::vector<std::string>>& references);

}  // namespace prismer::metrics
