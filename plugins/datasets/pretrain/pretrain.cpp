// pretrain: the original Pretrain mix in one config — CC12M and CC3M+SBU (img2dataset output), COCO Karpathy
// train captions and Visual Genome captions, each labelled in its own folder (cc12m, cc3m_sgu, vqav2, vg).
#include <prismer/config.h>
#include <prismer/plugin.h>

#include "prismer/datasets/caption_lists.h"
#include "prismer/datasets/list_dataset.h"
#include "prismer/datasets/paths.h"
#include "prismer/datasets/plugin_config.h"
#include "prismer/datasets/web_shards.h"

#include <algorithm>

namespace {

namespace pds = prismer::datasets;

const char* const kSources[] = {"cc12m", "cc3m_sgu", "coco", "vg"};

std::string label_folder(const std::string& source) { return source == "coco" ? "vqav2" : source; }

class Pretrain final : public pds::ListDataset {
 public:
  explicit Pretrain(const prismer::Config& config) : ListDataset(first_folder(config)) {
    const std::string root = config.get<std::string>("root");
    const int max_words = pds::positive_int(config, "max_words");
    const auto wanted = config.get<std::vector<std::string>>("datasets");
    auto wants = [&](const char* s) { return std::find(wanted.begin(), wanted.end(), s) != wanted.end(); };
    // The original's order: cc12m, cc3m_sgu, coco, vg, whatever the order of `datasets`.
    if (wants("cc12m"))
      add(std::make_unique<pds::WebShards>(pds::require_folder(config, "cc12m_data_path", root), "cc12m", max_words));
    if (wants("cc3m_sgu"))
      add(std::make_unique<pds::WebShards>(pds::require_folder(config, "cc3m_data_path", root), "cc3m_sgu", max_words));
    if (wants("coco")) {
      pds::CaptionListOptions o;
      o.data_root = pds::require_folder(config, "coco_data_path", root);
      o.folder = "vqav2";
      o.max_words = max_words;
      o.require_coco_split = true;
      add(std::make_unique<pds::SampleVector>(pds::read_caption_train(
          pds::require_file(config, "coco_list", o.data_root, "coco_karpathy_train.json"), o)));
    }
    if (wants("vg")) {
      const std::string vg = pds::require_folder(config, "vg_data_path", root);
      add(std::make_unique<pds::SampleVector>(
          pds::read_vg_captions(pds::require_file(config, "vg_list", vg, "vg_caption.json"), vg, max_words)));
    }
    if (size() == 0) config["datasets"].fail("no samples in any of the listed sources");
  }

 private:
  static std::string first_folder(const prismer::Config& config) {
    const auto wanted = config.get<std::vector<std::string>>("datasets");
    if (wanted.empty()) config["datasets"].fail("list at least one of cc12m, cc3m_sgu, coco, vg");
    for (const std::string& s : wanted)
      if (std::find(std::begin(kSources), std::end(kSources), s) == std::end(kSources))
        config["datasets"].fail("unknown source '" + s + "' (cc12m, cc3m_sgu, coco, vg)");
    for (const char* s : kSources)
      if (std::find(wanted.begin(), wanted.end(), s) != wanted.end()) return label_folder(s);
    return label_folder(wanted.front());
  }
};

}  // namespace

PRISMER_PLUGIN(Pretrain, "pretrain", dataset, "1.0.0",
               "The pre-training mix: CC12M, CC3M+SBU (img2dataset), COCO and Visual Genome captions",
               "root: \"\"                 # base of the relative paths below (empty: they must be absolute)\n"
               "datasets: [cc12m, cc3m_sgu, coco, vg]\n"
               "cc12m_data_path: \"\"      # holds cc12m/<shard>/ (empty: root)\n"
               "cc3m_data_path: \"\"       # holds cc3m_sgu/<shard>/\n"
               "coco_data_path: \"\"       # coco_karpathy_train.json and vqav2/\n"
               "vg_data_path: \"\"         # vg_caption.json and vg/\n"
               "coco_list: \"\"            # default coco_karpathy_train.json\n"
               "vg_list: \"\"              # default vg_caption.json\n"
               "max_words: 30\n")
