#include "normal_checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <map>
#include <set>
#include <sstream>

namespace prismer::normal {

namespace {

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

void list(std::ostringstream& out, const char* what, const std::vector<std::string>& names) {
  if (names.empty()) return;
  out << "\n" << names.size() << " " << what << ":";
  for (const auto& n : names) out << "\n  " << n;
}

}  // namespace

void load_state_dict(NNet& model, const TensorMap& weights, const std::string& source) {
  std::map<std::string, torch::Tensor> file;
  for (const auto& [name, t] : weights) file[name] = t;
  std::vector<std::string> missing, unexpected, mismatched;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  std::set<std::string> known;
  auto visit = [&](const std::string& name, const torch::Tensor& dst) {
    known.insert(name);
    const auto it = file.find(name);
    if (it == file.end()) return missing.push_back(name);
    if (it->second.sizes() != dst.sizes())
      return mismatched.push_back(name + ": file " + shape_of(it->second) + " vs model " + shape_of(dst));
    copies.emplace_back(dst, it->second);
  };
  for (const auto& p : model->named_parameters(true)) visit(p.key(), p.value());
  for (const auto& b : model->named_buffers(true)) visit(b.key(), b.value());
  for (const auto& [name, t] : weights)
    if (known.count(name) == 0U) unexpected.push_back(name);
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::ostringstream msg;
    msg << source << ": the weights do not match NLL-AngMF (" << weights.size() << " tensors in the file, "
        << known.size() << " in the model)";
    list(msg, "missing keys", missing);
    list(msg, "unexpected keys", unexpected);
    list(msg, "mis-shaped keys", mismatched);
    throw CheckpointError(msg.str());
  }
  torch::NoGradGuard no_grad;
  for (auto& [dst, src] : copies) dst.copy_(src.to(dst.device(), dst.scalar_type()));
}

void load_checkpoint(NNet& model, const std::string& path) {
  LoadWeightsOptions options;
  options.strip_prefix = "module.";  // the checkpoint was saved from nn.DataParallel
  load_state_dict(model, load_weights(path, options), path);
}

void random_init(NNet& model, std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (const auto& m : model->named_modules()) {
    auto& module = *m.value();
    if (auto* bn = module.as<torch::nn::BatchNorm2d>()) {
      bn->weight.normal_(1.0, 0.1, gen);
      bn->bias.normal_(0.0, 0.05, gen);
      bn->running_mean.normal_(0.0, 0.1, gen);
      bn->running_var.uniform_(0.5, 1.5, gen);
      continue;
    }
    for (auto& p : module.named_parameters(/*recurse=*/false)) {
      torch::Tensor t = p.value();
      if (p.key() == "bias") {
        t.normal_(0.0, 0.02, gen);
      } else {
        const double fan_in = static_cast<double>(t.numel() / t.size(0));
        t.normal_(0.0, 1.0 / std::sqrt(fan_in), gen);
      }
    }
  }
}

}  // namespace prismer::normal
