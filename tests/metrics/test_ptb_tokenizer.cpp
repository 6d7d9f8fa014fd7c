// PTB tokenisation against tokenized.json: every reference and every candidate of every results file must
// come out exactly as the Java PTBTokenizer + pycocoevalcap filter produced it. Data-driven: every key of
// tokenized.json other than "gts" names a results file in the same folder.
#include "fixtures.h"

#include <prismer/metrics/caption_data.h>
#include <prismer/metrics/ptb_tokenizer.h>

#include <nlohmann/json.hpp>

namespace pm = prismer::metrics;
namespace pt = prismer::test;

namespace {

const pt::fs::path kDir = pt::fixtures_root() / "metrics" / "coco_caption";

int compare_batch(const std::string& name, const std::vector<std::string>& raw, const std::vector<std::string>& got,
                  const std::vector<std::string>& want) {
  REQUIRE(got.size() == want.size());
  int mismatches = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) {
      ++mismatches;
      FAIL_CHECK(name << " caption " << i << " " << nlohmann::json(raw[i]).dump() << ": got \"" << got[i]
                          << "\" want \"" << want[i] << "\"");
    }
  }
  std::cout << "    " << name << ": " << got.size() << " captions, " << mismatches << " mismatches" << std::endl;
  return mismatches;
}

}  // namespace

TEST_CASE("PTB tokenisation matches tokenized.json for the references and every results file") {
  const auto tok_path = kDir / "tokenized.json";
  const auto gts_path = kDir / "gts.json";
  if (!pt::require_fixture(tok_path) || !pt::require_fixture(gts_path)) return;
  const auto tokenized = nlohmann::json::parse(pt::read_file(tok_path));
  const pm::CaptionGroundTruth gt = pm::load_caption_annotations(gts_path);

  pt::announce_case("tokenized.json/gts");
  {
    std::vector<std::string> raw;
    std::vector<std::string> want;
    for (std::size_t i = 0; i < gt.image_ids.size(); ++i) {
      const auto& expected = tokenized["gts"][pm::id_key(gt.image_ids[i])];
      REQUIRE(expected.size() == gt.captions[i].size());
      for (std::size_t k = 0; k < gt.captions[i].size(); ++k) {
        raw.push_back(gt.captions[i][k]);
        want.push_back(expected[k].get<std::string>());
      }
    }
    compare_batch("gts", raw, pm::ptb_tokenize_batch(raw), want);
  }

  int cases = 0;
  for (const auto& [name, per_image] : tokenized.items()) {
    if (name == "gts") continue;
    pt::announce_case("tokenized.json/" + name);
    const auto res_path = kDir / name;
    if (!pt::require_fixture(res_path)) continue;
    const pm::CaptionResults res = pm::load_caption_results(res_path, gt);
    std::vector<std::string> want;
    for (const auto& id : gt.image_ids) {
      const auto& e = per_image[pm::id_key(id)];
      REQUIRE(e.size() == 1);
      want.push_back(e[0].get<std::string>());
    }
    compare_batch(name, res.captions, pm::ptb_tokenize_batch(res.captions), want);
    ++cases;
  }
  CHECK(cases > 0);
}

TEST_CASE("PTB tokenizer rules") {
  pt::announce_case("ptb rules");
  CHECK(pm::ptb_tokenize("A plate of food (rice and broccoli).") == "a plate of food -lrb- rice and broccoli -rrb-");
  CHECK(pm::ptb_tokenize("They can't stop; it isn't fun") == "they ca n't stop it is n't fun");
  CHECK(pm::ptb_tokenize("I cannot go") == "i can not go");
  CHECK(pm::ptb_tokenize("costs $12.99 at 7:30 p.m.") == "costs $ 12.99 at 7:30 p.m.");
  CHECK(pm::ptb_tokenize("\"quoted\" and 'single' and \xE2\x80\x9C" "curly\xE2\x80\x9D") == "quoted and single and curly");
  CHECK(pm::ptb_tokenize("wow!!! really?!") == "wow !!! really ?!");
  // -LCB-/-RCB- are lower-cased before the filter, so like -lrb- they survive it.
  CHECK(pm::ptb_tokenize("a [box] {set}") == "a -lsb- box -rsb- -lcb- set -rcb-");
  CHECK(pm::ptb_tokenize("the time\xE2\x80\xA6 end \xE2\x80\x94 here") == "the time end here");
  CHECK(pm::ptb_tokenize("o'clock rock 'n' roll") == "o'clock rock 'n' roll");
  CHECK(pm::ptb_tokenize("a 10-year-old boy and a t-shirt") == "a 10-year-old boy and a t-shirt");
  CHECK(pm::ptb_tokenize("\xC3\x89T\xC3\x89 CAF\xC3\x89") == "\xC3\xA9t\xC3\xA9 caf\xC3\xA9");
  CHECK(pm::ptb_tokenize("") == "");
  CHECK(pm::ptb_tokenize("...") == "");
  CHECK(pm::ptb_tokenize_batch({"first line", "", "third, line."}) == std::vector<std::string>{"first line", "", "third line"});
  CHECK(pm::ptb_tokenize("x\ny") == "x y");
}
