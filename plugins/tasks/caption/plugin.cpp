// The `caption` task plugin.
#include "caption_task.h"

#include <prismer/config.h>
#include <prismer/plugin.h>

namespace {

prismer::caption::CaptionTaskOptions options_from(const prismer::Config& cfg) {
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
  return o;
}

class CaptionPlugin : public prismer::caption::CaptionTask {
 public:
  explicit CaptionPlugin(const prismer::Config& cfg) : CaptionTask(options_from(cfg)) {}
};

}  // namespace

PRISMER_PLUGIN(CaptionPlugin, "caption", task, "0.1.0",
               "Image captioning (PrismerCaption): prompt-masked label-smoothed loss, beam search, COCO metrics",
               "prefix: \"A picture of\"   # prompt; excluded from the loss and stripped from predictions\n"
               "max_caption_tokens: 30   # training truncation, <s> and </s> included\n"
               "num_beams: 3\n"
               "max_length: 20           # generated length limit, prompt included\n"
               "min_length: 8            # EOS forbidden below this length (prompt included)\n"
               "length_penalty: 1.0\n"
               "early_stop_rule: \"4.26\"  # transformers 4.26 (cur_len) or 4.27 (cur_len + 1) is_done length\n")
