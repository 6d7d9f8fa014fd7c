// Beam search with the semantics of HF transformers `GenerationMixin.generate(num_beams > 1)` as Prismer calls it
// (PrismerCaption: num_beams 3, max_length 20, min_length 8; PrismerVQA generate: length_penalty -1,
// max_length q+10, min_length q+2): MinLengthLogitsProcessor, BeamSearchScorer.process / finalize and the
// BeamHypotheses heap, with early_stopping False and one returned sequence per sample.
//
// Unlike the reference (which re-runs the whole prefix every step), the decoder is driven incrementally: the
// prompt once, then only the new token per step, with the caller's key/value cache reordered by the chosen beams
// after each step (DecodeCache::reorder). Cross-attention keys/values are the cache's business (computed once).
//
// Early-stop length rule: BeamHypotheses.is_done(best_next_score, L) divides by L**length_penalty where L is
//   - cur_len      in transformers 4.26.x (the version Prismer pins)            -> EarlyStopRule::kTransformers4_26
//   - cur_len + 1  in transformers 4.27.x (the version HEAD Prismer adapted to) -> EarlyStopRule::kTransformers4_27
// (cur_len = input_ids length incl. the prompt, before the step's token is appended). The default is 4.26
// (Prismer's pin). The rule only changes when a sample is declared done, i.e. the number of decoder calls; the
// returned hypotheses were identical in every reference case. Everything else is identical between the two.
#pragma once

#include <prismer/backbone.h>

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace prismer::caption {

enum class EarlyStopRule {
  kTransformers4_26,  ///< is_done(best, cur_len)
  kTransformers4_27,  ///< is_done(best, cur_len + 1)
};

struct BeamSearchOptions {
  std::int64_t num_beams = 3;
  std::int64_t max_length = 20;  ///< total length incl. the prompt
  std::int64_t min_length = 0;   ///< EOS is forbidden while the length (incl. the prompt) is below this
  double length_penalty = 1.0;   ///< hypothesis score = sum log-probs / len**length_penalty
  bool early_stopping = false;
  std::int64_t pad_token_id = 1;
  std::int64_t eos_token_id = 2;
  EarlyStopRule rule = EarlyStopRule::kTransformers4_26;
  /// Record the full input_ids / attention_mask that the reference's decoder sees at every step (for tests).
  bool record_steps = false;
};

struct BeamSearchResult {
  torch::Tensor sequences;         ///< [B, <= max_length] long (CPU): prompt + best hypothesis, then EOS, then pad
  torch::Tensor sequences_scores;  ///< [B] float32 (CPU): the best hypothesis' score
  torch::Tensor beam_indices;      ///< [B, sequences.size(1)] long (CPU): global beam row chosen per step, -1 padded
  std::int64_t num_steps = 0;      ///< decoder calls (= beam-search steps run)
  std::vector<torch::Tensor> step_input_ids;       ///< with record_steps: [B*beams, T] per step (CPU)
  std::vector<torch::Tensor> step_attention_mask;  ///< with record_steps: [B*beams, T] per step (CPU)
};

/// One decoder step: `new_ids` [N, n] are the positions not yet seen (the whole prompt at the first call, then
/// the last token), `attention_mask` [N, T] covers every position so far. Returns logits [N, n, V] or [N, V]
/// (only the last position is used).
using StepFn = std::function<torch::Tensor(const torch::Tensor& new_ids, const torch::Tensor& attention_mask)>;
/// Called after every step with the rows [N] to keep (beam reordering of the decoder state).
using ReorderFn = std::function<void(const torch::Tensor& beam_index)>;

/// The generic driver. `prompt_ids` / `prompt_mask` [B, T0] are expanded to [B*num_beams, T0]
/// (repeat_interleave) before the first step.
BeamSearchResult beam_search(const torch::Tensor& prompt_ids, const torch::Tensor& prompt_mask, const StepFn& step,
                             const ReorderFn& reorder, const BeamSearchOptions& options);

/// The decoder call of a backbone (prismer::Backbone::decode or PrismerModel::decode).
using DecodeFn = std::function<torch::Tensor(const torch::Tensor& ids, const torch::Tensor& mask,
                                             const torch::Tensor& memory, DecodeCache* cache)>;

/// Beam search on an encoder output `memory` [B, L, D] with a key/value cache `cache` (fresh, empty).
/// For B == 1 the memory is shared by every beam (broadcast, as transformers 4.26); for B > 1 it is
/// repeat_interleaved by num_beams (as transformers 4.27).
BeamSearchResult generate(const DecodeFn& decode, DecodeCache& cache, const torch::Tensor& memory,
                          const torch::Tensor& prompt_ids, const torch::Tensor& prompt_mask,
                          const BeamSearchOptions& options);

/// Same through the Backbone interface (uses backbone.new_cache()).
BeamSearchResult generate(Backbone& backbone, const torch::Tensor& memory, const torch::Tensor& prompt_ids,
                          const torch::Tensor& prompt_mask, const BeamSearchOptions& options);

}  // namespace prismer::caption
