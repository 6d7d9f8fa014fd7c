// The `caption` task plugin.
#include "caption_task.h"

#include <prismer/config.h>
#include <prismer/plugin.h>

#include <stdexcept>

namespace {

prismer::caption::CaptionTaskOptions options_from(const prismer::Config& cfg) {
  using prismer::caption::CaptionDecoding;
  prismer::caption::CaptionTaskOptions o;
  o.prefix = cfg.get<std::string>("prefix", o.prefix);
  o.max_caption_tokens = cfg.get<std::int64_t>("max_caption_tokens", o.max_caption_tokens);
  o.beam.num_beams = cfg.get<std::int64_t>("num_beams", o.beam.num_beams);
  o.beam.max_length = cfg.get<std::int64_t>("max_length", o.beam.max_length);
  o.beam.min_length = cfg.get<std::int64_t>("min_length", o.beam.min_length);
  o.beam.length_penalty = cfg.get<double>("length_penalty", o.beam.length_penalty);
  if (o.beam.num_beams < 1) cfg["num_beams"].fail("must be >= 1");
  if (o.beam.max_length < 1) cfg["max_length"].fail("must be >= 1");
  const std::string rule = cfg.get<std::string>("early_stop_rule", "4.26");
  if (rule == "4.26") o.beam.rule = prismer::caption::EarlyStopRule::kTransformers4_26;
  else if (rule == "4.27") o.beam.rule = prismer::caption::EarlyStopRule::kTransformers4_27;
  else cfg["early_stop_rule"].fail("must be \"4.26\" or \"4.27\"");

  o.sampling.max_length = o.beam.max_length;
  o.sampling.min_length = o.beam.min_length;
  o.sampling.temperature = cfg.get<double>("temperature", o.sampling.temperature);
  o.sampling.top_k = cfg.get<std::int64_t>("top_k", o.sampling.top_k);
  o.sampling.top_p = cfg.get<double>("top_p", o.sampling.top_p);
  o.sampling.seed = static_cast<std::uint64_t>(cfg.get<std::int64_t>("seed", 0));
  if (!(o.sampling.temperature > 0.0)) cfg["temperature"].fail("must be > 0");
  if (o.sampling.top_k < 0) cfg["top_k"].fail("must be >= 0 (0 = off)");
  if (!(o.sampling.top_p > 0.0 && o.sampling.top_p <= 1.0)) cfg["top_p"].fail("must be in (0, 1] (1 = off)");

  const std::string inference = cfg.get<std::string>("inference", "generate");
  const std::string decoding = cfg.get<std::string>("decoding", "beam");
  if (decoding == "beam") o.decoding = CaptionDecoding::kBeam;
  else if (decoding == "greedy") o.decoding = CaptionDecoding::kGreedy;
  else if (decoding == "sample") o.decoding = CaptionDecoding::kSample;
  else cfg["decoding"].fail("must be beam, greedy or sample");
  if (inference == "rank") {
    o.decoding = CaptionDecoding::kRank;
    o.k_test = cfg.get<std::int64_t>("k_test", o.k_test);
    if (o.k_test < 1) cfg["k_test"].fail("must be >= 1");
    o.candidates = cfg.get<std::vector<std::string>>("candidates", {});
    const std::string file = cfg.get<std::string>("candidates_file", "");
    if (!file.empty()) {
      try {
        for (auto& c : prismer::caption::load_candidate_list(file)) o.candidates.push_back(std::move(c));
      } catch (const std::exception& e) {
        cfg["candidates_file"].fail(e.what());
      }
    }
    if (o.candidates.empty()) cfg["inference"].fail("rank needs 'candidates' or 'candidates_file'");
  } else if (inference != "generate") {
    cfg["inference"].fail("must be generate or rank");
  }
  return o;
}

class CaptionPlugin : public prismer::caption::CaptionTask {
 public:
  explicit CaptionPlugin(const prismer::Config& cfg) : CaptionTask(options_from(cfg)) {}
};

}  // namespace

PRISMER_PLUGIN(CaptionPlugin, "caption", task, "0.2.0",
               "Image captioning (PrismerCaption): prompt-masked label-smoothed loss, beam search / greedy / "
               "nucleus sampling / candidate ranking, COCO metrics",
               "prefix: \"A picture of\"   # prompt; excluded from the loss and stripped from predictions\n"
               "max_caption_tokens: 30   # training truncation, <s> and </s> included\n"
               "inference: generate      # generate | rank (pick the best of the candidates)\n"
               "decoding: beam           # generate: beam | greedy | sample\n"
               "num_beams: 3\n"
               "max_length: 20           # generated length limit, prompt included\n"
               "min_length: 8            # EOS forbidden below this length (prompt included)\n"
               "length_penalty: 1.0\n"
               "early_stop_rule: \"4.26\"  # transformers 4.26 (cur_len) or 4.27 (cur_len + 1) is_done length\n"
               "temperature: 1.0         # sample: logits / temperature\n"
               "top_k: 50                # sample: keep the k most probable tokens (0 = off; 50 = HF's default)\n"
               "top_p: 0.9               # sample: nucleus mass (1 = off)\n"
               "seed: 0                  # sample: generator seed\n"
               "k_test: 32               # rank: candidates kept by the first-token filter\n"
               "candidates: []           # rank: candidate captions\n"
               "candidates_file: \"\"      # rank: JSON array of candidate captions\n")
