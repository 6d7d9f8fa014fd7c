// Strict loading of state dicts into the OCR expert's networks (CharNet, the CLIP text tower).
#pragma once

#include <prismer/weights.h>

#include <torch/nn/module.h>

#include <string>

namespace prismer::experts::ocr {

/// Copies `weights` into `module` by name, strictly (torch's load_state_dict(strict=True)): when a key is missing,
/// unexpected or mis-shaped nothing is copied and WeightFileError names `source`, `what` and every offending key.
/// Values are cast to the parameter's dtype (the CLIP archive holds float16).
void load_state_dict_strict(torch::nn::Module& module, const TensorMap& weights, const std::string& source,
                            const std::string& what);

}  // namespace prismer::experts::ocr
