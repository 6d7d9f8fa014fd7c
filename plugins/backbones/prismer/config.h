// Sizes of a Prismer model (the reference's VisionTransformer / PerceiverResampler / RobertaConfig arguments).
#pragma once

#include <prismer/expert.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace prismer::backbone {

struct VitConfig {
  std::int64_t patch_size = 16;
  std::int64_t width = 768;
  std::int64_t layers = 12;
  std::int64_t heads = 12;
};

struct ResamplerConfig {  // hard-coded in the reference: 4 blocks, 8 heads, 64 latents
  std::int64_t layers = 4;
  std::int64_t heads = 8;
  std::int64_t num_latents = 64;
};

struct RobertaConfig {
  std::int64_t vocab_size = 50265;
  std::int64_t hidden_size = 768;
  std::int64_t vision_hidden_size = 768;
  std::int64_t num_hidden_layers = 12;
  std::int64_t num_attention_heads = 12;
  std::int64_t intermediate_size = 3072;
  std::int64_t max_position_embeddings = 514;
  std::int64_t type_vocab_size = 1;
  double layer_norm_eps = 1e-5;
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  std::int64_t pad_token_id = 1;
  std::int64_t bos_token_id = 0;
  std::int64_t eos_token_id = 2;
};

/// The label spec the reference derives from an expert name (Prismer.__init__): depth/edge dense 1 channel,
/// normal dense 3, anything containing "seg" semantic 64 on the shared `seg` stem, obj/ocr detection semantic 64.
inline LabelSpec reference_expert_spec(const std::string& name) {
  LabelSpec s;
  s.name = name;
  if (name == "depth" || name == "edge") {
    s.channels = 1;
    s.kind = LabelKind::dense;
  } else if (name == "normal") {
    s.channels = 3;
    s.kind = LabelKind::dense;
  } else if (name.find("seg") != std::string::npos) {
    s.channels = 64;
    s.kind = LabelKind::semantic;
    s.stem = "seg";
  } else if (name == "obj_detection" || name == "ocr_detection") {
    s.channels = 64;
    s.kind = LabelKind::semantic;
  } else {
    throw std::invalid_argument("unknown Prismer expert '" + name +
                                "' (known: depth, normal, edge, seg_*, obj_detection, ocr_detection)");
  }
  return s;
}

/// The stem an expert uses (LabelSpec::stem, or its name).
inline std::string stem_name(const LabelSpec& s) { return s.stem.empty() ? s.name : s.stem; }

struct PrismerConfig {
  std::int64_t image_resolution = 224;  ///< rgb input size; sets the positional embedding length
  VitConfig vit;
  ResamplerConfig resampler;
  RobertaConfig roberta;
  std::vector<LabelSpec> experts;  ///< non-rgb experts, in the order their tokens are concatenated
  std::string freeze = "none";

  /// "tiny" (the fixtures' sizes), "base", "large", "huge" (configs/prismer.json of the reference).
  static PrismerConfig preset(const std::string& name) {
    PrismerConfig c;
    if (name == "tiny") {
      c.image_resolution = 80;
      c.vit = {16, 32, 2, 2};
      c.roberta.vocab_size = 1000;
      c.roberta.hidden_size = 48;
      c.roberta.vision_hidden_size = 32;
      c.roberta.num_hidden_layers = 2;
      c.roberta.num_attention_heads = 4;
      c.roberta.intermediate_size = 192;
    } else if (name == "base") {
      c.vit = {16, 768, 12, 12};
    } else if (name == "large") {
      c.vit = {14, 1024, 24, 16};
      c.roberta.hidden_size = 1024;
      c.roberta.vision_hidden_size = 1024;
      c.roberta.num_attention_heads = 16;
      c.roberta.num_hidden_layers = 24;
      c.roberta.intermediate_size = 4096;
    } else if (name == "huge") {
      c.vit = {14, 1280, 32, 20};
      c.roberta.hidden_size = 1024;
      c.roberta.vision_hidden_size = 1280;
      c.roberta.num_attention_heads = 16;
      c.roberta.num_hidden_layers = 24;
      c.roberta.intermediate_size = 4096;
    } else {
      throw std::invalid_argument("unknown Prismer preset '" + name + "' (known: tiny, base, large, huge)");
    }
    return c;
  }
};

}  // namespace prismer::backbone
