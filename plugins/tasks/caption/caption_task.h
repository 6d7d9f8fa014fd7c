// The caption task (model/prismer_caption.py PrismerCaption): training loss with the prompt masked, beam-search
// captioning, COCO caption metrics and the COCO result file.
#pragma once

#include "beam_search.h"
#include "rank.h"
#include "sampling.h"

#include <prismer/task.h>

#include <string>
#include <vector>

namespace prismer::caption {

/// How predict() produces text.
enum class CaptionDecoding {
  kBeam,    ///< beam search (PrismerCaption's generate)
  kGreedy,  ///< argmax per step
  kSample,  ///< temperature / top-k / top-p sampling, seeded
  kRank,    ///< pick the best of `candidates` (PrismerCaption `inference='rank'`)
};

struct CaptionTaskOptions {
  std::string prefix = "A picture of";  ///< the prompt (Prismer's caption configs)
  std::int64_t max_caption_tokens = 30;  ///< training truncation, special tokens included
  CaptionDecoding decoding = CaptionDecoding::kBeam;
  BeamSearchOptions beam;               ///< num_beams 3, max_length 20, min_length 8 (PrismerCaption)
  SamplingOptions sampling;             ///< greedy / sample: max_length and min_length as beam's
  std::vector<std::string> candidates;  ///< kRank: the candidate captions
  std::int64_t k_test = 32;             ///< kRank: candidates kept by the first-token filter (PrismerCaption)
  CaptionTaskOptions() {
    beam.min_length = 8;
    sampling.min_length = 8;
  }
};

/// Ids [C, A] and mask of rank candidates as PrismerCaption.rank tokenises them: ' ' + lower(text) + '</s>'
/// without further special tokens, right-padded.
std::pair<torch::Tensor, torch::Tensor> tokenize_caption_candidates(const Tokenizer& tok,
                                                                    const std::vector<std::string>& candidates);

/// Token ids [B, T] and mask [B, T] of texts wrapped in bos/eos, truncated to `max_tokens` (eos kept, as HF
/// truncation), right-padded to the longest.
std::pair<torch::Tensor, torch::Tensor> tokenize_batch(const Tokenizer& tok, const std::vector<std::string>& texts,
                                                       std::int64_t max_tokens);

/// loss(): the samples' text["caption"] is the raw caption; the prompt is prepended ("<prefix> <caption>"), the
/// text tokenised with <s>/</s> (truncated to max_caption_tokens), pads and the bos + prompt positions set to -100,
/// then label-smoothed (0.1) cross-entropy summed per sample and averaged (PrismerCaption train branch).
/// predict(): beam search (or greedy / sampling) from "<s> <prefix>" and the decoded text with the prefix (and
/// its space) stripped; with kRank the best candidate (its text, score = its mean log-likelihood).
/// evaluate(): COCO caption metrics (BLEU, ROUGE-L, CIDEr) against the dataset samples' `answers` (reference
/// captions; text["caption"] when none), for the predicted samples only.
class CaptionTask : public Task {
 public:
  explicit CaptionTask(CaptionTaskOptions options) : options_(std::move(options)) {}
  torch::Tensor loss(Backbone& backbone, const Batch& batch) override;
  std::vector<Prediction> predict(Backbone& backbone, const Batch& batch) override;
  Metrics evaluate(const std::vector<Prediction>& predictions, const Dataset& dataset) override;
  void write_results(const std::vector<Prediction>& predictions, const std::string& path) const override;
  const CaptionTaskOptions& options() const { return options_; }

 private:
  CaptionTaskOptions options_;
  // the tokenised candidates, made on first use (they depend on the backbone's tokenizer)
  const Tokenizer* cand_tok_ = nullptr;
  torch::Tensor cand_ids_, cand_mask_;
};

}  // namespace prismer::caption
