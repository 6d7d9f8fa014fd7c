// Loading the official UniDet checkpoint (Unified_learned_OCIM_RS200_6x+2x.pth) into UniDet by name.
#pragma once

#include "unidet.h"

#include <prismer/weights.h>

#include <string>

namespace prismer::experts::obj_detection {

/// Copies `weights` into `model` by name. The original loads non-strictly, but its checkpoint matches the model
/// exactly; here a missing, unexpected or mis-shaped key is an error (WeightFileError naming `source` and every
/// offending key; nothing is copied). Keys the original drops are ignored: pixel_mean, pixel_std and
/// proposal_generator.anchor_generator.cell_anchors.*.
void load_state_dict(torch::nn::Module& model, const TensorMap& weights, const std::string& source);

/// DetectionCheckpointer.load of the original: the file (torch.save zip/legacy, or safetensors), its "model" entry
/// when it is a training checkpoint, then load_state_dict().
void load_official_weights(UniDet& model, const std::string& path);

}  // namespace prismer::experts::obj_detection
