// vg: Visual Genome — region captions (vg_caption.json, as the original Pretrain reads them) or question-answer
// pairs (vg_qa.json, as the original VQA reads them, every answer weighted 0.2); images and labels under vg/.
#include <prismer/config.h>
#include <prismer/plugin.h>

#include "prismer/datasets/caption_lists.h"
#include "prismer/datasets/list_dataset.h"
#include "prismer/datasets/plugin_config.h"
#include "prismer/datasets/vqa_lists.h"

namespace {

namespace pds = prismer::datasets;

class VisualGenome final : public pds::ListDataset {
 public:
  explicit VisualGenome(const prismer::Config& config) : ListDataset("vg") {
    const std::string root = pds::require_folder(config, "root");
    const int max_words = pds::positive_int(config, "max_words");
    const std::string content = config.get<std::string>("content");
    if (content == "caption") {
      add(std::make_unique<pds::SampleVector>(
          pds::read_vg_captions(pds::require_file(config, "list", root, "vg_caption.json"), root, max_words)));
    } else if (content == "qa") {
      add(std::make_unique<pds::SampleVector>(
          pds::read_vqa_train(pds::require_file(config, "list", root, "vg_qa.json"), root, max_words)));
    } else {
      config["content"].fail("unknown content '" + content + "' (caption or qa)");
    }
  }
};

}  // namespace

PRISMER_PLUGIN(VisualGenome, "vg", dataset, "1.0.0", "Visual Genome captions (vg_caption.json) or QA (vg_qa.json)",
               "root: \"\"          # the lists and vg/ images (required)\n"
               "content: caption  # caption or qa\n"
               "list: \"\"          # another list file (relative to root)\n"
               "max_words: 30\n")
