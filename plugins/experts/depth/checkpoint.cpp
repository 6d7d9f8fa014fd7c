#include "checkpoint.h"

#include <algorithm>
#include <map>
#include <sstream>

namespace prismer::experts::depth {

namespace {

std::string shape(const torch::Tensor& t) {
  std::ostringstream ss;
  ss << t.sizes();
  return ss.str();
}

void list(std::ostringstream& out, const char* what, const std::vector<std::string>& names) {
  if (names.empty()) return;
  if (out.tellp() > 0) out << "; ";
  out << names.size() << ' ' << what << (names.size() == 1 ? "" : "s") << ": ";
  for (std::size_t i = 0; i < names.size(); ++i) out << (i ? ", " : "") << names[i];
}

}  // namespace

std::string LoadReport::describe() const {
  std::ostringstream out;
  list(out, "missing key", missing);
  list(out, "unexpected key", unexpected);
  list(out, "mis-shaped key", mismatched);
  return out.str();
}

void load_state_dict(torch::nn::Module& module, const TensorMap& weights, const std::string& source) {
  std::map<std::string, torch::Tensor> targets;
  for (const auto& item : module.named_parameters(true)) targets.emplace(item.key(), item.value());
  for (const auto& item : module.named_buffers(true)) targets.emplace(item.key(), item.value());
  LoadReport report;
  std::map<std::string, const torch::Tensor*> found;
  for (const auto& [name, tensor] : weights) {
    const auto it = targets.find(name);
    if (it == targets.end()) {
      report.unexpected.push_back(name);
    } else if (it->second.sizes() != tensor.sizes()) {
      report.mismatched.push_back(name + ": file " + shape(tensor) + ", model " + shape(it->second));
    } else if (!tensor.is_floating_point()) {
      report.mismatched.push_back(name + ": file holds " + std::string(c10::toString(tensor.scalar_type())) +
                                  ", expected floating point");
    } else {
      found[name] = &tensor;
    }
  }
  for (const auto& [name, t] : targets)
    if (found.count(name) == 0U && std::none_of(report.mismatched.begin(), report.mismatched.end(),
                                                [&](const std::string& m) { return m.rfind(name + ":", 0) == 0; }))
      report.missing.push_back(name);
  if (!report.ok())
    throw WeightFileError(source + ": does not match DPT-Hybrid (vitb_rn50_384, strict load): " + report.describe());
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : found) targets.at(name).copy_(*tensor);
}

void load_official_weights(DptDepthModel& model, const std::string& path) {
  // load_weights takes the "model" entry of a training checkpoint (BaseModel.load: if "optimizer" in the file).
  const TensorMap weights = load_weights(path);
  load_state_dict(*model, weights, path);
}

}  // namespace prismer::experts::depth
