// The `vqa` task plugin.
#include "vqa_task.h"

#include <prismer/config.h>
#include <prismer/plugin.h>

#include <stdexcept>

namespace {

prismer::vqa::VqaTaskOptions options_from(const prismer::Config& cfg) {
  using prismer::vqa::VqaInference;
  prismer::vqa::VqaTaskOptions o;
  const std::string inference = cfg.get<std::string>("inference", "generate");
  if (inference == "generate") o.inference = VqaInference::kGenerate;
  else if (inference == "rank") o.inference = VqaInference::kRank;
  else cfg["inference"].fail("must be generate or rank");
  o.max_question_tokens = cfg.get<std::int64_t>("max_question_tokens", o.max_question_tokens);
  if (o.max_question_tokens < 1) cfg["max_question_tokens"].fail("must be >= 1");
  o.k_test = cfg.get<std::int64_t>("k_test", o.k_test);
  if (o.k_test < 1) cfg["k_test"].fail("must be >= 1");
  o.answer_list = cfg.get<std::vector<std::string>>("answers", {});
  const std::string file = cfg.get<std::string>("answer_list", "");
  if (!file.empty()) {
    try {
      for (auto& a : prismer::caption::load_candidate_list(file)) o.answer_list.push_back(std::move(a));
    } catch (const std::exception& e) {
      cfg["answer_list"].fail(e.what());
    }
  }
  o.beam.num_beams = cfg.get<std::int64_t>("num_beams", o.beam.num_beams);
  if (o.beam.num_beams < 1) cfg["num_beams"].fail("must be >= 1");
  o.beam.length_penalty = cfg.get<double>("length_penalty", o.beam.length_penalty);
  o.max_new_tokens = cfg.get<std::int64_t>("max_new_tokens", o.max_new_tokens);
  if (o.max_new_tokens < 1) cfg["max_new_tokens"].fail("must be >= 1");
  o.min_new_tokens = cfg.get<std::int64_t>("min_new_tokens", o.min_new_tokens);
  if (o.min_new_tokens < 0) cfg["min_new_tokens"].fail("must be >= 0");
  const std::string rule = cfg.get<std::string>("early_stop_rule", "4.26");
  if (rule == "4.26") o.beam.rule = prismer::caption::EarlyStopRule::kTransformers4_26;
  else if (rule == "4.27") o.beam.rule = prismer::caption::EarlyStopRule::kTransformers4_27;
  else cfg["early_stop_rule"].fail("must be \"4.26\" or \"4.27\"");
  o.default_weight = cfg.get<float>("default_weight", o.default_weight);
  o.vg_weight = cfg.get<float>("vg_weight", o.vg_weight);
  return o;
}

class VqaPlugin : public prismer::vqa::VqaTask {
 public:
  explicit VqaPlugin(const prismer::Config& cfg) : VqaTask(options_from(cfg)) {}
};

}  // namespace

PRISMER_PLUGIN(VqaPlugin, "vqa", task, "0.1.0",
               "Visual question answering (PrismerVQA): weighted answer loss, answer ranking or beam-search "
               "answers, VQA accuracy, [{question_id, answer}] results",
               "inference: generate      # generate | rank (Prismer's vqa.yaml: rank, k_test 16, answer_list.json)\n"
               "k_test: 16               # rank: answers kept by the first-token filter\n"
               "answer_list: \"\"          # rank: JSON array of candidate answers (else the dataset's answer_list.json)\n"
               "answers: []              # rank: candidate answers given inline (added to answer_list)\n"
               "max_question_tokens: 35  # question truncation, <s> included\n"
               "num_beams: 3             # generate\n"
               "length_penalty: -1.0     # generate: hypothesis score = sum log-probs * length\n"
               "max_new_tokens: 10       # generate: max_length = question length + this\n"
               "min_new_tokens: 2        # generate: EOS forbidden before question length + this\n"
               "early_stop_rule: \"4.26\"  # transformers 4.26 (cur_len) or 4.27 (cur_len + 1) is_done length\n"
               "default_weight: 1.0      # loss weight of an answer the dataset gives no weight\n"
               "vg_weight: 0.2           # ... of a Visual Genome sample (text.dataset == vg)\n")
