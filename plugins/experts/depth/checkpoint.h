// Strict loading of the official DPT-Hybrid weights (dpt_hybrid-midas-501f0c75.pt) into DptDepthModel.
#pragma once

#include "dpt.h"

#include <prismer/weights.h>

#include <string>
#include <vector>

namespace prismer::experts::depth {

/// What a strict state_dict load found wrong.
struct LoadReport {
  std::vector<std::string> missing;     ///< model keys the file lacks
  std::vector<std::string> unexpected;  ///< file keys the model lacks
  std::vector<std::string> mismatched;  ///< "name: file [..], model [..]"
  bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  /// Every problem by name, e.g. "1 missing key: scratch.layer1_rn.weight; 2 unexpected keys: ...".
  std::string describe() const;
};

/// Copies `weights` into `module` by name (strict, like torch's load_state_dict): when any key is missing,
/// unexpected or mis-shaped nothing is copied and WeightFileError names `source` and every offending key.
void load_state_dict(torch::nn::Module& module, const TensorMap& weights, const std::string& source);

/// BaseModel.load of the original: torch.load(path) (zip or legacy torch.save, or safetensors), the state_dict
/// under "model" when the file is a training checkpoint, then a strict load.
void load_official_weights(DptDepthModel& model, const std::string& path);

}  // namespace prismer::experts::depth
