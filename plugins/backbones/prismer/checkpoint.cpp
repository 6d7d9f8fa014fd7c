#include "checkpoint.h"

#include "key_names.h"
#include "layers.h"

#include <set>
#include <sstream>
#include <unordered_set>

namespace prismer::backbone {

namespace {
std::string shape_str(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

std::string LoadReport::describe() const {
  std::ostringstream s;
  auto list = [&](const char* what, const std::vector<std::string>& v) {
    if (v.empty()) return;
    s << v.size() << " " << what << ":";
    for (const auto& n : v) s << "\n  " << n;
    s << "\n";
  };
  list("missing keys", missing);
  list("unexpected keys", unexpected);
  list("mis-shaped keys", mismatched);
  return s.str();
}

namespace {
/// The expert stem (`expert_encoder.conv1.<name>.`, not rgb) or resampler a key belongs to; empty for other keys.
std::string expert_part(const std::string& key) {
  static const std::string stems = "expert_encoder.conv1.", resampler = "expert_encoder.resampler.";
  if (key.rfind(resampler, 0) == 0) return "resampler";
  if (key.rfind(stems, 0) != 0) return "";
  const std::string name = key.substr(stems.size(), key.find('.', stems.size()) - stems.size());
  return name == "rgb" ? "" : name;
}

/// Why a Prismer and a PrismerZ model do not load each other's checkpoints, when that is the whole mismatch.
std::string variant_hint(const LoadReport& report) {
  if (!report.mismatched.empty()) return "";
  auto only_experts = [](const std::vector<std::string>& keys, std::set<std::string>* names) {
    for (const auto& k : keys) {
      const std::string part = expert_part(k);
      if (part.empty()) return false;
      if (part != "resampler") names->insert(part);
    }
    return !keys.empty();
  };
  std::set<std::string> names;
  auto joined = [&names] {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return s;
  };
  if (report.unexpected.empty() && only_experts(report.missing, &names))
    return " (it has no expert stems for " + joined() +
           ": a PrismerZ checkpoint, which reads RGB only: set experts: [] and list no expert inputs)";
  if (report.missing.empty() && only_experts(report.unexpected, &names))
    return " (it is a Prismer checkpoint with expert stems for " + joined() + ": list them in experts:)";
  return "";
}
}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> named_state(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : module.named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers(true)) out.emplace_back(b.key(), b.value());
  return out;
}

LoadReport load_state_dict(torch::nn::Module& module, const TensorMap& weights, bool strict) {
  LoadReport report;
  auto state = named_state(module);
  std::map<std::string, torch::Tensor> file;
  for (const auto& kv : weights) file[kv.first] = kv.second;
  std::set<std::string> model_names;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  for (auto& [name, dst] : state) {
    model_names.insert(name);
    auto it = file.find(name);
    if (it == file.end()) {
      report.missing.push_back(name);
      continue;
    }
    torch::Tensor src = it->second;
    if (ends_with(name, "positional_embedding") && src.dim() == 2 && dst.dim() == 2 && src.size(0) != dst.size(0) &&
        src.size(1) == dst.size(1)) {
      src = interpolate_pos_embed(src.to(torch::kFloat32), dst.size(0));
      report.interpolated.push_back(name + ": " + std::to_string(it->second.size(0)) + " -> " +
                                    std::to_string(src.size(0)) + " rows");
    }
    if (src.sizes() != dst.sizes()) {
      report.mismatched.push_back(name + ": checkpoint " + shape_str(it->second) + " vs model " + shape_str(dst));
      continue;
    }
    copies.emplace_back(dst, src);
  }
  for (const auto& kv : weights)
    if (model_names.count(kv.first) == 0U) report.unexpected.push_back(kv.first);
  if (strict && !report.ok())
    throw CheckpointError("checkpoint does not match the model" + variant_hint(report) + ":\n" + report.describe());
  torch::NoGradGuard no_grad;
  for (auto& [dst, src] : copies) dst.copy_(src.to(dst.device()).to(dst.scalar_type()));
  return report;
}

LoadReport load_checkpoint(torch::nn::Module& module, const std::string& path, bool strict) {
  LoadWeightsOptions opts;
  opts.strip_prefix = "module.";
  try {
    return load_state_dict(module, load_weights(path, opts), strict);
  } catch (const CheckpointError& e) {
    throw CheckpointError(path + ": " + e.what());
  }
}

namespace {
bool frozen_lang(const std::string& n) {
  return contains(n, "encoder.layer") && !contains(n, "1.self") && !contains(n, "1.output") && !contains(n, "adaptor");
}
bool frozen_vision(const std::string& n) { return contains(n, "transformer.resblocks") && !contains(n, "adaptor"); }
}  // namespace

void apply_freeze(torch::nn::Module& module, const std::string& mode) {
  if (mode != "none" && mode != "freeze_lang" && mode != "freeze_vision" && mode != "freeze_lang_vision")
    throw std::invalid_argument("unknown freeze mode '" + mode +
                                "' (known: none, freeze_lang, freeze_vision, freeze_lang_vision)");
  // Python's named_parameters() lists a tied parameter once, under its first name; the rule for that name wins.
  std::unordered_set<const void*> seen;
  for (auto& p : module.named_parameters(true)) {
    auto t = p.value();
    if (!seen.insert(t.unsafeGetTensorImpl()).second) continue;
    const std::string& n = p.key();
    bool frozen = false;
    if (mode == "freeze_lang") frozen = frozen_lang(n);
    else if (mode == "freeze_vision") frozen = frozen_vision(n);
    else if (mode == "freeze_lang_vision") frozen = frozen_lang(n) || frozen_vision(n);
    t.set_requires_grad(!frozen);
  }
}

std::vector<std::string> trainable_names(const torch::nn::Module& module) {
  std::vector<std::string> out;
  std::unordered_set<const void*> seen;
  for (const auto& p : module.named_parameters(true)) {
    if (!seen.insert(p.value().unsafeGetTensorImpl()).second) continue;
    if (p.value().requires_grad()) out.push_back(p.key());
  }
  return out;
}

}  // namespace prismer::backbone
