// Loading the official Mask2Former weights (detectron2 model-zoo .pkl: {"model": {name: ndarray}, "__author__"})
// into Mask2Former, with the original loader's key upgrades, strictly.
#pragma once

#include "mask2former.h"

#include <prismer/weights.h>

#include <string>

namespace prismer::experts::seg {

/// The original loader's renames of a version-less state dict (a .pkl carries no `_metadata`):
/// MaskFormerHead._load_from_state_dict renames EVERY `sem_seg_head.X` not under `sem_seg_head.predictor.` to
/// `sem_seg_head.pixel_decoder.X`, unconditionally (so a file that already says `pixel_decoder` would end up
/// doubled, as in the original), and MultiScaleMaskedTransformerDecoder's renames `static_query` to
/// `query_feat`. A `module.` prefix on every key is stripped first (fvcore's checkpointer does).
TensorMap upgrade_keys(const TensorMap& file);

/// The inverse of the pixel-decoder rename: model names -> the names the released .pkl uses.
TensorMap to_file_keys(const TensorMap& model_keys);

/// Copies `weights` (model names) into `model`, strictly: when a key is missing, unexpected or mis-shaped nothing
/// is copied and WeightFileError names `source` and every offending key. Accepted without a model parameter:
/// `criterion.empty_weight` (loss only), `pixel_mean` / `pixel_std`, and the Swin
/// `*.attn.relative_position_index` buffers, which must equal the index the model computes.
void load_state_dict(Mask2FormerImpl& model, const TensorMap& weights, const std::string& source);

/// DetectionCheckpointer.load of the original for a model-zoo file (.pkl, or any container load_weights reads):
/// the "model" entry, upgrade_keys, then a strict load_state_dict.
void load_official_weights(Mask2FormerImpl& model, const std::string& path);

}  // namespace prismer::experts::seg
