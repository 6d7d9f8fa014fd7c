#include "checkpoint.h"

#include <algorithm>
#include <map>
#include <sstream>

namespace prismer::experts::seg {

namespace {

const std::string kHead = "sem_seg_head.";
const std::string kPixelDecoder = "sem_seg_head.pixel_decoder.";
const std::string kPredictor = "sem_seg_head.predictor.";

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

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

TensorMap upgrade_keys(const TensorMap& file) {
  const bool all_module = !file.empty() && std::all_of(file.begin(), file.end(), [](const auto& kv) {
    return starts_with(kv.first, "module.");
  });
  TensorMap out;
  out.reserve(file.size());
  for (const auto& [key, tensor] : file) {
    std::string k = all_module ? key.substr(7) : key;
    if (starts_with(k, kHead) && !starts_with(k, kPredictor)) k = kPixelDecoder + k.substr(kHead.size());
    if (starts_with(k, kPredictor)) {
      const auto pos = k.find("static_query");
      if (pos != std::string::npos) k.replace(pos, 12, "query_feat");
    }
    out.emplace_back(std::move(k), tensor);
  }
  return out;
}

TensorMap to_file_keys(const TensorMap& model_keys) {
  TensorMap out;
  out.reserve(model_keys.size());
  for (const auto& [key, tensor] : model_keys)
    out.emplace_back(starts_with(key, kPixelDecoder) ? kHead + key.substr(kPixelDecoder.size()) : key, tensor);
  return out;
}

void load_state_dict(Mask2FormerImpl& model, const TensorMap& weights, const std::string& source) {
  std::map<std::string, torch::Tensor> targets;
  for (const auto& item : model.named_parameters(true)) targets.emplace(item.key(), item.value());
  for (const auto& item : model.named_buffers(true)) targets.emplace(item.key(), item.value());
  std::vector<std::string> missing, unexpected, mismatched;
  std::map<std::string, const torch::Tensor*> found;
  const torch::Tensor expected_index = relative_position_index(model.config().swin.window_size);
  for (const auto& [name, tensor] : weights) {
    if (name == "criterion.empty_weight" || name == "pixel_mean" || name == "pixel_std") continue;
    if (ends_with(name, ".attn.relative_position_index")) {
      if (!tensor.sizes().equals(expected_index.sizes()))
        mismatched.push_back(name + ": file " + shape(tensor) + ", model " + shape(expected_index));
      else if (!torch::equal(tensor.to(torch::kLong), expected_index))
        mismatched.push_back(name + ": differs from Swin's relative position index for window " +
                             std::to_string(model.config().swin.window_size));
      continue;
    }
    const auto it = targets.find(name);
    if (it == targets.end()) {
      unexpected.push_back(name);
    } else if (!it->second.sizes().equals(tensor.sizes())) {
      mismatched.push_back(name + ": file " + shape(tensor) + ", model " + shape(it->second));
    } else if (!tensor.is_floating_point()) {
      mismatched.push_back(name + ": file holds " + std::string(c10::toString(tensor.scalar_type())) +
                           ", expected floating point");
    } else {
      found[name] = &tensor;
    }
  }
  for (const auto& [name, t] : targets)
    if (found.count(name) == 0U && std::none_of(mismatched.begin(), mismatched.end(), [&](const std::string& m) {
          return m.rfind(name + ":", 0) == 0;
        }))
      missing.push_back(name);
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::ostringstream what;
    list(what, "missing key", missing);
    list(what, "unexpected key", unexpected);
    list(what, "mis-shaped key", mismatched);
    throw WeightFileError(source + ": does not match Mask2Former Swin-L (" + std::to_string(model.config().num_classes) +
                          " classes, strict load): " + what.str());
  }
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : found) targets.at(name).copy_(*tensor);
}

void load_official_weights(Mask2FormerImpl& model, const std::string& path) {
  load_state_dict(model, upgrade_keys(load_weights(path)), path);
}

}  // namespace prismer::experts::seg
