// web: CC3M / SBU / CC12M image-text pairs as img2dataset writes them — numbered folders of <key>.jpg + <key>.txt
// and webdataset .tar shards — under <root>/<name>/, with labels in folder <name> (the original's cc12m, cc3m_sgu).
#include <prismer/config.h>
#include <prismer/plugin.h>

#include "prismer/datasets/list_dataset.h"
#include "prismer/datasets/plugin_config.h"
#include "prismer/datasets/web_shards.h"

namespace {

namespace pds = prismer::datasets;

class WebPairs final : public pds::ListDataset {
 public:
  explicit WebPairs(const prismer::Config& config) : ListDataset(name_of(config)) {
    const std::string root = pds::require_folder(config, "root");
    add(std::make_unique<pds::WebShards>(root, label_subdir(), pds::positive_int(config, "max_words")));
    if (size() == 0) config["root"].fail("no .jpg under '" + root + "/" + label_subdir() + "/<shard>/' nor in its .tar shards");
  }

 private:
  static std::string name_of(const prismer::Config& config) {
    const std::string name = config.get<std::string>("name");
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
      config["name"].fail("must be one folder name, e.g. cc12m or cc3m_sgu");
    return name;
  }
};

}  // namespace

PRISMER_PLUGIN(WebPairs, "web", dataset, "1.0.0",
               "img2dataset image-text pairs (CC3M, SBU, CC12M): <root>/<name>/<shard>/ folders and .tar shards",
               "root: \"\"       # the folder holding <name>/ (the original's cc12m_data_path) (required)\n"
               "name: cc12m    # sub-folder and label folder: cc12m, cc3m_sgu, ...\n"
               "max_words: 30\n")
