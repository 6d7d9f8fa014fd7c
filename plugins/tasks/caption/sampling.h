// Greedy decoding and (nucleus) sampling with the semantics of HF transformers 4.26 `generate(num_beams=1)`:
// greedy_search (do_sample False) and sample (do_sample True). Per step: MinLengthLogitsProcessor (EOS -inf while
// the length incl. the prompt is below min_length), then for sampling the warpers in HF's order — temperature,
// top-k, top-p (nucleus: drop the tokens whose ascending cumulative probability is <= 1 - top_p, always keep the
// most probable) — and a multinomial draw from a seeded generator, so a seed gives the same text every run.
// A row that produced EOS gets pad tokens afterwards; decoding stops when every row is done or at max_length.
// The decoder runs incrementally on the caller's key/value cache (the reference re-runs the whole prefix).
#pragma once

#include "beam_search.h"

#include <torch/types.h>

#include <cstdint>

namespace prismer::caption {

struct SamplingOptions {
  bool do_sample = false;        ///< false: greedy (argmax)
  std::int64_t max_length = 20;  ///< total length incl. the prompt
  std::int64_t min_length = 0;   ///< EOS is forbidden while the length (incl. the prompt) is below this
  double temperature = 1.0;      ///< > 0; logits are divided by it before top-k / top-p
  std::int64_t top_k = 50;       ///< keep the k most probable tokens (0: off; 50 is HF generate's default)
  double top_p = 1.0;            ///< nucleus mass in (0, 1] (1: off)
  std::uint64_t seed = 0;        ///< seed of the sampling generator
  std::int64_t pad_token_id = 1;
  std::int64_t eos_token_id = 2;
};

struct SamplingResult {
  torch::Tensor sequences;  ///< [B, T] long (CPU): prompt + generated tokens (EOS, then pad for finished rows)
  torch::Tensor scores;     ///< [B] float (CPU): mean log-probability (untempered model) of the generated tokens
  std::int64_t num_steps = 0;
};

/// Throws std::invalid_argument naming the bad option (temperature <= 0, top_p outside (0, 1], top_k < 0,
/// max_length < 1).
void check_sampling_options(const SamplingOptions& options);

/// The generic loop over a step function (see beam_search.h; no reordering is needed).
SamplingResult sample_search(const torch::Tensor& prompt_ids, const torch::Tensor& prompt_mask, const StepFn& step,
                             const SamplingOptions& options);

/// On an encoder output `memory` [B, L, D] with a fresh cache `cache`.
SamplingResult generate_sampled(const DecodeFn& decode, DecodeCache& cache, const torch::Tensor& memory,
                                const torch::Tensor& prompt_ids, const torch::Tensor& prompt_mask,
                                const SamplingOptions& options);

/// Same through the Backbone interface.
SamplingResult generate_sampled(Backbone& backbone, const torch::Tensor& memory, const torch::Tensor& prompt_ids,
                                const torch::Tensor& prompt_mask, const SamplingOptions& options);

}  // namespace prismer::caption
