// coco: the COCO Karpathy caption lists of the original Caption dataset — coco_karpathy_train.json for training,
// coco_karpathy_test.json for evaluation (reference captions as ground truth, image ids from the file names).
#include <prismer/config.h>
#include <prismer/plugin.h>

#include "prismer/datasets/caption_lists.h"
#include "prismer/datasets/list_dataset.h"
#include "prismer/datasets/plugin_config.h"

namespace {

namespace pds = prismer::datasets;

class CocoCaptions final : public pds::ListDataset {
 public:
  explicit CocoCaptions(const prismer::Config& config) : ListDataset("vqav2") {
    pds::CaptionListOptions o;
    o.data_root = pds::require_folder(config, "root");
    o.folder = "vqav2";  // COCO images and their labels live in the VQAv2 folder, as in the original
    o.prefix = config.get<std::string>("prefix");
    o.max_words = pds::positive_int(config, "max_words");
    const std::string split = config.get<std::string>("split");
    if (split == "train") {
      add(std::make_unique<pds::SampleVector>(
          pds::read_caption_train(pds::require_file(config, "list", o.data_root, "coco_karpathy_train.json"), o)));
    } else if (split == "test") {
      add(std::make_unique<pds::SampleVector>(pds::read_caption_eval(
          pds::require_file(config, "list", o.data_root, "coco_karpathy_test.json"), o, pds::ImageIdRule::coco_file_name)));
    } else {
      config["split"].fail("unknown split '" + split + "' (train or test)");
    }
  }
};

}  // namespace

PRISMER_PLUGIN(CocoCaptions, "coco", dataset, "1.0.0",
               "COCO captions, Karpathy split (coco_karpathy_train/test.json, images under vqav2/)",
               "root: \"\"                # data_path: the lists and vqav2/{train2014,val2014}/ (required)\n"
               "split: test             # train or test\n"
               "list: \"\"                # another list file (relative to root); default by split\n"
               "prefix: A picture of    # training prompt; '' for none\n"
               "max_words: 30\n")
