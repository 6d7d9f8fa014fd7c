// Answer ranking as PrismerVQA / PrismerCaption `inference='rank'` do it: one decoder pass over the prompt gives
// the next-token distribution; the k candidates whose FIRST token is most probable are kept (topk over
// softmax(prompt logits)[first tokens]); each kept candidate is scored by its label-smoothed (0.1) decoder loss
// divided by its number of tokens (the reference's `log_probs_sum = -loss / #labels`), and the best score wins.
//
// Unlike the reference, which tiles the prompt and the encoder output k times and re-runs the whole sequence,
// each sample's prompt is decoded once (as k identical rows) into a key/value cache that the k candidates then
// extend: the cross-attention keys/values are computed once per image and shared by every candidate. The prompt's last-position logits (the ones that predict the first
// candidate token) are reused for the loss.
#pragma once

#include "beam_search.h"

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace prismer::caption {

struct RankOptions {
  std::int64_t k = 128;          ///< candidates kept after the first-token filter (clamped to the list size)
  std::int64_t pad_token_id = 1;
};

struct RankResult {
  torch::Tensor best;              ///< [B] long: index into the candidate list (the reference's `max_ids`)
  torch::Tensor topk_ids;          ///< [B, k] long: candidate indices kept by the first-token filter
  torch::Tensor scores;            ///< [B, k] float: mean log-likelihood per kept candidate (`log_probs_sum`)
  torch::Tensor best_in_topk;      ///< [B] long: argmax over `scores` (`max_topk_ids`)
  torch::Tensor start_logits;      ///< [B, V] float: the prompt's last-position logits
  torch::Tensor prob_first_token;  ///< [B, C] float: softmax(start_logits) at every candidate's first token
  torch::Tensor row_loss;          ///< [B*k] float: label-smoothed loss summed over each kept candidate's tokens
};

/// Makes an empty decode cache (Backbone::new_cache, or a backbone-specific one in tests).
using CacheFactory = std::function<std::unique_ptr<DecodeCache>()>;

/// Ranks `cand_ids` / `cand_mask` [C, A] (right-padded, EOS included) after prompts `prompt_ids` /
/// `prompt_mask` [B, Q] (right-padded as a batch: a shorter prompt's "last position" is a pad, as in the
/// reference) for the encoder outputs `memory` [B, L, D]. Throws std::invalid_argument for an empty list or
/// mismatched shapes.
RankResult rank_candidates(const DecodeFn& decode, const CacheFactory& new_cache, const torch::Tensor& memory,
                           const torch::Tensor& prompt_ids, const torch::Tensor& prompt_mask,
                           const torch::Tensor& cand_ids, const torch::Tensor& cand_mask, const RankOptions& options);

/// Reads a candidate list: a JSON array of strings (Prismer's answer_list.json). Throws std::runtime_error naming
/// the file when it is missing, not JSON, not an array of strings, or empty.
std::vector<std::string> load_candidate_list(const std::string& path);

/// Same through the Backbone interface.
RankResult rank_candidates(Backbone& backbone, const torch::Tensor& memory, const torch::Tensor& prompt_ids,
                           const torch::Tensor& prompt_mask, const torch::Tensor& cand_ids,
                           const torch::Tensor& cand_mask, const RankOptions& options);

}  // namespace prismer::caption
