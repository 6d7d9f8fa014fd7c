// nocaps: the NoCaps validation list of the original Caption dataset (nocaps_val.json, images under nocaps/),
// result image ids from each entry's img_id. NoCaps has no training list: fine-tune on COCO (the coco plugin).
#include <prismer/config.h>
#include <prismer/plugin.h>

#include "prismer/datasets/caption_lists.h"
#include "prismer/datasets/list_dataset.h"
#include "prismer/datasets/plugin_config.h"

namespace {

namespace pds = prismer::datasets;

class NoCaps final : public pds::ListDataset {
 public:
  explicit NoCaps(const prismer::Config& config) : ListDataset("nocaps") {
    pds::CaptionListOptions o;
    o.data_root = pds::require_folder(config, "root");
    o.folder = "nocaps";
    const std::string split = config.get<std::string>("split");
    if (split != "val") config["split"].fail("unknown split '" + split + "' (only val; train on COCO)");
    add(std::make_unique<pds::SampleVector>(pds::read_caption_eval(
        pds::require_file(config, "list", o.data_root, "nocaps_val.json"), o, pds::ImageIdRule::img_id_field)));
  }
};

}  // namespace

PRISMER_PLUGIN(NoCaps, "nocaps", dataset, "1.0.0", "NoCaps validation images (nocaps_val.json, images under nocaps/)",
               "root: \"\"     # data_path: nocaps_val.json and nocaps/val/ (required)\n"
               "split: val\n"
               "list: \"\"     # another list file (relative to root)\n")
