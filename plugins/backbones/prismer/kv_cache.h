// The key/value cache of incremental decoding.
#pragma once

#include <prismer/backbone.h>

#include <torch/torch.h>

#include <vector>

namespace prismer::backbone {

/// Per decoder layer: self-attention keys/values [B, H, T, hd] appended at every step; cross-attention
/// keys/values [M, H, L, hd] computed once from the encoder memory (M encoder rows, each shared by B / M
/// consecutive decoder rows). Also the running count of non-pad tokens
/// per row (RoBERTa position ids count non-pad ids).
class KVCache : public DecodeCache {
 public:
  std::vector<torch::Tensor> self_k, self_v;    ///< one per self-attention layer (num_hidden_layers + 1)
  std::vector<torch::Tensor> cross_k, cross_v;  ///< one per cross-attention layer (num_hidden_layers)
  torch::Tensor nonpad_count;                   ///< [B] long
  std::int64_t length = 0;                      ///< positions already decoded

  bool empty() const { return length == 0; }

  void reorder(const torch::Tensor& beam_index) override {
    const torch::Tensor idx = beam_index.to(torch::kLong);
    const std::int64_t rows = nonpad_count.defined() ? nonpad_count.size(0) : 0;
    auto pick = [&](torch::Tensor& t) {
      if (t.defined()) t = t.index_select(0, idx.to(t.device()));
    };
    for (auto& t : self_k) pick(t);
    for (auto& t : self_v) pick(t);
    // Cross K/V hold one row per encoder row (image), shared by its consecutive decoder rows. A reorder that keeps
    // every row in its image's group (beam search, candidate expansion) leaves them alone; any other one gets
    // per-row copies.
    if (rows > 0 && !cross_k.empty() && cross_k.front().defined() && !keeps_groups(idx, rows, cross_k.front().size(0))) {
      const std::int64_t per = rows / cross_k.front().size(0);
      for (auto* list : {&cross_k, &cross_v})
        for (auto& t : *list) t = t.repeat_interleave(per, 0).index_select(0, idx.to(t.device()));
    }
    pick(nonpad_count);
  }

 private:
  /// True when new row j (of idx.numel()) takes old row idx[j] (of `rows`) from the same group of `groups`.
  static bool keeps_groups(const torch::Tensor& idx, std::int64_t rows, std::int64_t groups) {
    const std::int64_t new_rows = idx.numel();
    if (groups <= 0 || rows % groups != 0 || new_rows % groups != 0) return false;
    const torch::Tensor old_group = torch::div(idx.cpu(), rows / groups, "floor");
    const torch::Tensor new_group = torch::div(torch::arange(new_rows, torch::kLong), new_rows / groups, "floor");
    return old_group.equal(new_group);
  }
};

}  // namespace prismer::backbone
