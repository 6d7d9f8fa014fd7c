// Strict state_dict loading and the reference's freeze modes.
#pragma once

#include <prismer/weights.h>

#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace prismer::backbone {

/// Thrown by load_state_dict(strict): what() lists every missing, unexpected and mis-shaped key by name.
class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LoadReport {
  std::vector<std::string> missing, unexpected, mismatched;  // mismatched: "name: file [..] vs model [..]"
  std::vector<std::string> interpolated;                      // positional embeddings resized on load
  bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string describe() const;
};

/// Every parameter and buffer by its full name (tied tensors appear under each of their names).
std::vector<std::pair<std::string, torch::Tensor>> named_state(const torch::nn::Module& module);

/// Copies `weights` into `module` by name. Keys ending in "positional_embedding" whose length differs are first
/// resized with interpolate_pos_embed (as the reference's load_encoder does). With `strict`, any missing,
/// unexpected or mis-shaped key throws CheckpointError naming all of them (and nothing is copied).
LoadReport load_state_dict(torch::nn::Module& module, const TensorMap& weights, bool strict = true);

/// Reads a weight file with prismer::load_weights (a "module." prefix is stripped) and loads it.
LoadReport load_checkpoint(torch::nn::Module& module, const std::string& path, bool strict = true);

/// Prismer.prepare_to_train: sets requires_grad by the reference's name rules for "none", "freeze_lang",
/// "freeze_vision", "freeze_lang_vision"; throws std::invalid_argument for another mode.
void apply_freeze(torch::nn::Module& module, const std::string& mode);

/// Names of parameters with requires_grad, tied parameters listed once (under their first name), in
/// named_parameters order — what Python's model.named_parameters() yields.
std::vector<std::string> trainable_names(const torch::nn::Module& module);

}  // namespace prismer::backbone
