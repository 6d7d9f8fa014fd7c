// Caption lists: coco_karpathy_train/test.json, nocaps_val.json, vg_caption.json -> Samples.
#include "prismer/datasets/caption_lists.h"

#include "prismer/data/text_clean.h"
#include "prismer/datasets/coco_image_id.h"
#include "prismer/datasets/json_list.h"
#include "prismer/datasets/paths.h"
#include "text_errors.h"

#include <stdexcept>

namespace prismer::datasets {

Sample list_sample(const std::string& data_root, const std::string& folder, const std::string& image) {
  Sample s;
  s.image_path = join_path(join_path(data_root, folder), image);
  s.label_subdir = folder;
  s.label_name = label_name_of(image);
  return s;
}

void set_caption(Sample& sample, const std::string& raw, const std::string& prefix, int max_words) {
  if (prefix.empty()) {
    sample.text["caption"] = data::pre_caption(raw, max_words);
    return;
  }
  const std::string full = data::pre_caption(prefix + " " + raw, max_words);
  const std::string prompt = data::pre_caption(prefix, max_words);
  if (full.size() > prompt.size() && full.compare(0, prompt.size() + 1, prompt + " ") == 0) {
    sample.text["prompt"] = prompt;
    sample.text["caption"] = full.substr(prompt.size() + 1);
  } else {
    sample.text["prompt"] = full;  // nothing but the prompt survived the clean-up
    sample.text["caption"] = "";
  }
}

std::vector<Sample> read_caption_train(const std::string& file, const CaptionListOptions& o) {
  const JsonList list(file);
  std::vector<Sample> out;
  out.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string image = list.string(i, "image");
    if (o.require_coco_split && image.find("train2014") == std::string::npos && image.find("val2014") == std::string::npos)
      list.fail(i, "image '" + image + "' is in neither train2014 nor val2014 (the original routes COCO images by these names)");
    Sample s = list_sample(o.data_root, o.folder, image);
    s.id = o.folder + "/" + image + "#" + std::to_string(i);
    s.numeric_id = coco_image_id(image).value_or(-1);
    const std::string raw = list.string(i, "caption");
    with_text_errors(list, i, [&] { set_caption(s, raw, o.prefix, o.max_words); });
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Sample> read_caption_eval(const std::string& file, const CaptionListOptions& o, ImageIdRule rule) {
  const JsonList list(file);
  std::vector<Sample> out;
  out.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string image = list.string(i, "image");
    Sample s = list_sample(o.data_root, o.folder, image);
    s.id = o.folder + "/" + image;
    if (rule == ImageIdRule::img_id_field) {
      s.numeric_id = list.integer(i, "img_id");
    } else {
      const auto id = coco_image_id(image);
      if (!id) list.fail(i, "cannot read a COCO image id from '" + image + "' (expected ..._<digits>.jpg)");
      s.numeric_id = *id;
    }
    if (list.has(i, "caption")) s.answers = list.strings(i, "caption");
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Sample> read_vg_captions(const std::string& file, const std::string& data_root, int max_words) {
  const JsonList list(file);
  std::vector<Sample> out;
  out.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string image = list.string(i, "image");
    if (image.find("visual-genome") == std::string::npos)
      list.fail(i, "image '" + image + "' does not contain 'visual-genome' (the original routes VG images by it)");
    const std::string name = last_components(image, 2);
    Sample s = list_sample(data_root, "vg", name);
    s.id = "vg/" + name + "#" + std::to_string(i);
    const std::string raw = list.string(i, "caption");
    with_text_errors(list, i, [&] { set_caption(s, raw, "", max_words); });
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace prismer::datasets
