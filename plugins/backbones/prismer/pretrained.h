// Starting pre-training from the public CLIP and RoBERTa weights, with the reference's key remapping
// (model/modules/vit.py load_encoder, model/modules/roberta.py load_decoder).
#pragma once

#include "checkpoint.h"

#include <prismer/weights.h>

#include <string>

namespace prismer::backbone {

/// Reads a CLIP weight file: an OpenAI TorchScript archive (its module's parameters and buffers) or a plain
/// state dict such as open_clip's ViT-H/14 `open_clip_pytorch_model.bin`.
TensorMap read_clip_weights(const std::string& path);

/// load_encoder's renaming of a CLIP state dict into expert-encoder keys (prefixed "expert_encoder."): only
/// `visual.*` kept; `proj` outside the transformer dropped; `conv1` -> `conv1.rgb`; the class token's row dropped
/// from the positional embedding; inside `transformer.resblocks` the regexes `.mlp`, `.attn`, `.ln` (any character
/// then the name, as Python's re.sub reads them) gain a `.0`.
TensorMap remap_clip_visual(const TensorMap& clip);

/// load_decoder's renaming of a Hugging Face RoBERTa (RobertaForMaskedLM) state dict into text-decoder keys
/// (prefixed "text_decoder."): inside `encoder.layer`, `.attention` and `.intermediate` (and `.output` outside
/// attention) gain a `.0`. Old LayerNorm names `gamma`/`beta` become `weight`/`bias` as from_pretrained does.
TensorMap remap_hf_roberta(const TensorMap& roberta);

/// Loads remapped pre-trained weights non-strictly, as the reference does: keys absent from the model are
/// skipped and reported, model keys absent from the file keep their initialisation; a shape mismatch is an
/// error (as in PyTorch's non-strict load). The positional embedding is interpolated to the model's length.
LoadReport load_pretrained(torch::nn::Module& module, const TensorMap& remapped, const std::string& source);

}  // namespace prismer::backbone
