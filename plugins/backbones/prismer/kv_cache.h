// The key/value cache of incremental decoding.
#pragma once

#include <prismer/backbone.h>

#include <torch/torch.h>

#include <vector>

namespace prismer::backbone {

/// Per decoder layer: self-attention keys/values [B, H, T, hd] appended at every step; cross-attention
/// keys/values [B|1, H, L, hd] computed once from the encoder memory. Also the running count of non-pad tokens
/// per row (RoBERTa position ids count non-pad ids).
class KVCache : public DecodeCache {
 public:
  std::vector<torch::Tensor> self_k, self_v;    ///< one per self-attention layer (num_hidden_layers + 1)
  std::vector<torch::Tensor> cross_k, cross_v;  ///< one per cross-attention layer (num_hidden_layers)
  torch::Tensor nonpad_count;                   ///< [B] long
  std::int64_t length = 0;                      ///< positions already decoded

  bool empty() const { return length == 0; }

  void reorder(const torch::Tensor& beam_index) override {
    auto pick = [&](torch::Tensor& t, bool shared_when_single) {
      if (!t.defined()) return;
      auto idx = beam_index.to(t.device()).to(torch::kLong);
      // Cross K/V computed once for a single image broadcast to every row: nothing to reorder. Self K/V and the
      // pad counts are per row even when there is one row (a reorder may expand it to several beams).
      if (shared_when_single && t.size(0) == 1 && idx.numel() != 1) return;
      t = t.index_select(0, idx);
    };
    for (auto& t : self_k) pick(t, false);
    for (auto& t : self_v) pick(t, false);
    for (auto& t : cross_k) pick(t, true);
    for (auto& t : cross_v) pick(t, true);
    pick(nonpad_count, false);
  }
};

}  // namespace prismer::backbone
