// The Backbone interface: the vision-language model that experts feed and tasks drive.
#pragma once

#include <prismer/component.h>
#include <prismer/expert.h>
#include <prismer/tokenizer.h>

#include <torch/nn/module.h>
#include <torch/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace prismer {

/// The encoder's inputs: the RGB batch and one encoded batch per expert, keyed by LabelSpec::name.
struct ExpertInputs {
  torch::Tensor rgb;                             ///< [B, 3, H, W], CLIP-normalised
  std::map<std::string, torch::Tensor> experts;  ///< [B, C, h, w] per expert
};

/// Incremental-decoding state owned by the caller and filled by the backbone (key/value cache).
class PRISMER_API DecodeCache {
 public:
  virtual ~DecodeCache();
  /// Keeps rows `beam_index` (a LongTensor over the batch) — used by beam search after each step.
  virtual void reorder(const torch::Tensor& beam_index) = 0;
};

/// A backbone plugin.
///
/// Example (a caller):
/// \code
///   torch::Tensor memory = backbone.encode(inputs);                    // [B, L, D]
///   auto cache = backbone.new_cache();
///   torch::Tensor logits = backbone.decode(ids, mask, memory, cache.get());  // [B, T, V]
/// \endcode
class PRISMER_API Backbone : public Component {
 public:
  ~Backbone() override;
  /// The module holding every parameter and buffer, named as the reference state_dict.
  virtual torch::nn::Module& module() = 0;
  /// The experts this backbone reads (empty for an RGB-only model).
  virtual std::vector<LabelSpec> experts() const = 0;
  /// Encoder output [B, L, D].
  virtual torch::Tensor encode(const ExpertInputs& inputs) = 0;
  /// Decoder logits [B, T, V] for `ids` [B, T] with `mask` [B, T]. With a cache, `ids` holds only the new
  /// positions and the cache supplies the earlier keys/values. `memory` has B rows, or M rows with M dividing B:
  /// then decoder row b reads memory row b / (B / M), so the beams or candidates of one image share its row.
  virtual torch::Tensor decode(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& memory,
                               DecodeCache* cache) = 0;
  /// A fresh, empty cache for decode().
  virtual std::unique_ptr<DecodeCache> new_cache() = 0;
  virtual const Tokenizer& tokenizer() const = 0;
  /// Loads a checkpoint (strict: missing, unexpected and mis-shaped keys are errors).
  virtual void load(const std::string& checkpoint) = 0;
  /// "none", "freeze_lang", "freeze_vision" or "freeze_lang_vision".
  virtual void freeze(const std::string& mode) = 0;
};

}  // namespace prismer
