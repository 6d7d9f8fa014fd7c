// The caption task's other inference modes (plugins/tasks/caption: sampling.h, rank.h) on the reference models of
// shared/fixtures/prismer. There is no reference output for them, so each is checked against a direct
// transcription of the reference algorithm on the same model, run the way the reference runs it (the whole
// prefix through the decoder at every step, no cache; for ranking the prompt and the encoder rows tiled k times):
//   - greedy (HF greedy_search): sequences equal, on every caption_generate* case (EOS, pads, batch 2);
//   - sampling: the same seed gives the same text; top_k 1 and a tiny top_p reduce to greedy; on a fixed
//     distribution top_p keeps exactly the nucleus HF's TopPLogitsWarper keeps;
//   - rank (PrismerCaption.rank): first-token top-k, per-candidate scores within 1e-5 + 1e-5 * max|ref| and the
//     same winner, through rank_candidates and through CaptionTask (inference rank) on the Backbone interface.
#include <nlohmann/json.hpp>

#include <iostream>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "caption_task.h"
#include "prismer_case.h"
#include "rank.h"
#include "roberta.h"
#include "sampling.h"

using nlohmann::json;
using prismer::test::starts_with;
namespace fs = std::filesystem;
namespace cap = prismer::caption;
using TensorMap = std::map<std::string, torch::Tensor>;

namespace {

cap::DecodeFn model_decode(prismer::backbone::PrismerModel& model) {
  return [&model](const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& mem,
                  prismer::DecodeCache* c) {
    return model->decode(ids, mask, mem, c == nullptr ? nullptr : &dynamic_cast<prismer::backbone::KVCache&>(*c));
  };
}

/// HF greedy_search, transcribed: full prefix every step, MinLength on the raw logits, pad after EOS.
torch::Tensor reference_greedy(prismer::backbone::PrismerModel& model, const torch::Tensor& memory, torch::Tensor ids,
                               torch::Tensor mask, std::int64_t max_length, std::int64_t min_length) {
  auto unfinished = torch::ones({ids.size(0)}, torch::kLong);
  while (ids.size(1) < max_length) {
    auto logits = model->decode(ids, mask, memory).select(1, ids.size(1) - 1).clone();
    if (ids.size(1) < min_length) logits.select(1, 2).fill_(-std::numeric_limits<float>::infinity());
    auto next = logits.argmax(-1) * unfinished + 1 * (1 - unfinished);
    ids = torch::cat({ids, next.unsqueeze(1)}, 1);
    mask = torch::cat({mask, torch::ones({ids.size(0), 1}, torch::kLong)}, 1);
    unfinished = unfinished * next.ne(2).to(torch::kLong);
    if (unfinished.max().item<std::int64_t>() == 0) break;
  }
  return ids;
}

struct CaseModel {
  prismer::backbone::PrismerModel model{nullptr};
  torch::Tensor memory, prompt, prompt_mask;
};

CaseModel load_generate_case(const fs::path& dir) {
  const auto cfg = prismer::test::prismer_config_from_json(prismer::test::read_json_file(dir / "config.json"));
  const TensorMap in = prismer::test::read_case_values(dir / "inputs.pt");
  CaseModel c;
  c.model = prismer::test::load_case_model(dir);
  c.memory = c.model->encode(prismer::test::case_expert_inputs(cfg, in), nullptr,
                             prismer::test::recorded_draws(in, "obj_detection_instance_embedding_index"));
  const bool vqa = in.count("question_input_ids") != 0;
  c.prompt = in.at(vqa ? "question_input_ids" : "prefix_input_ids");
  c.prompt_mask = in.at(vqa ? "question_attention_mask" : "prefix_attention_mask");
  return c;
}

}  // namespace

TEST_CASE("greedy decoding and sampling on the reference models") {
  torch::set_num_threads(2);
  torch::NoGradGuard no_grad;
  int cases = 0;
  for (const auto& dir : prismer::test::case_folders(prismer::test::prismer_fixtures())) {
    const std::string name = dir.filename().string();
    if (!starts_with(name, "caption_generate")) continue;
    prismer::test::announce_case(name);
    ++cases;
    if (!prismer::test::require_fixture(dir / "config.json")) continue;
    auto c = load_generate_case(dir);
    cap::SamplingOptions opt;
    opt.max_length = 20;
    opt.min_length = 8;
    prismer::backbone::KVCache cache;
    const auto greedy = cap::generate_sampled(model_decode(c.model), cache, c.memory, c.prompt, c.prompt_mask, opt);
    const auto want = reference_greedy(c.model, c.memory, c.prompt, c.prompt_mask, 20, 8);
    std::cout << "    greedy: " << greedy.sequences.sizes() << " in " << greedy.num_steps << " steps, "
              << (greedy.sequences.equal(want) ? "EQUAL" : "DIFFERENT") << " to the uncached transcription\n";
    CHECK_MESSAGE(greedy.sequences.equal(want), name << ": greedy\n  got " << greedy.sequences << "\n  want " << want);

    auto sample = [&](cap::SamplingOptions o) {
      o.do_sample = true;
      prismer::backbone::KVCache k;
      return cap::generate_sampled(model_decode(c.model), k, c.memory, c.prompt, c.prompt_mask, o).sequences;
    };
    cap::SamplingOptions s = opt;
    s.top_p = 0.9;
    s.temperature = 0.8;
    s.seed = 7;
    CHECK(sample(s).equal(sample(s)));
    cap::SamplingOptions k1 = opt;
    k1.top_k = 1;
    CHECK_MESSAGE(sample(k1).equal(want), name << ": top_k 1 is not greedy");
    cap::SamplingOptions p0 = opt;
    p0.top_p = 1e-6;
    CHECK_MESSAGE(sample(p0).equal(want), name << ": a tiny top_p is not greedy");
  }
  if (cases == 0 && prismer::test::running_in_ci()) FAIL_CHECK("no caption_generate* fixture case");
}

TEST_CASE("nucleus sampling keeps HF's nucleus (fixed distribution)") {
  // probabilities 0.5, 0.3, 0.15, 0.05 (tokens 4..7); top_p 0.7: ascending cumulative 0.05, 0.2, 0.5, 1.0, tokens
  // with cumulative <= 0.3 are dropped -> only tokens 4 and 5 can be drawn
  const auto logits = torch::log(torch::tensor({1e-9f, 1e-9f, 1e-9f, 1e-9f, 0.5f, 0.3f, 0.15f, 0.05f}));
  auto step = [&](const torch::Tensor& ids, const torch::Tensor&) { return logits.repeat({ids.size(0), 1}); };
  cap::SamplingOptions o;
  o.do_sample = true;
  o.top_p = 0.7;
  o.max_length = 2;
  o.seed = 3;
  const auto prompt = torch::zeros({400, 1}, torch::kLong);
  const auto res = cap::sample_search(prompt, torch::ones_like(prompt), step, o);
  const auto drawn = res.sequences.select(1, 1);
  std::set<std::int64_t> seen;
  for (std::int64_t i = 0; i < drawn.size(0); ++i) seen.insert(drawn[i].item<std::int64_t>());
  CHECK(seen == std::set<std::int64_t>{4, 5});
  const double share4 = drawn.eq(4).sum().item<double>() / static_cast<double>(drawn.size(0));
  CHECK(share4 == doctest::Approx(0.5 / 0.8).epsilon(0.12));  // renormalised 0.625, 400 draws
  CHECK_THROWS_AS(cap::check_sampling_options([] { cap::SamplingOptions b; b.top_p = 0.0; return b; }()),
                  std::invalid_argument);
  CHECK_THROWS_AS(cap::check_sampling_options([] { cap::SamplingOptions b; b.temperature = 0.0; return b; }()),
                  std::invalid_argument);
}

TEST_CASE("caption rank matches the tiled reference algorithm") {
  torch::set_num_threads(2);
  torch::NoGradGuard no_grad;
  const fs::path dir = prismer::test::prismer_fixtures() / "vqa_rank";
  if (!prismer::test::require_fixture(dir / "config.json")) return;
  const json cfg_json = prismer::test::read_json_file(dir / "config.json");
  const auto cfg = prismer::test::prismer_config_from_json(cfg_json);
  const TensorMap in = prismer::test::read_case_values(dir / "inputs.pt");
  prismer::test::FixtureBackbone bb(dir, in);
  const prismer::test::WordTokenizer tok;
  const torch::Tensor memory = bb.encode(prismer::test::case_expert_inputs(cfg, in));
  const std::int64_t b = memory.size(0);

  cap::CaptionTaskOptions o;
  o.prefix = "w5 w6 w7";
  o.decoding = cap::CaptionDecoding::kRank;
  o.candidates = cfg_json.at("answer_list").get<std::vector<std::string>>();
  o.k_test = 5;
  auto [c_ids, c_mask] = cap::tokenize_caption_candidates(tok, o.candidates);
  std::vector<std::int64_t> prompt = tok.encode(o.prefix, false);
  prompt.insert(prompt.begin(), tok.bos_id());
  const auto p_ids = torch::tensor(prompt, torch::kLong).unsqueeze(0).repeat({b, 1});
  const auto p_mask = torch::ones_like(p_ids);
  cap::RankOptions ro;
  ro.k = o.k_test;
  const auto r = cap::rank_candidates(bb, memory, p_ids, p_mask, c_ids, c_mask, ro);

  // the reference: start pass, softmax first-token filter, tile, full decode, label-smoothed loss / #tokens
  auto& model = bb.model();
  const auto start = model->decode(p_ids, p_mask, memory).select(1, p_ids.size(1) - 1);
  const auto topk = std::get<1>(torch::softmax(start, 1).index_select(1, c_ids.select(1, 0)).topk(ro.k, 1));
  const auto rows = c_ids.index_select(0, topk.flatten());
  const auto ids = torch::cat({p_ids.repeat_interleave(ro.k, 0), rows}, 1);
  const auto mask = torch::cat({p_mask.repeat_interleave(ro.k, 0), c_mask.index_select(0, topk.flatten())}, 1);
  auto labels = ids.masked_fill(ids == 1, -100);
  labels.slice(1, 0, p_ids.size(1)).fill_(-100);
  const auto loss = prismer::backbone::caption_loss_per_sample(model->decode(ids, mask, memory.repeat_interleave(ro.k, 0)), labels);
  const auto scores = (-loss / labels.ne(-100).sum(1).to(torch::kFloat)).view({b, ro.k});
  const auto best = topk.gather(1, scores.argmax(1).unsqueeze(1)).squeeze(1);

  prismer::test::TensorComparer cmp;
  cmp.case_name = "caption rank on vqa_rank's model";
  cmp.compare("topk_ids", r.topk_ids, topk);
  cmp.compare("scores", r.scores, scores);
  cmp.compare("best", r.best, best);
  std::cout << "  caption rank: largest error " << cmp.worst << " (" << cmp.worst_name << ")\n";

  cap::CaptionTask task(o);
  prismer::Batch batch;
  batch.inputs = prismer::test::case_expert_inputs(cfg, in);
  for (std::int64_t i = 0; i < b; ++i) {
    prismer::Sample s;
    s.id = "img" + std::to_string(i);
    s.numeric_id = i;
    batch.samples.push_back(s);
  }
  const auto preds = task.predict(bb, batch);
  REQUIRE(static_cast<std::int64_t>(preds.size()) == b);
  for (std::int64_t i = 0; i < b; ++i) {
    const auto& want = o.candidates.at(static_cast<std::size_t>(best[i].item<std::int64_t>()));
    std::cout << "    task rank caption[" << i << "]: \"" << preds[static_cast<std::size_t>(i)].text << "\"\n";
    CHECK(preds[static_cast<std::size_t>(i)].text == want);
  }
}

TEST_CASE("a batch-1 cache expanded to several rows by reorder continues each row's own prefix") {
  // Beam search and ranking may decode a prompt once and then reorder the cache to k rows: the self-attention
  // keys/values and pad counts must be expanded with it (only the shared cross-attention keys/values stay single).
  torch::set_num_threads(2);
  torch::NoGradGuard no_grad;
  int cases = 0;
  for (const fs::path& dir : prismer::test::case_folders(prismer::test::prismer_fixtures())) {
    const std::string name = dir.filename().string();
    if (!starts_with(name, "caption_generate")) continue;
    prismer::test::announce_case(name);
    ++cases;
    CaseModel c = load_generate_case(dir);
    const torch::Tensor mem = c.memory.slice(0, 0, 1);
    const torch::Tensor prompt = c.prompt.slice(0, 0, 1), mask = c.prompt_mask.slice(0, 0, 1);
    prismer::backbone::KVCache cache;
    c.model->decode(prompt, mask, mem, &cache);
    cache.reorder(torch::zeros({3}, torch::kLong));
    const torch::Tensor next = torch::tensor({5, 6, 7}, torch::kLong).unsqueeze(1);
    const torch::Tensor full_ids = torch::cat({prompt.expand({3, -1}), next}, 1);
    const torch::Tensor full_mask = torch::cat({mask.expand({3, -1}), torch::ones({3, 1}, torch::kLong)}, 1);
    const torch::Tensor cached = c.model->decode(next, full_mask, mem, &cache).select(1, 0);
    const torch::Tensor uncached = c.model->decode(full_ids, full_mask, mem.expand({3, -1, -1})).select(1, full_ids.size(1) - 1);
    const double err = (cached - uncached).abs().max().item<double>();
    std::cout << "  expanded cache vs full prefix: largest |diff| " << err << " (tolerance 1e-4)\n";
    CHECK(err < 1e-4);
  }
  if (cases == 0 && prismer::test::running_in_ci()) FAIL_CHECK("no caption_generate* fixture case");
}
