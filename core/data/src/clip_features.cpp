// Reading the CLIP feature files with the project's own unpickler.
#include "prismer/data/clip_features.h"

#include <prismer/weights.h>
#include <torch/torch.h>

#include <stdexcept>

namespace prismer::data {

namespace {

torch::Tensor read_features(const std::string& path, bool bare) {
  const PickleValue v = load_pickle_file(path);
  if (bare) {
    if (!v.is(PickleValue::Type::tensor)) throw std::runtime_error(path + ": expected a bare tensor, got " + v.type_name());
    return v.tensor().to(torch::kFloat32).contiguous();
  }
  const PickleValue* f = v.find("features");
  if (f == nullptr || !f->is(PickleValue::Type::tensor)) throw std::runtime_error(path + ": no 'features' tensor");
  if (f->tensor().dim() != 2) throw std::runtime_error(path + ": 'features' must be [K, D]");
  return f->tensor().to(torch::kFloat32).contiguous();
}

}  // namespace

ClipFeatures load_clip_features(const std::string& dir) {
  ClipFeatures f;
  f.coco = read_features(dir + "/coco_features.pt", false);
  f.ade = read_features(dir + "/ade_features.pt", false);
  f.detection = read_features(dir + "/detection_features.pt", false);
  f.background = read_features(dir + "/background_features.pt", true);
  return f;
}

}  // namespace prismer::data
