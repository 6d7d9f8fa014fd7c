/// \file bleu.h
/// BLEU-1..4 exactly as pycocoevalcap's BleuScorer (n=4) computes it with option 'closest'.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace prismer::metrics {

/// Corpus and per-sentence BLEU scores.
struct BleuResult {
  std::array<double, 4> corpus{};                  ///< Bleu_1..Bleu_4 of the corpus (summed clipped counts)
  std::vector<std::array<double, 4>> per_sentence;  ///< the scorer's per-image Bleu_1..4, in input order
  double testlen = 0;                               ///< total hypothesis length (tokens)
  double reflen = 0;                                ///< total effective reference length ('closest')
};

/// Scores tokenised hypotheses (one per image) against tokenised references (>= 1 per image).
/// Words are split on whitespace; `tiny` = 1e-15 and `small` = 1e-9 smoothing as in the toolkit.
/// Throws std::invalid_argument if the sizes differ or an image has no reference.
BleuResult compute_bleu(const std::vector<std::string>& hypotheses,
                        const std::vector<std::vector<std::string>>& references);

}  // namespace prismer::metrics
