// Starting from public CLIP / RoBERTa weights: files laid out as OpenAI's TorchScript CLIP archive and Hugging
// Face's RobertaForMaskedLM state dict are made from a model's own tensors (inverse of the reference's renaming),
// then loaded into a fresh model with the reference's remapping: every tensor must land where it came from.
#include "config.h"
#include "pretrained.h"
#include "prismer_model.h"

#include <doctest/doctest.h>
#include <torch/script.h>

#include <filesystem>
#include <map>
#include <regex>

#include <unistd.h>

using namespace prismer::backbone;
namespace fs = std::filesystem;

namespace {

fs::path temp_path(const std::string& name) {
  return fs::temp_directory_path() / ("prismer_pretrained_" + std::to_string(::getpid()) + "_" + name);
}

std::map<std::string, torch::Tensor> state_of(PrismerModel& model) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [k, v] : named_state(*model)) out[k] = v.detach().clone();
  return out;
}

// Builds a TorchScript module whose named_parameters are `tensors` (dotted names become submodules), as
// OpenAI's archives are, and saves it.
void save_torchscript(const prismer::TensorMap& tensors, const fs::path& path) {
  torch::jit::Module root("__torch__.CLIP");
  for (const auto& [name, value] : tensors) {
    torch::jit::Module* m = &root;
    std::vector<torch::jit::Module> chain;
    std::string rest = name;
    std::vector<std::string> parts;
    for (std::size_t pos; (pos = rest.find('.')) != std::string::npos; rest = rest.substr(pos + 1)) parts.push_back(rest.substr(0, pos));
    for (const std::string& part : parts) {
      if (!m->hasattr(part)) m->register_module(part, torch::jit::Module("__torch__.M_" + part));
      torch::jit::Module child = m->attr(part).toModule();
      chain.push_back(child);
      m = &chain.back();
    }
    m->register_parameter(rest, value, false);
  }
  root.save(path.string());
}

}  // namespace

TEST_CASE("a CLIP TorchScript archive loads into the expert encoder with the reference's renaming") {
  PrismerConfig cfg = PrismerConfig::preset("tiny");
  cfg.image_resolution = 64;
  cfg.experts = {reference_expert_spec("depth")};
  torch::manual_seed(1);
  PrismerModel source(cfg);
  const auto src = state_of(source);

  // Inverse of load_encoder's renaming, plus what a CLIP file has beyond the vision tower.
  prismer::TensorMap clip;
  const std::regex block(R"(transformer\.resblocks\.(\d+)\.0\.)");
  for (const auto& [k, v] : src) {
    if (k.rfind("expert_encoder.", 0) != 0) continue;
    std::string name = k.substr(std::string("expert_encoder.").size());
    if (name == "conv1.rgb.weight") {
      clip.emplace_back("visual.conv1.weight", v);
    } else if (name == "positional_embedding") {
      clip.emplace_back("visual.positional_embedding", torch::cat({torch::full({1, v.size(1)}, 7.0), v}));
    } else if (std::regex_search(name, block)) {
      clip.emplace_back("visual." + std::regex_replace(name, block, "transformer.resblocks.$1."), v);
    } else if (name.rfind("ln_pre", 0) == 0 || name.rfind("ln_post", 0) == 0) {
      clip.emplace_back("visual." + name, v);
    }
  }
  clip.emplace_back("visual.class_embedding", torch::randn({32}));
  clip.emplace_back("visual.proj", torch::randn({32, 16}));
  clip.emplace_back("token_embedding.weight", torch::randn({10, 16}));
  clip.emplace_back("transformer.resblocks.0.attn.in_proj_weight", torch::randn({48, 16}));
  const fs::path file = temp_path("clip.pt");
  save_torchscript(clip, file);

  torch::manual_seed(2);
  PrismerModel fresh(cfg);
  const auto before = state_of(fresh);
  const LoadReport report = load_pretrained(*fresh, remap_clip_visual(read_clip_weights(file.string())), file.string());
  const auto after = state_of(fresh);
  std::size_t from_clip = 0;
  for (const auto& [k, v] : after) {
    INFO(k);
    const bool vision = k.rfind("expert_encoder.", 0) == 0 &&
                        (std::regex_search(k, block) || k.find("conv1.rgb") != std::string::npos ||
                         k.find("positional_embedding") != std::string::npos || k.find(".ln_p") != std::string::npos);
    if (vision) {
      CHECK(torch::equal(v, src.at(k)));
      ++from_clip;
    } else {
      CHECK(torch::equal(v, before.at(k)));  // adaptors, stems, resampler, decoder keep their initialisation
    }
  }
  CHECK(from_clip > 10);
  CHECK(report.unexpected.size() == 1);  // visual.class_embedding (proj and the text tower are dropped by the remap)
  fs::remove(file);

  // A CLIP of another resolution: the positional embedding is interpolated to the model's length.
  cfg.image_resolution = 96;
  PrismerModel bigger(cfg);
  const LoadReport resized = load_pretrained(*bigger, remap_clip_visual(clip), "clip");
  CHECK(resized.interpolated.size() == 1);
}

TEST_CASE("a Hugging Face RoBERTa state dict loads into the text decoder with the reference's renaming") {
  PrismerConfig cfg = PrismerConfig::preset("tiny");
  cfg.image_resolution = 32;
  torch::manual_seed(3);
  PrismerModel source(cfg);
  const auto src = state_of(source);
  prismer::TensorMap hf;
  const std::regex first(R"(encoder\.layer\.(\d+)\.0\.)");
  for (const auto& [k, v] : src) {
    if (k.rfind("text_decoder.", 0) != 0) continue;
    const std::string name = k.substr(std::string("text_decoder.").size());
    if (name.find("encoder.layer.") != std::string::npos) {
      if (std::regex_search(name, first)) hf.emplace_back(std::regex_replace(name, first, "encoder.layer.$1."), v);
    } else if (name.find("output_layer") == std::string::npos) {
      hf.emplace_back(name, v);
    }
  }
  hf.emplace_back("roberta.encoder.layer.2.attention.self.query.weight", torch::randn({48, 48}));  // 3rd layer: unused
  hf.emplace_back("roberta.pooler.dense.weight", torch::randn({48, 48}));
  const fs::path file = temp_path("roberta.bin");
  prismer::save_torch(hf, file.string());

  torch::manual_seed(4);
  PrismerModel fresh(cfg);
  const auto before = state_of(fresh);
  const LoadReport report = load_pretrained(*fresh, remap_hf_roberta(prismer::load_weights(file.string())), file.string());
  const auto after = state_of(fresh);
  std::size_t from_hf = 0;
  for (const auto& [k, v] : after) {
    INFO(k);
    const bool from_file = k.rfind("text_decoder.", 0) == 0 && k.find("output_layer") == std::string::npos &&
                           (k.find("encoder.layer.") == std::string::npos || std::regex_search(k, first));
    if (from_file) {
      CHECK(torch::equal(v, src.at(k)));
      ++from_hf;
    } else {
      CHECK(torch::equal(v, before.at(k)));  // cross-attention, adaptors, the output layer, the encoder
    }
  }
  CHECK(from_hf > 20);
  CHECK(report.unexpected.size() == 2);
  fs::remove(file);
}

TEST_CASE("pre-trained weights of the wrong width are refused by name") {
  PrismerConfig cfg = PrismerConfig::preset("tiny");
  cfg.image_resolution = 32;
  PrismerModel model(cfg);
  prismer::TensorMap clip = {{"visual.ln_pre.weight", torch::ones({64})}};
  CHECK_THROWS_WITH(load_pretrained(*model, remap_clip_visual(clip), "clip.pt"),
                    doctest::Contains("expert_encoder.ln_pre.weight"));
}
