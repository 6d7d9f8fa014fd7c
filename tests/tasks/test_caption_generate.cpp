// Beam search parity with the reference fixtures (shared/fixtures/prismer): every case folder whose name starts
// with `caption_generate` or `vqa_generate` is run, so new ones run unchanged. The model is rebuilt from
// config.json, state_dict.pt is loaded strictly, the recorded inputs are encoded (recorded instance draws) and
// beam search runs with the KV cache. Compared: sequences, beam_indices, num_decoder_calls and every step's
// decoder inputs (ids and mask as the reference's full-prefix decoder saw them) exactly; sequences_scores within
// |diff| <= 1e-4 + 1e-5 * |ref| (a sum of <= 20 float32 log-probs from logits that match the reference to ~1e-5).
// The early-stop length rule follows the transformers version in config.json (4.26.x: cur_len, 4.27.x:
// cur_len + 1), which only changes num_decoder_calls; the other rule is run too and must give the same result and
// the decoder-call count of the fixtures' cross-version run (_meta/xver.json) where one is recorded.
// Also: the CaptionTask (plugins/tasks/caption/caption_task.h) through the Backbone interface reproduces
// PrismerCaption's returned captions and its training loss (prismerz_rgb), and writes COCO result files.
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "beam_search.h"
#include "caption_task.h"
#include "prismer_case.h"

using nlohmann::json;
using namespace prismer::backbone;
using prismer::test::FixtureBackbone;
using prismer::test::starts_with;
using prismer::test::WordTokenizer;
namespace fs = std::filesystem;
namespace cap = prismer::caption;

namespace {

void check_equal(const std::string& where, const torch::Tensor& got, const torch::Tensor& ref) {
  const bool same_shape = got.sizes() == ref.sizes();
  const bool eq = same_shape && got.to(torch::kLong).equal(ref.to(torch::kLong));
  if (!eq) {
    std::ostringstream m;
    m << where << " differs:\n  got " << got << "\n  reference " << ref;
    FAIL_CHECK(m.str());
  }
}

void run_case(const fs::path& dir) {
  const std::string name = dir.filename().string();
  const json cfg_json = prismer::test::read_json_file(dir / "config.json");
  const PrismerConfig cfg = prismer::test::prismer_config_from_json(cfg_json);
  PrismerModel model = prismer::test::load_case_model(dir);
  torch::NoGradGuard no_grad;
  const auto in = prismer::test::read_case_values(dir / "inputs.pt");
  const auto out = prismer::test::read_case_values(dir / "outputs.pt");
  const json& gk = cfg_json.at("generate_kwargs");
  const bool vqa = prismer::test::find_in(in, "question_input_ids") != nullptr;
  const torch::Tensor prompt = in.at(vqa ? "question_input_ids" : "prefix_input_ids");
  const torch::Tensor prompt_mask = in.at(vqa ? "question_attention_mask" : "prefix_attention_mask");

  cap::BeamSearchOptions opt;
  opt.num_beams = gk.at("num_beams").get<std::int64_t>();
  opt.max_length = gk.at("max_length").get<std::int64_t>();
  opt.min_length = gk.value("min_length", std::int64_t{0});
  opt.length_penalty = gk.value("length_penalty", 1.0);
  // the recorded call arguments agree with config.json
  if (auto* t = prismer::test::find_in(in, "num_beams")) CHECK(t->item<std::int64_t>() == opt.num_beams);
  if (auto* t = prismer::test::find_in(in, "max_length")) CHECK(t->item<std::int64_t>() == opt.max_length);
  if (auto* t = prismer::test::find_in(in, "min_length")) CHECK(t->item<std::int64_t>() == opt.min_length);
  if (auto* t = prismer::test::find_in(in, "length_penalty")) CHECK(t->item<double>() == opt.length_penalty);
  opt.pad_token_id = cfg.roberta.pad_token_id;
  opt.eos_token_id = cfg.roberta.eos_token_id;
  const std::string version = cfg_json.at("versions").at("transformers").get<std::string>();
  opt.rule = starts_with(version, "4.26") ? cap::EarlyStopRule::kTransformers4_26 : cap::EarlyStopRule::kTransformers4_27;
  opt.record_steps = true;

  const torch::Tensor memory = model->encode(prismer::test::case_expert_inputs(cfg, in), nullptr, prismer::test::recorded_draws(in, "obj_detection_instance_embedding_index"));
  if (auto* ref = prismer::test::find_in(out, "encoder_hidden_states")) {
    const double e = (memory - *ref).abs().max().item<double>();
    CHECK_MESSAGE(e < 1e-4, name << ": encoder output differs by " << e);
  }
  KVCache cache;
  cap::DecodeFn decode = [&](const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& mem,
                             prismer::DecodeCache* c) { return model->decode(ids, mask, mem, static_cast<KVCache*>(c)); };
  const auto res = cap::generate(decode, cache, memory, prompt, prompt_mask, opt);

  const torch::Tensor& ref_seq = out.at("sequences");
  const torch::Tensor& ref_scores = out.at("sequences_scores");
  const bool seq_equal = res.sequences.sizes() == ref_seq.sizes() && res.sequences.equal(ref_seq.to(torch::kLong));
  double score_err = 0.0, tol = 0.0;
  if (res.sequences_scores.sizes() == ref_scores.sizes()) {
    const auto r = ref_scores.to(torch::kDouble);
    const auto diff = (res.sequences_scores.to(torch::kDouble) - r).abs();
    score_err = diff.max().item<double>();
    tol = 1e-4 + 1e-5 * r.abs().max().item<double>();
  } else {
    score_err = std::numeric_limits<double>::infinity();
  }
  const std::int64_t ref_calls = out.at("num_decoder_calls").item<std::int64_t>();
  std::cout << "  " << name << " (transformers " << version << " rule, length_penalty " << opt.length_penalty
            << "): sequences " << (seq_equal ? "EQUAL" : "DIFFER") << ", max |score diff| " << score_err
            << " (tol " << tol << "), decoder calls " << res.num_steps << " (reference " << ref_calls << ")\n";
  if (!seq_equal) check_equal(name + ": sequences", res.sequences, ref_seq);
  CHECK_MESSAGE(score_err <= tol, name << ": sequences_scores max|diff| " << score_err << " > " << tol << "\n  got "
                                       << res.sequences_scores << "\n  reference " << ref_scores);
  if (auto* bi = prismer::test::find_in(out, "beam_indices")) check_equal(name + ": beam_indices", res.beam_indices, *bi);
  CHECK_MESSAGE(res.num_steps == ref_calls, name << ": " << res.num_steps << " decoder calls, reference " << ref_calls);
  std::int64_t steps_compared = 0;
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(res.step_input_ids.size()); ++i) {
    const std::string k = "steps." + std::to_string(i);
    auto* ids = prismer::test::find_in(out, k + ".input_ids");
    if (ids == nullptr) continue;  // counted by num_decoder_calls
    ++steps_compared;
    check_equal(name + ": " + k + ".input_ids", res.step_input_ids[i], *ids);
    if (auto* m = prismer::test::find_in(out, k + ".attention_mask")) check_equal(name + ": " + k + ".attention_mask", res.step_attention_mask[i], *m);
  }
  std::cout << "    decoder inputs of " << steps_compared << " steps compared\n";

  // The other transformers version's early-stop rule: the same result; its decoder-call count where the
  // fixtures' cross-version run recorded one (_meta/xver.json: "... N under 4.26.1 vs M under 4.27.4 ...").
  cap::BeamSearchOptions other = opt;
  other.record_steps = false;
  const bool is426 = opt.rule == cap::EarlyStopRule::kTransformers4_26;
  other.rule = is426 ? cap::EarlyStopRule::kTransformers4_27 : cap::EarlyStopRule::kTransformers4_26;
  KVCache cache2;
  const auto res2 = cap::generate(decode, cache2, memory, prompt, prompt_mask, other);
  CHECK_MESSAGE(res2.sequences.equal(res.sequences), name << ": the other early-stop rule changed the sequences");
  CHECK_MESSAGE(res2.sequences_scores.equal(res.sequences_scores), name << ": the other early-stop rule changed the scores");
  std::int64_t xver_calls = -1;
  const fs::path xver = dir.parent_path() / "_meta" / "xver.json";
  if (fs::exists(xver)) {
    const json x = prismer::test::read_json_file(xver);
    if (x.contains(name)) {
      const std::string text = x.at(name).get<std::string>();
      const auto vs = text.find(" under 4.26.1 vs ");
      if (vs != std::string::npos) {
        const auto start = text.rfind(' ', vs - 1) + 1;
        const std::int64_t calls426 = std::stoll(text.substr(start, vs - start));
        const std::int64_t calls427 = std::stoll(text.substr(vs + std::string(" under 4.26.1 vs ").size()));
        xver_calls = is426 ? calls427 : calls426;
      }
    }
  }
  std::cout << "    other rule (" << (is426 ? "4.27" : "4.26") << "): same result, " << res2.num_steps
            << " decoder calls" << (xver_calls >= 0 ? " (cross-version reference " + std::to_string(xver_calls) + ")" : "")
            << "\n";
  if (xver_calls >= 0)
    CHECK_MESSAGE(res2.num_steps == xver_calls, name << ": other rule made " << res2.num_steps << " decoder calls, cross-version run " << xver_calls);
}

}  // namespace

TEST_CASE("beam search matches the reference generate cases") {
  torch::set_num_threads(2);
  int cases = 0;
  for (const auto& dir : prismer::test::case_folders(prismer::test::fixtures_root() / "prismer")) {
    const std::string name = dir.filename().string();
    if (!starts_with(name, "caption_generate") && !starts_with(name, "vqa_generate")) continue;
    prismer::test::announce_case(name);
    ++cases;
    if (!prismer::test::require_fixture(dir / "config.json")) continue;
    try {
      run_case(dir);
    } catch (const std::exception& e) {
      FAIL_CHECK(name << ": " << std::string(e.what()));
    }
  }
  if (cases == 0 && prismer::test::running_in_ci()) FAIL_CHECK("no caption_generate* / vqa_generate* fixture cases");
}

TEST_CASE("hypothesis heap and length penalty (synthetic step function)") {
  // A fixed distribution per step: EOS is the most likely token once allowed, so every beam finishes at
  // min_length and the search stops early; the score of the best hypothesis is its log-prob sum / length.
  const std::int64_t vocab = 6, eos = 2;
  auto step = [&](const torch::Tensor& ids, const torch::Tensor&) {
    auto logits = torch::tensor({0.0f, -5.0f, 2.0f, 1.0f, 0.5f, 0.2f}).repeat({ids.size(0), 1});
    return logits;
  };
  cap::BeamSearchOptions opt;
  opt.num_beams = 3;
  opt.max_length = 10;
  opt.min_length = 4;
  opt.eos_token_id = eos;
  auto prompt = torch::tensor({{0, 5}}, torch::kLong);
  auto res = cap::beam_search(prompt, torch::ones_like(prompt), step, [](const torch::Tensor&) {}, opt);
  const auto lp = torch::log_softmax(torch::tensor({0.0f, -5.0f, 2.0f, 1.0f, 0.5f, 0.2f}), 0);
  // best: two steps of token 3 (EOS forbidden at lengths 2 and 3: set to -inf AFTER log_softmax, so the other
  // log-probs are not renormalised), then EOS at length 4 -> hypothesis length 4
  const double expect = (2 * lp[3].item<double>() + lp[eos].item<double>()) / 4.0;
  CHECK(res.sequences.size(1) == 5);
  CHECK(res.sequences[0][2].item<std::int64_t>() == 3);
  CHECK(res.sequences[0][3].item<std::int64_t>() == 3);
  CHECK(res.sequences[0][4].item<std::int64_t>() == eos);
  CHECK(std::abs(res.sequences_scores[0].item<double>() - expect) < 1e-5);
  (void)vocab;
}

TEST_CASE("caption task through the Backbone interface: predict and loss match the reference") {
  torch::set_num_threads(2);
  const fs::path root = prismer::test::fixtures_root() / "prismer";
  cap::CaptionTaskOptions o;
  o.prefix = "w5 w6 w7";

  // predict: the captions PrismerCaption returned (decoded best sequence with the prefix stripped)
  for (const auto& dir : prismer::test::case_folders(root)) {
    const std::string name = dir.filename().string();
    if (!starts_with(name, "caption_generate") || !prismer::test::require_fixture(dir / "config.json")) continue;
    const json cfg = prismer::test::read_json_file(dir / "config.json");
    if (cfg.value("caption_prefix", std::string()) != o.prefix) continue;
    const auto in = prismer::test::read_case_values(dir / "inputs.pt");
    const auto out = prismer::test::read_case_values(dir / "outputs.pt");
    FixtureBackbone bb(dir, in);
    cap::CaptionTask task(o);
    prismer::Batch batch;
    batch.inputs = prismer::test::case_expert_inputs(prismer::test::prismer_config_from_json(cfg), in);
    const auto b = batch.inputs.rgb.size(0);
    for (std::int64_t i = 0; i < b; ++i) {
      prismer::Sample s;
      s.id = "img" + std::to_string(i);
      s.numeric_id = i;
      batch.samples.push_back(s);
    }
    const bool v427 = !starts_with(cfg.at("versions").at("transformers").get<std::string>(), "4.26");
    cap::CaptionTaskOptions oo = o;
    if (v427) oo.beam.rule = cap::EarlyStopRule::kTransformers4_27;
    cap::CaptionTask t2(oo);
    torch::NoGradGuard no_grad;
    const auto preds = t2.predict(bb, batch);
    REQUIRE(static_cast<std::int64_t>(preds.size()) == b);
    WordTokenizer tok;
    for (std::int64_t i = 0; i < b; ++i) {
      auto row = out.at("sequences")[i].contiguous();
      std::vector<std::int64_t> seq(row.data_ptr<std::int64_t>(), row.data_ptr<std::int64_t>() + row.numel());
      const std::string full = tok.decode(seq, true);
      std::string want = full.substr(o.prefix.size() + 1);
      // the strings PrismerCaption returned, where recorded
      const auto top = prismer::load_pickle_file((dir / "outputs.pt").string());
      if (const auto* caps = top.find("captions"); caps != nullptr && caps->list().size() > static_cast<std::size_t>(i))
        want = caps->list()[static_cast<std::size_t>(i)].to_string();
      std::cout << "  " << name << " predict[" << i << "]: \"" << preds[i].text << "\"\n";
      CHECK_MESSAGE(preds[i].text == want, name << ": caption " << preds[i].text << " != " << want);
      CHECK(std::abs(preds[i].score - out.at("sequences_scores")[i].item<double>()) < 1e-4);
    }
    (void)task;
  }

  // loss: prismerz_rgb records PrismerCaption's training loss for captions that start with the prefix
  const fs::path dir = root / "prismerz_rgb";
  if (!prismer::test::require_fixture(dir / "config.json")) return;
  const json cfg = prismer::test::read_json_file(dir / "config.json");
  const auto in = prismer::test::read_case_values(dir / "inputs.pt");
  const auto out = prismer::test::read_case_values(dir / "outputs.pt");
  FixtureBackbone bb(dir, in);
  cap::CaptionTask task(o);
  prismer::Batch batch;
  batch.inputs = prismer::test::case_expert_inputs(prismer::test::prismer_config_from_json(cfg), in);
  std::int64_t i = 0;
  for (const auto& c : cfg.at("captions")) {
    std::string text = c.get<std::string>();
    REQUIRE(starts_with(text, o.prefix + " "));
    prismer::Sample s;
    s.id = "img" + std::to_string(i++);
    s.text["caption"] = text.substr(o.prefix.size() + 1);  // the task prepends the prompt itself
    batch.samples.push_back(s);
  }
  torch::NoGradGuard no_grad;
  const double got = task.loss(bb, batch).item<double>();
  const double want = out.at("loss").item<double>();
  std::cout << "  prismerz_rgb task loss " << got << " (reference " << want << ", |diff| " << std::abs(got - want) << ")\n";
  CHECK(std::abs(got - want) <= 1e-5 + 1e-5 * std::abs(want));
}

TEST_CASE("caption task: result file and metrics") {
  cap::CaptionTask task(cap::CaptionTaskOptions{});
  std::vector<prismer::Prediction> preds(2);
  preds[0].id = "a"; preds[0].numeric_id = 42; preds[0].text = "a red square";
  preds[1].id = "b"; preds[1].text = "two circles";
  const fs::path path = fs::temp_directory_path() / "prismer_caption_task_test" / "results.json";
  task.write_results(preds, path.string());
  const json doc = prismer::test::read_json_file(path);
  REQUIRE(doc.size() == 2);
  CHECK(doc[0].at("image_id") == 42);
  CHECK(doc[0].at("caption") == "a red square");
  CHECK(doc[1].at("image_id") == "b");
  fs::remove_all(path.parent_path());
}
