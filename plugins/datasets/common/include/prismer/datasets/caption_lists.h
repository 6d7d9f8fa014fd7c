// The caption data lists of the original Caption and Pretrain datasets, as Samples.
#pragma once

#include <prismer/sample.h>

#include <string>
#include <vector>

namespace prismer::datasets {

/// A list sample: image `<data_root>/<folder>/<image>` (os.path.join), labels in folder `folder` under the name
/// get_expert_labels derives from `image`.
Sample list_sample(const std::string& data_root, const std::string& folder, const std::string& image);

/// The caption text the original returns: `pre_caption(prefix + ' ' + raw, max_words)`, or `pre_caption(raw)`
/// without a prefix. With a prefix, the cleaned prompt goes to text["prompt"] and the rest to text["caption"]
/// (tasks prepend their prompt themselves), so `prompt + ' ' + caption` is the original's string.
void set_caption(Sample& sample, const std::string& raw, const std::string& prefix, int max_words);

/// Options of a caption list.
struct CaptionListOptions {
  std::string data_root;     ///< data_path of the original
  std::string folder;        ///< image (and label) sub-folder: "vqav2" for COCO, "nocaps"
  std::string prefix;        ///< training prompt ("A picture of"), empty for pretraining
  int max_words = 30;
  bool require_coco_split = false;  ///< Pretrain: the image path must contain train2014 or val2014
};

/// A training list ({image, caption}, e.g. coco_karpathy_train.json): one sample per entry, id
/// "<folder>/<image>#<index>", numeric_id the COCO id of the file name when it has one.
std::vector<Sample> read_caption_train(const std::string& file, const CaptionListOptions& options);

/// How an evaluation list names the image id of the result file.
enum class ImageIdRule {
  coco_file_name,  ///< coco_karpathy_test.json: int(basename.strip('.jpg').split('_')[-1])
  img_id_field,    ///< nocaps_val.json: the entry's 'img_id'
};

/// An evaluation list ({image[, caption: refs][, img_id]}): id "<folder>/<image>", numeric_id per `rule`,
/// answers = the reference captions when the entry has them (the ground truth the caption metrics need).
std::vector<Sample> read_caption_eval(const std::string& file, const CaptionListOptions& options, ImageIdRule rule);

/// vg_caption.json ({image containing 'visual-genome', caption}): image `<data_root>/vg/<last two components>`,
/// caption `pre_caption(caption, max_words)`, id "vg/<sub>/<file>#<index>".
std::vector<Sample> read_vg_captions(const std::string& file, const std::string& data_root, int max_words);

}  // namespace prismer::datasets
