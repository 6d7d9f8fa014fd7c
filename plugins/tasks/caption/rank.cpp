// Written after model/prismer_vqa.py and model/prismer_caption.py (`inference == 'rank'`). See rank.h.
#include "rank.h"

#include "roberta.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace prismer::caption {

RankResult rank_candidates(const DecodeFn& decode, const CacheFactory& new_cache, const torch::Tensor& memory,
                           const torch::Tensor& prompt_ids, const torch::Tensor& prompt_mask,
                           const torch::Tensor& cand_ids, const torch::Tensor& cand_mask, const RankOptions& opt) {
  torch::NoGradGuard no_grad;
  if (prompt_ids.dim() != 2 || cand_ids.dim() != 2)
    throw std::invalid_argument("rank: prompt and candidate ids must be [B, Q] and [C, A]");
  const std::int64_t batch = prompt_ids.size(0);
  const std::int64_t num_cand = cand_ids.size(0);
  if (num_cand == 0 || cand_ids.size(1) == 0) throw std::invalid_argument("rank: the candidate list is empty");
  if (memory.size(0) != batch)
    throw std::invalid_argument("rank: " + std::to_string(memory.size(0)) + " encoder rows for " +
                                std::to_string(batch) + " prompts");
  if (opt.k < 1) throw std::invalid_argument("rank: k must be >= 1");
  // the reference's topk raises when k exceeds the list; ranking the whole list is the useful reading
  const std::int64_t k = std::min(opt.k, num_cand);
  const auto device = memory.device();
  const torch::Tensor q_ids = prompt_ids.to(device).to(torch::kLong);
  const torch::Tensor q_mask = (prompt_mask.defined() ? prompt_mask : torch::ones_like(prompt_ids)).to(device).to(torch::kLong);
  const torch::Tensor c_ids = cand_ids.to(device).to(torch::kLong);
  const torch::Tensor c_mask = (cand_mask.defined() ? cand_mask : c_ids.ne(opt.pad_token_id)).to(device).to(torch::kLong);
  const torch::Tensor first_tokens = c_ids.select(1, 0);

  std::vector<torch::Tensor> starts, probs, topks, scores, losses;
  for (std::int64_t b = 0; b < batch; ++b) {
    // one sample at a time: its encoder row (batch 1) is shared by all k candidate rows, so the cache holds one
    // copy of the cross-attention keys/values. The prompt is decoded as k identical rows up front (cheap: a few
    // tokens), so the candidate rows continue their own self-attention state.
    auto cache = new_cache();
    const torch::Tensor mem = memory.slice(0, b, b + 1);
    const torch::Tensor qi = q_ids.slice(0, b, b + 1).expand({k, q_ids.size(1)});
    const torch::Tensor qm = q_mask.slice(0, b, b + 1).expand({k, q_mask.size(1)});
    torch::Tensor logits = decode(qi, qm, mem, cache.get());
    const torch::Tensor start = logits.select(1, logits.size(1) - 1).slice(0, 0, 1).to(torch::kFloat);  // [1, V]
    const torch::Tensor prob = torch::softmax(start, 1).index_select(1, first_tokens);  // [1, C]
    const torch::Tensor top = std::get<1>(prob.topk(k, 1)).squeeze(0);                  // [k]

    const torch::Tensor rows = c_ids.index_select(0, top);  // [k, A]
    const torch::Tensor row_mask = torch::cat({qm, c_mask.index_select(0, top)}, 1);
    const torch::Tensor cand_logits = decode(rows, row_mask, mem, cache.get()).to(torch::kFloat);  // [k, A, V]
    // positions Q-1 .. Q+A-1: the prompt's last logits predict the first candidate token
    const torch::Tensor full = torch::cat({start.unsqueeze(1).expand({k, 1, start.size(1)}), cand_logits}, 1);
    const torch::Tensor labels =
        torch::cat({torch::full({k, 1}, -100, rows.options()), rows.masked_fill(rows == opt.pad_token_id, -100)}, 1);
    const torch::Tensor loss = prismer::backbone::caption_loss_per_sample(full, labels);  // [k]
    const torch::Tensor count = labels.ne(-100).sum(1).to(loss.scalar_type());
    starts.push_back(start);
    probs.push_back(prob);
    topks.push_back(top.unsqueeze(0));
    losses.push_back(loss);
    scores.push_back((-loss / count).unsqueeze(0));
  }
  RankResult r;
  r.start_logits = torch::cat(starts, 0);
  r.prob_first_token = torch::cat(probs, 0);
  r.topk_ids = torch::cat(topks, 0);
  r.row_loss = torch::cat(losses, 0);
  r.scores = torch::cat(scores, 0);
  r.best_in_topk = r.scores.argmax(1);
  r.best = r.topk_ids.gather(1, r.best_in_topk.unsqueeze(1)).squeeze(1);
  return r;
}

std::vector<std::string> load_candidate_list(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the candidate list");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": not valid JSON (" + e.what() + ")");
  }
  if (!doc.is_array()) throw std::runtime_error(path + ": expected a JSON array of strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    if (!doc[i].is_string())
      throw std::runtime_error(path + ": element " + std::to_string(i) + " is not a string");
    out.push_back(doc[i].get<std::string>());
  }
  if (out.empty()) throw std::runtime_error(path + ": the candidate list is empty");
  return out;
}

RankResult rank_candidates(Backbone& backbone, const torch::Tensor& memory, const torch::Tensor& prompt_ids,
                           const torch::Tensor& prompt_mask, const torch::Tensor& cand_ids,
                           const torch::Tensor& cand_mask, const RankOptions& options) {
  DecodeFn decode = [&](const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& mem,
                        DecodeCache* c) { return backbone.decode(ids, mask, mem, c); };
  return rank_candidates(decode, [&] { return backbone.new_cache(); }, memory, prompt_ids, prompt_mask, cand_ids,
                         cand_mask, options);
}

}  // namespace prismer::caption
