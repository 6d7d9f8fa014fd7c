#include "checkpoint.h"

#include <map>
#include <sstream>
#include <vector>

namespace prismer::experts::obj_detection {

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

bool ignored(const std::string& key) {
  return key == "pixel_mean" || key == "pixel_std" ||
         key.rfind("proposal_generator.anchor_generator.cell_anchors", 0) == 0;
}

}  // namespace

void load_state_dict(torch::nn::Module& model, const TensorMap& weights, const std::string& source) {
  std::map<std::string, torch::Tensor> targets;
  for (const auto& item : model.named_parameters(true)) targets.emplace(item.key(), item.value());
  for (const auto& item : model.named_buffers(true)) targets.emplace(item.key(), item.value());
  std::vector<std::string> missing, unexpected, mismatched;
  std::map<std::string, const torch::Tensor*> found;
  for (const auto& [name, tensor] : weights) {
    if (ignored(name)) continue;
    const auto it = targets.find(name);
    if (it == targets.end()) {
      unexpected.push_back(name);
    } else if (it->second.sizes() != tensor.sizes()) {
      mismatched.push_back(name + ": file " + shape(tensor) + ", model " + shape(it->second));
    } else {
      found[name] = &tensor;
    }
  }
  for (const auto& [name, t] : targets) {
    bool reported = found.count(name) > 0;
    for (const std::string& m : mismatched) reported = reported || m.rfind(name + ":", 0) == 0;
    if (!reported) missing.push_back(name);
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::ostringstream out;
    list(out, "missing key", missing);
    list(out, "unexpected key", unexpected);
    list(out, "mis-shaped key", mismatched);
    throw WeightFileError(source + ": does not match UniDet RS200 (Unified_learned_OCIM_RS200_6x+2x): " + out.str());
  }
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : found) targets.at(name).copy_(*tensor);
}

void load_official_weights(UniDet& model, const std::string& path) {
  load_state_dict(*model, load_weights(path), path);
}

}  // namespace prismer::experts::obj_detection
