// prepare_item: decode -> labels -> Transform -> post_label_process for one sample.
#include "prismer/data/prepare_item.h"

#include "prismer/data/expert_labels.h"
#include "prismer/data/transform.h"

#include <stdexcept>

namespace prismer::data {

std::string label_file(const Dataset& dataset, const Sample& sample, const std::string& label_root,
                       const std::string& expert, const std::string& ext) {
  std::string path = label_root;
  for (const std::string& part : {expert, dataset.label_subdir_of(sample), sample.label_name + ext}) {
    if (!path.empty() && path.back() != '/') path += '/';
    path += part;
  }
  return path;
}

PreparedItem prepare_item(const Dataset& dataset, std::size_t index, const ItemOptions& options,
                          const ClipFeatures* features, std::mt19937_64& rng) {
  PreparedItem item;
  item.sample = dataset.sample(index);
  const ExpertSample loaded = load_expert_labels(
      dataset.load_image(index),
      [&](const std::string& expert, const std::string& ext) {
        return label_file(dataset, item.sample, options.label_root, expert, ext);
      },
      options.experts);
  TransformedSample ts;
  if (options.train) {
    TrainTransformOptions t = options.train_options;
    t.resolution = options.resolution;
    const TrainDraws draws = draw_train_params(loaded.image.width, loaded.image.height, t, rng);
    const auto [image, labels] = apply_train_draws(loaded.image, loaded.labels, options.resolution, draws);
    ts = to_tensors(image, labels);
  } else {
    ts = transform_eval(loaded.image, loaded.labels, options.resolution);
  }
  item.rgb = ts.rgb;
  if (!options.experts.empty()) {
    static const ClipFeatures none;
    if (features == nullptr)
      for (const std::string& e : options.experts)
        if (e == "seg_coco" || e == "seg_ade" || e == "obj_detection" || e == "ocr_detection")
          throw std::invalid_argument("prepare_item: expert '" + e + "' needs the CLIP features (features_dir)");
    item.experts = post_label_process(ts, loaded.info, features != nullptr ? *features : none);
  }
  return item;
}

}  // namespace prismer::data
