// The "prismer" backbone plugin: Prismer's expert encoder + RoBERTa decoder behind prismer::Backbone.
//
// Tokenizer: with `vocab` and `merges` set, the RoBERTa byte-level BPE tokenizer (prismer_text). Without them,
// a stand-in word tokenizer of the model's vocabulary size (as in the reference fixtures: word "w<N>" -> id N,
// other words hashed into [4, vocab); <s> 0, <pad> 1, </s> 2) so the plugin builds and validates with no files.
//
// Expert inputs: ExpertInputs::experts is keyed by expert name; the obj_detection instance map may be given as
// `experts["obj_detection.instance"]` [B, 1, H, W] or as a 65th channel; without it no instance embedding is
// added (the reference always has one).
#include "prismer_model.h"
#include "pretrained.h"

#include "common/file_setting.h"

#include <prismer/backbone.h>
#include <prismer/config.h>
#include <prismer/device.h>
#include <prismer/log.h>
#include <prismer/plugin.h>
#include <prismer/text/roberta_tokenizer.h>

#include <functional>
#include <memory>
#include <sstream>
#include <thread>

namespace {

using namespace prismer::backbone;

class WordTokenizer : public prismer::Tokenizer {
 public:
  explicit WordTokenizer(std::int64_t vocab) : vocab_(vocab) {}
  std::vector<std::int64_t> encode(const std::string& text, bool add_special_tokens) const override {
    std::vector<std::int64_t> out;
    if (add_special_tokens) out.push_back(0);
    std::istringstream in(text);
    std::string w;
    while (in >> w) out.push_back(id_of(w));
    if (add_special_tokens) out.push_back(2);
    return out;
  }
  std::string decode(const std::vector<std::int64_t>& ids, bool skip_special_tokens) const override {
    static const char* specials[] = {"<s>", "<pad>", "</s>", "<unk>"};
    std::string out;
    for (auto id : ids) {
      if (id < 4 && skip_special_tokens) continue;
      if (!out.empty()) out += ' ';
      out += id < 4 ? std::string(specials[id]) : "w" + std::to_string(id);
    }
    return out;
  }
  std::int64_t bos_id() const override { return 0; }
  std::int64_t eos_id() const override { return 2; }
  std::int64_t pad_id() const override { return 1; }
  std::size_t vocab_size() const override { return static_cast<std::size_t>(vocab_); }

 private:
  std::int64_t id_of(const std::string& w) const {
    if (w.size() > 1 && w[0] == 'w' && w.find_first_not_of("0123456789", 1) == std::string::npos) {
      const auto n = std::stoll(w.substr(1));
      if (n < vocab_) return n;
    }
    if (vocab_ <= 4) return 3;
    return 4 + static_cast<std::int64_t>(std::hash<std::string>{}(w) % static_cast<std::size_t>(vocab_ - 4));
  }
  std::int64_t vocab_;
};

class BpeTokenizer : public prismer::Tokenizer {
 public:
  BpeTokenizer(const std::string& vocab, const std::string& merges) : tok_(vocab, merges) {}
  std::vector<std::int64_t> encode(const std::string& text, bool add_special_tokens) const override {
    return tok_.encode(text, add_special_tokens);
  }
  std::string decode(const std::vector<std::int64_t>& ids, bool skip_special_tokens) const override {
    return tok_.decode(ids, skip_special_tokens);
  }
  std::int64_t bos_id() const override { return tok_.bos_token_id(); }
  std::int64_t eos_id() const override { return tok_.eos_token_id(); }
  std::int64_t pad_id() const override { return tok_.pad_token_id(); }
  std::size_t vocab_size() const override { return static_cast<std::size_t>(tok_.vocab_size()); }

 private:
  prismer::text::RobertaTokenizer tok_;
};

PrismerConfig build_config(const prismer::Config& cfg) {
  PrismerConfig c;
  try {
    c = PrismerConfig::preset(cfg.get<std::string>("preset", "tiny"));
  } catch (const std::invalid_argument& e) {
    cfg["preset"].fail(e.what());
  }
  c.image_resolution = cfg.get<std::int64_t>("image_resolution", 64);
  auto set = [&](const char* key, std::int64_t& field) {
    const auto v = cfg.get<std::int64_t>(key, 0);
    if (v < 0) cfg[key].fail("must be >= 0 (0 = the preset's value)");
    if (v > 0) field = v;
  };
  set("patch_size", c.vit.patch_size);
  set("vit_width", c.vit.width);
  set("vit_layers", c.vit.layers);
  set("vit_heads", c.vit.heads);
  set("hidden_size", c.roberta.hidden_size);
  set("num_hidden_layers", c.roberta.num_hidden_layers);
  set("num_attention_heads", c.roberta.num_attention_heads);
  set("intermediate_size", c.roberta.intermediate_size);
  set("vocab_size", c.roberta.vocab_size);
  set("resampler_layers", c.resampler.layers);
  set("resampler_heads", c.resampler.heads);
  set("num_latents", c.resampler.num_latents);
  c.roberta.vision_hidden_size = c.vit.width;
  if (c.image_resolution % c.vit.patch_size != 0) cfg["image_resolution"].fail("must be a multiple of patch_size");
  std::vector<std::string> experts = {"depth", "normal", "seg_coco", "edge", "obj_detection", "ocr_detection"};
  if (cfg.has("experts") && !cfg["experts"].is_null()) experts = cfg["experts"].as<std::vector<std::string>>();
  for (const auto& e : experts) {
    if (e == "none") continue;
    try {
      c.experts.push_back(reference_expert_spec(e));
    } catch (const std::invalid_argument& err) {
      cfg["experts"].fail(err.what());
    }
  }
  c.freeze = cfg.get<std::string>("freeze", "none");
  return c;
}

class PrismerBackbone : public prismer::Backbone {
 public:
  explicit PrismerBackbone(const prismer::Config& cfg) : device_(prismer::parse_device(cfg)) {
    // 0 leaves the count the pipeline set (its `threads:` key) alone
    const auto threads = cfg.get<std::int64_t>("threads", 0);
    if (threads < 0) cfg["threads"].fail("must be 0 (the pipeline's setting) or a positive count");
    if (threads > 0) prismer::set_compute_threads(static_cast<int>(threads));
    torch::manual_seed(static_cast<std::uint64_t>(cfg.get<std::int64_t>("seed", 0)));
    PrismerConfig c = build_config(cfg);
    try {
      apply_freeze_check(c.freeze);
    } catch (const std::invalid_argument& e) {
      cfg["freeze"].fail(e.what());
    }
    // File keys take a path or a model-zoo reference (zoo:NAME); a missing zoo file names the download command.
    auto file_of = [&](const char* key) { return prismer::plugins::optional_file_setting(cfg, key); };
    const std::string vocab = file_of("vocab"), merges = file_of("merges");
    if (vocab.empty() != merges.empty()) cfg.fail("set both 'vocab' and 'merges' (or neither)");
    if (!vocab.empty()) {
      tokenizer_ = std::make_unique<BpeTokenizer>(vocab, merges);
      if (static_cast<std::int64_t>(tokenizer_->vocab_size()) > c.roberta.vocab_size)
        cfg["vocab"].fail("tokenizer has " + std::to_string(tokenizer_->vocab_size()) + " tokens, the model " +
                          std::to_string(c.roberta.vocab_size));
    } else {
      tokenizer_ = std::make_unique<WordTokenizer>(c.roberta.vocab_size);
    }
    model_ = PrismerModel(c);
    model_->expert_encoder->seed(static_cast<std::uint64_t>(cfg.get<std::int64_t>("seed", 0)));
    const std::string ckpt = file_of("checkpoint");
    if (!ckpt.empty()) {
      load(ckpt);
    } else {
      // Pre-training starts from the public CLIP vision tower and RoBERTa, as the reference's load_encoder /
      // load_decoder do; every other weight keeps its initialisation.
      const std::string clip = file_of("clip"), roberta = file_of("roberta");
      if (!clip.empty()) report_pretrained(load_pretrained(*model_, remap_clip_visual(read_clip_weights(clip)), clip), clip);
      if (!roberta.empty()) report_pretrained(load_pretrained(*model_, remap_hf_roberta(prismer::load_weights(roberta)), roberta), roberta);
    }
    model_->to(device_);
  }

  torch::nn::Module& module() override { return *model_; }
  std::vector<prismer::LabelSpec> experts() const override { return model_->config().experts; }

  torch::Tensor encode(const prismer::ExpertInputs& inputs) override {
    prismer::ExpertInputs in;
    in.rgb = inputs.rgb.to(device_);
    for (const auto& [k, v] : inputs.experts) in.experts[k] = v.to(device_);
    return model_->encode(in);
  }

  torch::Tensor decode(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& memory,
                       prismer::DecodeCache* cache) override {
    KVCache* kv = nullptr;
    if (cache != nullptr) {
      kv = dynamic_cast<KVCache*>(cache);
      if (kv == nullptr) throw std::invalid_argument("prismer backbone: the cache was not made by new_cache()");
    }
    return model_->decode(ids.to(device_), mask.defined() ? mask.to(device_) : mask, memory.to(device_), kv);
  }

  std::unique_ptr<prismer::DecodeCache> new_cache() override { return std::make_unique<KVCache>(); }
  const prismer::Tokenizer& tokenizer() const override { return *tokenizer_; }

  void load(const std::string& checkpoint) override {
    auto report = load_checkpoint(*model_, checkpoint, true);
    for (const auto& s : report.interpolated) prismer::log::info("prismer: interpolated {}", s);
  }

  void freeze(const std::string& mode) override { apply_freeze(*model_, mode); }

 private:
  static void report_pretrained(const LoadReport& report, const std::string& source) {
    prismer::log::info("prismer: {}: {} tensors ignored (not in the model), {} model tensors keep their initialisation",
                       source, report.unexpected.size(), report.missing.size());
    for (const auto& s : report.interpolated) prismer::log::info("prismer: interpolated {}", s);
  }

 private:
  static void apply_freeze_check(const std::string& mode) {
    if (mode != "none" && mode != "freeze_lang" && mode != "freeze_vision" && mode != "freeze_lang_vision")
      throw std::invalid_argument("unknown freeze mode '" + mode +
                                  "' (known: none, freeze_lang, freeze_vision, freeze_lang_vision)");
  }
  torch::Device device_;
  std::unique_ptr<prismer::Tokenizer> tokenizer_;
  PrismerModel model_{nullptr};
};

}  // namespace

PRISMER_PLUGIN(PrismerBackbone, "prismer", backbone, "0.1.0",
               "Prismer: CLIP-ViT expert encoder + Perceiver resampler + RoBERTa decoder (PrismerZ = no experts)",
               "preset: tiny             # tiny | base | large | huge (sizes of configs/prismer.json)\n"
               "experts: [depth, normal, seg_coco, edge, obj_detection, ocr_detection]  # [] or [none] = PrismerZ\n"
               "image_resolution: 64     # rgb input size (sets the positional embedding length)\n"
               "patch_size: 0            # 0 = the preset's value (same for the keys below)\n"
               "vit_width: 0\n"
               "vit_layers: 0\n"
               "vit_heads: 0\n"
               "hidden_size: 0\n"
               "num_hidden_layers: 0\n"
               "num_attention_heads: 0\n"
               "intermediate_size: 0\n"
               "vocab_size: 0\n"
               "resampler_layers: 0      # Perceiver resampler; 0 = the reference's 4 blocks, 8 heads, 64 latents\n"
               "resampler_heads: 0\n"
               "num_latents: 0\n"
               "checkpoint: \"\"           # state_dict file (official pytorch_model.bin, safetensors) or zoo:NAME; strict\n"
               "vocab: \"\"                # RoBERTa vocab.json; empty = stand-in word tokenizer of vocab_size\n"
               "merges: \"\"               # RoBERTa merges.txt\n"
               "clip: \"\"                 # without checkpoint: CLIP TorchScript archive / open_clip bin to start from\n"
               "roberta: \"\"              # without checkpoint: Hugging Face RoBERTa pytorch_model.bin to start from\n"
               "freeze: none             # none | freeze_lang | freeze_vision | freeze_lang_vision\n"
               "device: cpu              # cpu | cuda | cuda:N | auto\n"
               "threads: 0               # torch threads; 0 = as the pipeline set them (its threads: key)\n"
               "seed: 0                  # weight init and default instance-embedding draws\n")
