// vqav2: the question lists of the original VQA dataset — vqav2_train_val.json (+ vg_qa.json) with answers and
// weights for training, vqav2_test.json with question ids and answer_list.json for evaluation.
#include <prismer/config.h>
#include <prismer/plugin.h>

#include "prismer/datasets/list_dataset.h"
#include "prismer/datasets/plugin_config.h"
#include "prismer/datasets/vqa_lists.h"

#include <algorithm>

namespace {

namespace pds = prismer::datasets;

class Vqav2 final : public pds::ListDataset {
 public:
  explicit Vqav2(const prismer::Config& config) : ListDataset("vqav2") {
    const std::string root = pds::require_folder(config, "root");
    const int max_words = pds::positive_int(config, "max_words");
    const std::string split = config.get<std::string>("split");
    if (split == "train") {
      const auto sources = config.get<std::vector<std::string>>("datasets");
      for (const std::string& s : sources)
        if (s != "vqav2" && s != "vg") config["datasets"].fail("unknown source '" + s + "' (vqav2, vg)");
      auto wants = [&](const char* s) { return std::find(sources.begin(), sources.end(), s) != sources.end(); };
      if (wants("vqav2"))
        add(std::make_unique<pds::SampleVector>(
            pds::read_vqa_train(pds::require_file(config, "list", root, "vqav2_train_val.json"), root, max_words)));
      if (wants("vg"))
        add(std::make_unique<pds::SampleVector>(
            pds::read_vqa_train(pds::require_file(config, "vg_list", root, "vg_qa.json"), root, max_words)));
    } else if (split == "test") {
      add(std::make_unique<pds::SampleVector>(
          pds::read_vqa_eval(pds::require_file(config, "list", root, "vqav2_test.json"), root, max_words)));
      set_answer_list(pds::read_answer_list(pds::require_file(config, "answer_list", root, "answer_list.json")));
    } else {
      config["split"].fail("unknown split '" + split + "' (train or test)");
    }
  }
};

}  // namespace

PRISMER_PLUGIN(Vqav2, "vqav2", dataset, "1.0.0",
               "VQAv2 questions (vqav2_train_val.json + vg_qa.json / vqav2_test.json + answer_list.json)",
               "root: \"\"               # data_path: the lists, vqav2/ and vg/ images (required)\n"
               "split: test            # train or test\n"
               "datasets: [vqav2, vg]  # training sources\n"
               "list: \"\"               # another VQAv2 list (relative to root); default by split\n"
               "vg_list: \"\"            # another Visual Genome QA list; default vg_qa.json\n"
               "answer_list: \"\"        # default answer_list.json (test)\n"
               "max_words: 30\n")
