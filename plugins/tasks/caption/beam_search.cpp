// Beam search, written after the behaviour of transformers 4.26.1 / 4.27.4 generation (utils.py beam_search,
// beam_search.py BeamSearchScorer / BeamHypotheses, logits_process.py MinLengthLogitsProcessor). See beam_search.h.
#include "beam_search.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace prismer::caption {
namespace {

/// The finished-hypothesis heap of one sample (BeamHypotheses): keeps the `capacity` best hypotheses by
/// score = sum_logprobs / len(hyp)**length_penalty, in insertion order (the order matters for ties).
class Hypotheses {
 public:
  struct Hyp {
    double score;
    std::vector<std::int64_t> tokens;
    std::vector<std::int64_t> beam_indices;
  };

  Hypotheses(std::int64_t capacity, double length_penalty, bool early_stopping)
      : capacity_(capacity), length_penalty_(length_penalty), early_stopping_(early_stopping) {}

  std::size_t size() const { return beams_.size(); }
  const std::vector<Hyp>& beams() const { return beams_; }

  void add(std::vector<std::int64_t> tokens, double sum_logprobs, std::vector<std::int64_t> beam_indices) {
    const double score = sum_logprobs / std::pow(static_cast<double>(tokens.size()), length_penalty_);
    if (static_cast<std::int64_t>(beams_.size()) < capacity_ || score > worst_score_) {
      beams_.push_back({score, std::move(tokens), std::move(beam_indices)});
      if (static_cast<std::int64_t>(beams_.size()) > capacity_) {
        // sorted((score, index)): drop the lowest score (lowest index among ties); the new worst is the 2nd lowest
        std::vector<std::pair<double, std::size_t>> order;
        for (std::size_t i = 0; i < beams_.size(); ++i) order.emplace_back(beams_[i].score, i);
        std::sort(order.begin(), order.end());
        beams_.erase(beams_.begin() + static_cast<std::ptrdiff_t>(order[0].second));
        worst_score_ = order[1].first;
      } else {
        worst_score_ = std::min(score, worst_score_);
      }
    }
  }

  /// early_stopping False: done when full and no live beam can beat the worst kept hypothesis, judged with the
  /// best candidate score divided by `length`**length_penalty.
  bool is_done(double best_sum_logprobs, std::int64_t length) const {
    if (static_cast<std::int64_t>(beams_.size()) < capacity_) return false;
    if (early_stopping_) return true;
    const double cur_score = best_sum_logprobs / std::pow(static_cast<double>(length), length_penalty_);
    return worst_score_ >= cur_score;
  }

  /// The best hypothesis (Python: sorted by score, stable, then pop() -> the last among equal best scores).
  const Hyp& best() const {
    std::vector<std::size_t> order(beams_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return beams_[a].score < beams_[b].score; });
    return beams_.at(order.back());
  }

 private:
  std::int64_t capacity_;
  double length_penalty_;
  bool early_stopping_;
  double worst_score_ = 1e9;
  std::vector<Hyp> beams_;
};

std::vector<std::int64_t> row_to_vector(const torch::Tensor& row_cpu) {
  auto r = row_cpu.contiguous();
  const auto* p = r.data_ptr<std::int64_t>();
  return std::vector<std::int64_t>(p, p + r.numel());
}

}  // namespace

BeamSearchResult beam_search(const torch::Tensor& prompt_ids, const torch::Tensor& prompt_mask, const StepFn& step,
                             const ReorderFn& reorder, const BeamSearchOptions& opt) {
  if (prompt_ids.dim() != 2) throw std::invalid_argument("beam_search: prompt_ids must be [B, T]");
  if (opt.num_beams < 1) throw std::invalid_argument("beam_search: num_beams must be >= 1");
  const std::int64_t batch = prompt_ids.size(0);
  const std::int64_t nb = opt.num_beams;
  const std::int64_t rows = batch * nb;
  const auto device = prompt_ids.device();
  const auto long_opts = torch::TensorOptions().dtype(torch::kLong);

  torch::Tensor input_ids = prompt_ids.to(torch::kLong).repeat_interleave(nb, 0);
  torch::Tensor mask = (prompt_mask.defined() ? prompt_mask : torch::ones_like(prompt_ids))
                           .to(device)
                           .to(torch::kLong)
                           .repeat_interleave(nb, 0);

  std::vector<Hypotheses> hyps;
  hyps.reserve(static_cast<std::size_t>(batch));
  for (std::int64_t b = 0; b < batch; ++b) hyps.emplace_back(nb, opt.length_penalty, opt.early_stopping);
  std::vector<bool> done(static_cast<std::size_t>(batch), false);

  // beam_scores [B*nb]: 0 for the first beam of each sample, -1e9 for the others (identical beams at start)
  torch::Tensor beam_scores = torch::zeros({batch, nb}, torch::kFloat);
  if (nb > 1) beam_scores.slice(1, 1).fill_(-1e9);
  beam_scores = beam_scores.view({-1});
  // per row: the global beam row chosen at every step so far (HF beam_indices)
  std::vector<std::vector<std::int64_t>> row_beam_indices(static_cast<std::size_t>(rows));

  BeamSearchResult result;
  bool first = true;
  while (true) {
    const std::int64_t cur_len = input_ids.size(1);
    if (opt.record_steps) {
      result.step_input_ids.push_back(input_ids.cpu());
      result.step_attention_mask.push_back(mask.cpu());
    }
    torch::Tensor logits = step(first ? input_ids : input_ids.slice(1, cur_len - 1), mask);
    first = false;
    ++result.num_steps;
    if (logits.dim() == 3) logits = logits.select(1, logits.size(1) - 1);
    const std::int64_t vocab = logits.size(-1);

    torch::Tensor scores = torch::log_softmax(logits.to(torch::kFloat), -1);
    if (cur_len < opt.min_length) scores.select(1, opt.eos_token_id).fill_(-std::numeric_limits<float>::infinity());
    scores = scores + beam_scores.to(scores.device()).unsqueeze(1);
    scores = scores.view({batch, nb * vocab});
    auto top = torch::topk(scores, 2 * nb, 1, /*largest=*/true, /*sorted=*/true);
    const torch::Tensor next_scores = std::get<0>(top).cpu().contiguous();
    const torch::Tensor next_flat = std::get<1>(top).cpu().to(torch::kLong).contiguous();
    const auto* ns = next_scores.data_ptr<float>();
    const auto* nf = next_flat.data_ptr<std::int64_t>();

    // BeamSearchScorer.process
    torch::Tensor new_scores = torch::zeros({rows}, torch::kFloat);
    torch::Tensor new_tokens = torch::zeros({rows}, long_opts);
    torch::Tensor new_indices = torch::zeros({rows}, long_opts);
    auto* sc = new_scores.data_ptr<float>();
    auto* tk = new_tokens.data_ptr<std::int64_t>();
    auto* ix = new_indices.data_ptr<std::int64_t>();
    torch::Tensor ids_cpu;  // fetched lazily when a hypothesis finishes
    for (std::int64_t b = 0; b < batch; ++b) {
      if (done[b]) {  // a finished sample: pad tokens, all its rows continue GLOBAL row 0 (irrelevant rows)
        for (std::int64_t j = 0; j < nb; ++j) {
          sc[b * nb + j] = 0.f;
          tk[b * nb + j] = opt.pad_token_id;
          ix[b * nb + j] = 0;
        }
        continue;
      }
      std::int64_t beam = 0;
      for (std::int64_t rank = 0; rank < 2 * nb; ++rank) {
        const float score = ns[b * 2 * nb + rank];
        const std::int64_t token = nf[b * 2 * nb + rank] % vocab;
        const std::int64_t row = b * nb + nf[b * 2 * nb + rank] / vocab;
        if (token == opt.eos_token_id) {
          if (rank >= nb) continue;  // an EOS outside the top num_beams candidates is not a hypothesis
          if (!ids_cpu.defined()) ids_cpu = input_ids.cpu();
          std::vector<std::int64_t> bi = row_beam_indices[row];
          bi.push_back(row);
          hyps[b].add(row_to_vector(ids_cpu[row]), static_cast<double>(score), std::move(bi));
        } else {
          sc[b * nb + beam] = score;
          tk[b * nb + beam] = token;
          ix[b * nb + beam] = row;
          ++beam;
        }
        if (beam == nb) break;
      }
      if (beam < nb)
        throw std::runtime_error("beam_search: fewer than num_beams non-EOS candidates for sample " +
                                 std::to_string(b));
      float best = ns[b * 2 * nb];
      for (std::int64_t rank = 1; rank < 2 * nb; ++rank) best = std::max(best, ns[b * 2 * nb + rank]);
      const std::int64_t length = opt.rule == EarlyStopRule::kTransformers4_27 ? cur_len + 1 : cur_len;
      done[b] = done[b] || hyps[b].is_done(static_cast<double>(best), length);
    }

    beam_scores = new_scores;
    std::vector<std::vector<std::int64_t>> next_beam_indices(static_cast<std::size_t>(rows));
    for (std::int64_t r = 0; r < rows; ++r) {
      next_beam_indices[r] = row_beam_indices[ix[r]];
      next_beam_indices[r].push_back(ix[r]);
    }
    row_beam_indices = std::move(next_beam_indices);

    const torch::Tensor beam_idx = new_indices.to(device);
    // the attention mask is extended, not reordered (as HF: every beam of a sample shares its prompt's mask)
    input_ids = torch::cat({input_ids.index_select(0, beam_idx), new_tokens.to(device).unsqueeze(1)}, 1);
    mask = torch::cat({mask, torch::ones({rows, 1}, mask.options())}, 1);
    reorder(beam_idx);

    const bool all_done = std::all_of(done.begin(), done.end(), [](bool d) { return d; });
    if (all_done || input_ids.size(1) >= opt.max_length) break;
  }

  // BeamSearchScorer.finalize: live beams of unfinished samples join the heap; the best hypothesis per sample
  const torch::Tensor ids_cpu = input_ids.cpu();
  const auto* bs = beam_scores.data_ptr<float>();
  std::vector<const Hypotheses::Hyp*> best(static_cast<std::size_t>(batch));
  std::int64_t longest = 0;
  for (std::int64_t b = 0; b < batch; ++b) {
    if (!done[b])
      for (std::int64_t j = 0; j < nb; ++j) {
        const std::int64_t row = b * nb + j;
        hyps[b].add(row_to_vector(ids_cpu[row]), static_cast<double>(bs[row]), row_beam_indices[row]);
      }
    best[b] = &hyps[b].best();
    longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(best[b]->tokens.size()));
  }
  const std::int64_t out_len = std::min(longest + 1, opt.max_length);
  result.sequences = torch::full({batch, out_len}, opt.pad_token_id, long_opts);
  result.beam_indices = torch::full({batch, out_len}, -1, long_opts);
  result.sequences_scores = torch::zeros({batch}, torch::kFloat);
  for (std::int64_t b = 0; b < batch; ++b) {
    const auto& h = *best[b];
    const auto n = static_cast<std::int64_t>(h.tokens.size());
    auto seq = result.sequences[b];
    for (std::int64_t t = 0; t < n; ++t) seq[t] = h.tokens[t];
    if (n < out_len) seq[n] = opt.eos_token_id;
    auto bi = result.beam_indices[b];
    for (std::int64_t t = 0; t < static_cast<std::int64_t>(h.beam_indices.size()) && t < out_len; ++t)
      bi[t] = h.beam_indices[t];
    result.sequences_scores[b] = static_cast<float>(h.score);
  }
  return result;
}

BeamSearchResult generate(const DecodeFn& decode, DecodeCache& cache, const torch::Tensor& memory,
                          const torch::Tensor& prompt_ids, const torch::Tensor& prompt_mask,
                          const BeamSearchOptions& options) {
  torch::NoGradGuard no_grad;
  const std::int64_t batch = prompt_ids.size(0);
  if (memory.size(0) != batch) throw std::invalid_argument("generate: memory and prompt batch sizes differ");
  // One memory row per image, shared by its beams (the decoder groups consecutive rows): transformers 4.26
  // broadcasts it at batch 1, 4.27 repeats it per beam — the same values per row, without the copies.
  auto step = [&](const torch::Tensor& ids, const torch::Tensor& mask) { return decode(ids, mask, memory, &cache); };
  auto reorder = [&](const torch::Tensor& idx) { cache.reorder(idx); };
  return beam_search(prompt_ids.to(memory.device()), prompt_mask, step, reorder, options);
}

BeamSearchResult generate(Backbone& backbone, const torch::Tensor& memory, const torch::Tensor& prompt_ids,
                          const torch::Tensor& prompt_mask, const BeamSearchOptions& options) {
  auto cache = backbone.new_cache();
  DecodeFn decode = [&](const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& mem,
                        DecodeCache* c) { return backbone.decode(ids, mask, mem, c); };
  return generate(decode, *cache, memory, prompt_ids, prompt_mask, options);
}

}  // namespace prismer::caption
