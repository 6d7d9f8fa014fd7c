#include "checkpoint.h"

#include <torch/torch.h>

#include <map>
#include <sstream>
#include <vector>

namespace prismer::experts::ocr {

namespace {

void list(std::ostringstream& out, const char* what, const std::vector<std::string>& names) {
  if (names.empty()) return;
  if (out.tellp() > 0) out << "; ";
  out << names.size() << ' ' << what << (names.size() == 1 ? "" : "s") << ": ";
  for (std::size_t i = 0; i < names.size(); ++i) out << (i ? ", " : "") << names[i];
}

}  // namespace

void load_state_dict_strict(torch::nn::Module& module, const TensorMap& weights, const std::string& source,
                            const std::string& what) {
  std::map<std::string, torch::Tensor> targets;
  for (const auto& item : module.named_parameters(true)) targets.emplace(item.key(), item.value());
  for (const auto& item : module.named_buffers(true)) targets.emplace(item.key(), item.value());
  std::vector<std::string> unexpected, mismatched, missing;
  std::map<std::string, torch::Tensor> found;
  for (const auto& [name, tensor] : weights) {
    const auto it = targets.find(name);
    if (it == targets.end()) {
      unexpected.push_back(name);
    } else if (it->second.sizes() != tensor.sizes()) {
      std::ostringstream m;
      m << name << ": file " << tensor.sizes() << ", model " << it->second.sizes();
      mismatched.push_back(m.str());
    } else {
      found[name] = tensor;
    }
  }
  for (const auto& [name, t] : targets) {
    if (found.count(name) != 0U) continue;
    bool shaped = false;
    for (const std::string& m : mismatched) shaped = shaped || m.rfind(name + ":", 0) == 0;
    if (!shaped) missing.push_back(name);
  }
  std::ostringstream report;
  list(report, "missing key", missing);
  list(report, "unexpected key", unexpected);
  list(report, "mis-shaped key", mismatched);
  if (report.tellp() > 0)
    throw WeightFileError(source + ": does not match " + what + " (strict load): " + report.str());
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : found) {
    torch::Tensor& target = targets.at(name);
    target.copy_(tensor.to(target.scalar_type()));
  }
}

}  // namespace prismer::experts::ocr
