#include "pretrained.h"

#include "key_names.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>

#include <regex>

namespace prismer::backbone {

namespace {


std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
  return s;
}

bool is_torchscript_archive(const std::string& path) {
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    return reader.hasRecord("constants.pkl");
  } catch (const c10::Error&) {
    return false;  // not a zip archive: a legacy or pickle file, read by load_weights
  }
}

}  // namespace

TensorMap read_clip_weights(const std::string& path) {
  if (!is_torchscript_archive(path)) return load_weights(path);
  TensorMap out;
  try {
    torch::jit::Module module = torch::jit::load(path, torch::kCPU);
    for (const auto& p : module.named_parameters(true)) out.emplace_back(p.name, p.value.detach());
    for (const auto& b : module.named_buffers(true)) out.emplace_back(b.name, b.value.detach());
  } catch (const c10::Error& e) {
    throw WeightFileError(path + ": cannot be read as a TorchScript archive: " + e.what_without_backtrace());
  }
  if (out.empty()) throw WeightFileError(path + ": the TorchScript archive holds no parameters");
  return out;
}

TensorMap remap_clip_visual(const TensorMap& clip) {
  static const std::regex mlp(".mlp"), attn(".attn"), ln(".ln");
  TensorMap out;
  for (const auto& [key, value] : clip) {
    if (key.rfind("visual", 0) != 0) continue;
    std::string k = replace_all(key, "visual.", "");
    torch::Tensor v = value;
    if (contains(k, "proj") && !contains(k, "transformer")) continue;
    if (contains(k, "conv1")) {
      k = replace_all(k, "conv1", "conv1.rgb");
    } else if (contains(k, "positional_embedding")) {
      v = v.slice(0, 1);
    } else if (contains(k, "transformer.resblocks")) {
      k = std::regex_replace(k, mlp, ".0.mlp");
      k = std::regex_replace(k, attn, ".0.attn");
      k = std::regex_replace(k, ln, ".0.ln");
    }
    out.emplace_back("expert_encoder." + k, v);
  }
  return out;
}

TensorMap remap_hf_roberta(const TensorMap& roberta) {
  static const std::regex attention(".attention"), intermediate(".intermediate"), output(".output");
  TensorMap out;
  for (const auto& [key, value] : roberta) {
    std::string k = key;
    if (k.size() > 6 && k.compare(k.size() - 6, 6, ".gamma") == 0) k = k.substr(0, k.size() - 6) + ".weight";
    if (k.size() > 5 && k.compare(k.size() - 5, 5, ".beta") == 0) k = k.substr(0, k.size() - 5) + ".bias";
    if (contains(k, "encoder.layer")) {
      std::string n = std::regex_replace(k, attention, ".0.attention");
      n = std::regex_replace(n, intermediate, ".0.intermediate");
      if (!contains(k, "attention")) n = std::regex_replace(n, output, ".0.output");
      k = n;
    }
    out.emplace_back("text_decoder." + k, value);
  }
  return out;
}

LoadReport load_pretrained(torch::nn::Module& module, const TensorMap& remapped, const std::string& source) {
  LoadReport report = load_state_dict(module, remapped, /*strict=*/false);
  if (!report.mismatched.empty()) {
    std::string msg = source + ": pre-trained weights do not fit the model:";
    for (const auto& m : report.mismatched) msg += "\n  " + m;
    throw CheckpointError(msg);
  }
  return report;
}

}  // namespace prismer::backbone
