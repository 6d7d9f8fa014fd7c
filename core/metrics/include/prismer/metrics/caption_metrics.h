/// \file caption_metrics.h
/// COCO caption evaluation (pycocoevalcap COCOEvalCap): PTB tokenisation, BLEU-1..4, ROUGE-L, CIDEr-D,
/// corpus-level and per image. METEOR and SPICE need Java resources that are not available and are
/// reported as unavailable, never as a number.
#pragma once

#include "prismer/metrics/caption_data.h"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace prismer::metrics {

/// Scores of one image.
struct CaptionImageScores {
  nlohmann::json image_id;                              ///< id as in the annotation file
  std::vector<std::pair<std::string, double>> scores;  ///< Bleu_1..Bleu_4, ROUGE_L, CIDEr
  std::string tokenized_hypothesis;                     ///< the candidate as the scorers saw it
};

/// Result of a caption evaluation.
struct CaptionScores {
  std::vector<std::pair<std::string, double>> corpus;  ///< Bleu_1..Bleu_4, ROUGE_L, CIDEr (= COCOEvalCap.eval)
  std::vector<CaptionImageScores> per_image;            ///< ground-truth image order (= COCOEvalCap.imgToEval)
  double bleu_testlen = 0;                              ///< corpus BLEU hypothesis length
  double bleu_reflen = 0;                               ///< corpus BLEU effective reference length ('closest')
  std::vector<std::pair<std::string, std::string>> unavailable;  ///< metric -> why it was not computed
};

/// Names of the computed metrics in output order: Bleu_1, Bleu_2, Bleu_3, Bleu_4, ROUGE_L, CIDEr.
const std::vector<std::string>& caption_metric_names();

/// Scores already tokenised captions (`hypotheses[i]` against `references[i]`).
CaptionScores score_tokenized_captions(const std::vector<nlohmann::json>& image_ids,
                                       const std::vector<std::string>& hypotheses,
                                       const std::vector<std::vector<std::string>>& references);

/// Full COCOEvalCap pipeline: tokenises references and results (two PTB batches, ground-truth image
/// order) then scores them.
CaptionScores evaluate_captions(const CaptionGroundTruth& gt, const CaptionResults& results);

/// {"corpus": {...}, "unavailable_metrics": {...}, "bleu_corpus_stats": {...}, "num_images": N}
nlohmann::ordered_json caption_summary_json(const CaptionScores& scores);

/// {image_id_key: {"Bleu_1": ..., ..., "CIDEr": ..., "tokenized": "..."}} in evaluation order.
nlohmann::ordered_json caption_per_image_json(const CaptionScores& scores);

}  // namespace prismer::metrics
