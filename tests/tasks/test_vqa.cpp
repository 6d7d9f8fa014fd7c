// The VQA task (plugins/tasks/vqa) against the reference fixtures (shared/fixtures/prismer): every case folder
// whose name starts with `vqa_rank` (rank inference + the weighted training loss) or `vqa_generate` (beam-search
// answers) is run, so new ones run unchanged. The model is rebuilt from config.json + state_dict.pt; the inputs
// store token ids of a word-level stand-in tokenizer, so the recorded ids are fed, and the task's own
// tokenisation (through the same stand-in) must reproduce them.
//
// Tolerances (fixture README: the reference is bitwise reproducible run to run): float tensors
// |diff| <= 1e-5 + 1e-5 * max|ref| (float32 in another summation order, e.g. prompt and candidates decoded
// separately with the KV cache); ids, top-k indices and the chosen answers exactly; generate's sequences,
// beam indices and decoder-call counts exactly, sequences_scores within 1e-4 + 1e-5 * |ref| (a sum of up to 10
// float32 log-probs times the length, as the caption beam-search test). The early-stop rule follows each case's
// transformers version (4.26.x: cur_len, 4.27.x: cur_len + 1; see beam_search.h).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "prismer_case.h"
#include "rank.h"
#include "vqa_task.h"

using nlohmann::json;
using prismer::test::find_in;
using prismer::test::starts_with;
namespace fs = std::filesystem;
namespace cap = prismer::caption;
namespace vqa = prismer::vqa;
using TensorMap = std::map<std::string, torch::Tensor>;

namespace {

cap::DecodeFn model_decode(prismer::backbone::PrismerModel& model) {
  return [&model](const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& mem,
                  prismer::DecodeCache* c) {
    return model->decode(ids, mask, mem, c == nullptr ? nullptr : &dynamic_cast<prismer::backbone::KVCache&>(*c));
  };
}

std::vector<std::string> strings_of(const json& j, const std::string& key) {
  return j.at(key).get<std::vector<std::string>>();
}

prismer::Batch question_batch(const prismer::backbone::PrismerConfig& cfg, const TensorMap& in,
                              const std::vector<std::string>& questions) {
  prismer::Batch batch;
  batch.inputs = prismer::test::case_expert_inputs(cfg, in);
  for (std::size_t i = 0; i < questions.size(); ++i) {
    prismer::Sample s;
    s.id = "q" + std::to_string(i);
    s.numeric_id = static_cast<std::int64_t>(100 + i);
    s.text["question"] = questions[i];
    batch.samples.push_back(s);
  }
  return batch;
}

void run_rank_case(const fs::path& dir) {
  const std::string name = dir.filename().string();
  const json cfg_json = prismer::test::read_json_file(dir / "config.json");
  const auto cfg = prismer::test::prismer_config_from_json(cfg_json);
  const TensorMap in = prismer::test::read_case_values(dir / "inputs.pt");
  const TensorMap out = prismer::test::read_case_values(dir / "outputs.pt");
  prismer::test::TensorComparer cmp;
  cmp.case_name = name;
  torch::NoGradGuard no_grad;
  auto model = prismer::test::load_case_model(dir);
  const auto decode = model_decode(model);
  const std::int64_t pad = cfg.roberta.pad_token_id;

  // rank inference on the recorded ids
  const torch::Tensor memory = model->encode(prismer::test::case_expert_inputs(cfg, in), nullptr,
                                             prismer::test::recorded_draws(in, "obj_detection_instance_embedding_index"));
  cmp.compare("encoder_hidden_states", memory, out.at("encoder_hidden_states"));
  cap::RankOptions ro;
  ro.k = in.at("k_test").item<std::int64_t>();
  ro.pad_token_id = pad;
  const auto& q_ids = in.at("question_input_ids");
  const auto& q_mask = in.at("question_attention_mask");
  const auto& a_ids = in.at("answer_input_ids");
  const auto& a_mask = in.at("answer_attention_mask");
  const auto r = cap::rank_candidates(decode, [] { return std::make_unique<prismer::backbone::KVCache>(); }, memory,
                                      q_ids, q_mask, a_ids, a_mask, ro);
  cmp.compare("start_logits_last", r.start_logits, out.at("start_logits_last"));
  cmp.compare("prob_first_token", r.prob_first_token, out.at("prob_first_token"));
  cmp.compare("topk_ids", r.topk_ids, out.at("topk_ids"));
  cmp.compare("rank_loss_per_row", r.row_loss, out.at("rank_loss_per_row"));
  cmp.compare("log_probs_sum", r.scores, out.at("log_probs_sum"));
  cmp.compare("max_topk_ids", r.best_in_topk, out.at("max_topk_ids"));
  cmp.compare("max_ids", r.best, out.at("max_ids"));
  // the rows the reference decoded (tile(question, k) ++ the kept answers): the layout rank_candidates scores
  const std::int64_t k = r.topk_ids.size(1);
  const torch::Tensor rows = a_ids.index_select(0, r.topk_ids.flatten());
  const torch::Tensor rank_ids = torch::cat({q_ids.repeat_interleave(k, 0), rows}, 1);
  torch::Tensor rank_labels = rank_ids.masked_fill(rank_ids == pad, -100);
  rank_labels.slice(1, 0, q_ids.size(1)).fill_(-100);
  cmp.compare("rank_input_ids", rank_ids, out.at("rank_input_ids"));
  cmp.compare("rank_attention_mask",
              torch::cat({q_mask.repeat_interleave(k, 0), a_mask.index_select(0, r.topk_ids.flatten())}, 1),
              out.at("rank_attention_mask"));
  cmp.compare("rank_labels", rank_labels, out.at("rank_labels"));

  // the weighted training loss on the recorded ids (the training call drew its own instance embeddings)
  const auto train_draws = prismer::test::recorded_draws(in, "train_obj_detection_instance_embedding_index");
  const torch::Tensor train_memory = model->encode(prismer::test::case_expert_inputs(cfg, in), nullptr, train_draws);
  cmp.compare("train_encoder_hidden_states", train_memory, out.at("train_encoder_hidden_states"));
  const auto& t_ids = in.at("train_answer_input_ids");
  const auto loss = vqa::vqa_loss(decode, train_memory, q_ids, q_mask, t_ids, t_ids.ne(pad).to(torch::kLong),
                                  in.at("train_weights"), pad);
  cmp.compare("train_input_ids", loss.input_ids, out.at("train_input_ids"));
  cmp.compare("train_attention_mask", loss.attention_mask, out.at("train_attention_mask"));
  cmp.compare("train_labels", loss.labels, out.at("train_labels"));
  cmp.compare("train_loss_per_sample", loss.per_sample, out.at("train_loss_per_sample"));
  cmp.compare("train_loss", loss.loss, out.at("train_loss"));

  // the task through the Backbone interface, from the question / answer strings (stand-in tokenizer)
  prismer::test::FixtureBackbone bb(dir, in);
  const prismer::test::WordTokenizer tok;
  const auto questions = strings_of(cfg_json, "questions");
  const auto answer_list = strings_of(cfg_json, "answer_list");
  const auto [tq_ids, tq_mask] = vqa::tokenize_questions(tok, questions, 35);
  cmp.compare("task question ids", tq_ids, q_ids);
  cmp.compare("task question mask", tq_mask, q_mask);
  const auto [ta_ids, ta_mask] = vqa::tokenize_answers(tok, answer_list);
  cmp.compare("task answer ids", ta_ids, a_ids);
  cmp.compare("task answer mask", ta_mask, a_mask);
  vqa::VqaTaskOptions o;
  o.inference = vqa::VqaInference::kRank;
  o.k_test = ro.k;
  o.answer_list = answer_list;
  vqa::VqaTask task(o);
  const auto preds = task.predict(bb, question_batch(cfg, in, questions));
  REQUIRE(preds.size() == questions.size());
  for (std::size_t i = 0; i < preds.size(); ++i) {
    const auto want = answer_list.at(static_cast<std::size_t>(out.at("max_ids")[static_cast<std::int64_t>(i)].item<std::int64_t>()));
    std::cout << "    task rank answer[" << i << "]: \"" << preds[i].text << "\" (reference \"" << want << "\")\n";
    CHECK_MESSAGE(preds[i].text == want, name << ": rank answer " << i << " \"" << preds[i].text << "\" != \"" << want << "\"");
    CHECK(preds[i].numeric_id == static_cast<std::int64_t>(100 + i));
  }
  const auto train_answers = strings_of(cfg_json, "train_answers");
  const auto [tt_ids, tt_mask] = vqa::tokenize_answers(tok, train_answers);
  cmp.compare("task train answer ids", tt_ids, t_ids);
  bb.set_draws(train_draws);
  prismer::Batch batch = question_batch(cfg, in, questions);
  const auto weights = cfg_json.at("train_weights").get<std::vector<float>>();
  for (std::size_t i = 0; i < batch.samples.size(); ++i) {
    batch.samples[i].answers = {train_answers.at(i)};
    batch.samples[i].answer_weights = {weights.at(i)};
  }
  cmp.compare("task train_loss", task.loss(bb, batch), out.at("train_loss"));
  std::cout << "  " << name << ": largest error " << cmp.worst << " (" << cmp.worst_name << ")\n";
}

void run_generate_case(const fs::path& dir) {
  const std::string name = dir.filename().string();
  const json cfg_json = prismer::test::read_json_file(dir / "config.json");
  const auto cfg = prismer::test::prismer_config_from_json(cfg_json);
  const TensorMap in = prismer::test::read_case_values(dir / "inputs.pt");
  const TensorMap out = prismer::test::read_case_values(dir / "outputs.pt");
  prismer::test::TensorComparer cmp;
  cmp.case_name = name;
  torch::NoGradGuard no_grad;
  auto model = prismer::test::load_case_model(dir);
  const torch::Tensor memory = model->encode(prismer::test::case_expert_inputs(cfg, in), nullptr,
                                             prismer::test::recorded_draws(in, "obj_detection_instance_embedding_index"));
  cmp.compare("encoder_hidden_states", memory, out.at("encoder_hidden_states"));

  const auto& q_ids = in.at("question_input_ids");
  const auto& q_mask = in.at("question_attention_mask");
  const std::int64_t q = q_ids.size(1);
  const json& gk = cfg_json.at("generate_kwargs");
  vqa::VqaTaskOptions o;  // PrismerVQA's generate: max_length q + 10, min_length q + 2, length_penalty -1
  CHECK(gk.at("max_length").get<std::int64_t>() == q + o.max_new_tokens);
  CHECK(gk.at("min_length").get<std::int64_t>() == q + o.min_new_tokens);
  CHECK(gk.at("num_beams").get<std::int64_t>() == o.beam.num_beams);
  CHECK(gk.at("length_penalty").get<double>() == o.beam.length_penalty);
  const std::string version = cfg_json.at("versions").at("transformers").get<std::string>();
  // batch-1 cases come from transformers 4.26.1 (is_done at cur_len), batch-2 ones from 4.27.4 (cur_len + 1)
  o.beam.rule = starts_with(version, "4.26") ? cap::EarlyStopRule::kTransformers4_26 : cap::EarlyStopRule::kTransformers4_27;
  prismer::backbone::KVCache cache;
  const auto res = vqa::vqa_generate(model_decode(model), cache, memory, q_ids, q_mask, o, cfg.roberta.pad_token_id,
                                     cfg.roberta.eos_token_id);
  cmp.compare("sequences", res.sequences, out.at("sequences"));
  cmp.compare("beam_indices", res.beam_indices, out.at("beam_indices"));
  cmp.compare("num_decoder_calls", torch::tensor(res.num_steps, torch::kLong), out.at("num_decoder_calls"));
  {
    prismer::test::TensorComparer scores;
    scores.case_name = name;
    scores.atol = 1e-4;
    scores.compare("sequences_scores", res.sequences_scores, out.at("sequences_scores"));
    if (scores.worst > cmp.worst) cmp.worst = scores.worst, cmp.worst_name = "sequences_scores";
  }
  const prismer::test::WordTokenizer tok;
  const auto ref_answers = prismer::test::read_case_strings(dir / "outputs.pt", "answers");
  const auto answers = vqa::decode_answers(tok, res.sequences, q);
  CHECK(answers == ref_answers);

  // the task through the Backbone interface, from the question strings
  prismer::test::FixtureBackbone bb(dir, in);
  const auto questions = strings_of(cfg_json, "questions");
  const auto [tq_ids, tq_mask] = vqa::tokenize_questions(tok, questions, 35);
  cmp.compare("task question ids", tq_ids, q_ids);
  cmp.compare("task question mask", tq_mask, q_mask);
  vqa::VqaTask task(o);
  const auto preds = task.predict(bb, question_batch(cfg, in, questions));
  REQUIRE(preds.size() == ref_answers.size());
  for (std::size_t i = 0; i < preds.size(); ++i) {
    std::cout << "    task answer[" << i << "]: \"" << preds[i].text << "\" (reference \"" << ref_answers[i] << "\")\n";
    CHECK_MESSAGE(preds[i].text == ref_answers[i], name << ": answer " << i);
    CHECK(std::abs(preds[i].score - out.at("sequences_scores")[static_cast<std::int64_t>(i)].item<double>()) < 1e-4);
  }
  std::cout << "  " << name << ": largest error " << cmp.worst << " (" << cmp.worst_name << "), decoder calls "
            << res.num_steps << "\n";
}

template <typename Fn>
void run_cases(const std::string& prefix, Fn run) {
  torch::set_num_threads(2);
  int cases = 0;
  for (const auto& dir : prismer::test::case_folders(prismer::test::prismer_fixtures())) {
    const std::string name = dir.filename().string();
    if (!starts_with(name, prefix)) continue;
    prismer::test::announce_case(name);
    ++cases;
    if (!prismer::test::require_fixture(dir / "config.json")) continue;
    try {
      run(dir);
    } catch (const std::exception& e) {
      FAIL_CHECK(name << ": " << std::string(e.what()));
    }
  }
  if (cases == 0 && prismer::test::running_in_ci()) FAIL_CHECK("no " << prefix << "* fixture case");
}

/// A few VQA questions in memory, for evaluate().
class TinyVqaList : public prismer::Dataset {
 public:
  std::size_t size() const override { return samples_.size(); }
  prismer::Sample sample(std::size_t i) const override { return samples_.at(i); }
  std::string label_subdir() const override { return "tiny"; }
  std::vector<std::string> answer_list() const override { return answers_; }
  std::vector<prismer::Sample> samples_;
  std::vector<std::string> answers_;
};

}  // namespace

TEST_CASE("vqa rank inference and weighted loss match the reference") { run_cases("vqa_rank", run_rank_case); }

TEST_CASE("vqa generate matches the reference") { run_cases("vqa_generate", run_generate_case); }

TEST_CASE("vqa task: result file, accuracy and bad input") {
  vqa::VqaTask task(vqa::VqaTaskOptions{});
  std::vector<prismer::Prediction> preds(2);
  preds[0].id = "a"; preds[0].numeric_id = 42; preds[0].text = "two";
  preds[1].id = "b"; preds[1].text = "red";
  const fs::path path = fs::temp_directory_path() / "prismer_vqa_task_test" / "results.json";
  task.write_results(preds, path.string());
  const json doc = prismer::test::read_json_file(path);
  REQUIRE(doc.size() == 2);
  CHECK(doc[0].at("question_id") == 42);
  CHECK(doc[0].at("answer") == "two");
  CHECK(doc[1].at("question_id") == "b");
  fs::remove_all(path.parent_path());

  TinyVqaList data;
  prismer::Sample a;
  a.id = "a"; a.numeric_id = 42; a.text["answer_type"] = "number";
  a.answers = std::vector<std::string>(9, "2");
  a.answers.push_back("two");  // GT answers differ, so everything goes through the digit processing: "two" -> "2"
  prismer::Sample b;
  b.id = "b"; b.text["answer_type"] = "other";
  b.answers = {"red", "red", "blue", "blue", "blue", "blue", "blue", "blue", "blue", "blue"};
  data.samples_ = {a, b};
  const auto m = task.evaluate(preds, data);
  // "two": 10 of 10 match -> 100; "red": 2 matches -> each leave-one-out of the 8 "blue" annotators sees 2 reds
  // (min(1, 2/3)), of the 2 "red" ones 1 red (1/3): (8 * 2/3 + 2 * 1/3) / 10 = 0.6 -> 60; overall 80
  CHECK(m.at("accuracy") == doctest::Approx(80.0));
  CHECK(m.at("accuracy_number") == doctest::Approx(100.0));
  CHECK(m.at("accuracy_other") == doctest::Approx(60.0));

  // rank without an answer list names what is missing
  vqa::VqaTaskOptions ro;
  ro.inference = vqa::VqaInference::kRank;
  vqa::VqaTask rank_task(ro);
  const fs::path rank_dir = prismer::test::prismer_fixtures() / "vqa_rank";
  if (!prismer::test::require_fixture(rank_dir / "config.json")) return;
  const auto in = prismer::test::read_case_values(rank_dir / "inputs.pt");
  prismer::test::FixtureBackbone bb(rank_dir, in);
  const auto cfg = prismer::test::prismer_config_from_json(prismer::test::read_json_file(rank_dir / "config.json"));
  CHECK_THROWS_WITH_AS(rank_task.predict(bb, question_batch(cfg, in, {"w10", "w20"})),
                       doctest::Contains("answer list"), std::runtime_error);

  // the evaluation data's answer list (vqav2 test: answer_list.json) fills it in before predicting, as the original
  // reads answer_list.json beside the test questions; a list of the task's own wins
  TinyVqaList with_answers;
  with_answers.answers_ = strings_of(prismer::test::read_json_file(rank_dir / "config.json"), "answer_list");
  REQUIRE_FALSE(with_answers.answers_.empty());
  rank_task.prepare_predictions(with_answers);
  CHECK(rank_task.options().answer_list == with_answers.answers_);
  const auto ranked = rank_task.predict(bb, question_batch(cfg, in, {"w10", "w20"}));
  REQUIRE(ranked.size() == 2);
  for (const auto& p : ranked)
    CHECK(std::find(with_answers.answers_.begin(), with_answers.answers_.end(), p.text) != with_answers.answers_.end());
  ro.answer_list = {"w7", "w8"};
  vqa::VqaTask own_list(ro);
  own_list.prepare_predictions(with_answers);
  CHECK(own_list.options().answer_list == std::vector<std::string>{"w7", "w8"});
}
