// Written after model/prismer_vqa.py, dataset/vqa_dataset.py and train_vqa.py of the reference. See vqa_task.h.
#include "vqa_task.h"

#include "roberta.h"

#include <prismer/data/text_clean.h>
#include <prismer/dataset.h>
#include <prismer/metrics/vqa_accuracy.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <tuple>

namespace prismer::vqa {
namespace {

std::pair<torch::Tensor, torch::Tensor> pad_rows(const std::vector<std::vector<std::int64_t>>& rows, std::int64_t pad) {
  std::size_t longest = 0;
  for (const auto& r : rows) longest = std::max(longest, r.size());
  const auto n = static_cast<std::int64_t>(rows.size());
  auto ids = torch::full({n, static_cast<std::int64_t>(longest)}, pad, torch::kLong);
  auto mask = torch::zeros({n, static_cast<std::int64_t>(longest)}, torch::kLong);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto& r = rows[static_cast<std::size_t>(i)];
    if (r.empty()) continue;
    const auto len = static_cast<std::int64_t>(r.size());
    ids[i].slice(0, 0, len).copy_(torch::tensor(r, torch::kLong));
    mask[i].slice(0, 0, len).fill_(1);
  }
  return {ids, mask};
}

std::string strip(const std::string& s) {
  const char* ws = " \t\n\r\f\v";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

nlohmann::json question_id_of(const std::string& id, std::int64_t numeric_id) {
  return numeric_id >= 0 ? nlohmann::json(numeric_id) : nlohmann::json(id);
}

const std::string& question_of(const Sample& s) {
  auto it = s.text.find("question");
  if (it == s.text.end()) throw std::invalid_argument("vqa task: sample '" + s.id + "' has no question");
  return it->second;
}

caption::DecodeFn backbone_decode(Backbone& backbone) {
  return [&backbone](const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& mem,
                     DecodeCache* c) { return backbone.decode(ids, mask, mem, c); };
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> tokenize_questions(const Tokenizer& tok, const std::vector<std::string>& questions,
                                                           std::int64_t max_tokens) {
  std::vector<std::vector<std::int64_t>> rows;
  for (const auto& q : questions) {
    // '<s>' + q.capitalize() without added special tokens: the BOS id, then the text's ids
    std::vector<std::int64_t> ids{tok.bos_id()};
    const auto text = tok.encode(prismer::data::python_capitalize(q), false);
    ids.insert(ids.end(), text.begin(), text.end());
    if (max_tokens > 0 && static_cast<std::int64_t>(ids.size()) > max_tokens) ids.resize(static_cast<std::size_t>(max_tokens));
    rows.push_back(std::move(ids));
  }
  return pad_rows(rows, tok.pad_id());
}

std::pair<torch::Tensor, torch::Tensor> tokenize_answers(const Tokenizer& tok, const std::vector<std::string>& answers) {
  std::vector<std::vector<std::int64_t>> rows;
  for (const auto& a : answers) {
    auto ids = tok.encode(" " + prismer::data::python_capitalize(a), false);
    ids.push_back(tok.eos_id());  // the '</s>' the reference appends to the text
    rows.push_back(std::move(ids));
  }
  return pad_rows(rows, tok.pad_id());
}

VqaLoss vqa_loss(const caption::DecodeFn& decode, const torch::Tensor& memory, const torch::Tensor& question_ids,
                 const torch::Tensor& question_mask, const torch::Tensor& answer_ids, const torch::Tensor& answer_mask,
                 const torch::Tensor& weights, std::int64_t pad_token_id) {
  const auto device = memory.device();
  const std::int64_t n = question_ids.size(0);
  if (answer_ids.size(0) != n || memory.size(0) != n || weights.numel() != n)
    throw std::invalid_argument("vqa_loss: questions, answers, encoder rows and weights differ in number");
  VqaLoss r;
  r.input_ids = torch::cat({question_ids, answer_ids}, 1).to(device).to(torch::kLong);
  r.attention_mask = torch::cat({question_mask, answer_mask}, 1).to(device).to(torch::kLong);
  r.labels = r.input_ids.masked_fill(r.input_ids == pad_token_id, -100);
  r.labels.slice(1, 0, question_ids.size(1)).fill_(-100);
  const torch::Tensor logits = decode(r.input_ids, r.attention_mask, memory, nullptr);
  r.per_sample = prismer::backbone::caption_loss_per_sample(logits, r.labels);
  r.loss = (weights.to(device).to(r.per_sample.scalar_type()) * r.per_sample).mean();
  return r;
}

caption::BeamSearchResult vqa_generate(const caption::DecodeFn& decode, DecodeCache& cache, const torch::Tensor& memory,
                                       const torch::Tensor& question_ids, const torch::Tensor& question_mask,
                                       const VqaTaskOptions& options, std::int64_t pad_token_id,
                                       std::int64_t eos_token_id) {
  caption::BeamSearchOptions opt = options.beam;
  const std::int64_t q = question_ids.size(1);
  opt.max_length = q + options.max_new_tokens;
  opt.min_length = q + options.min_new_tokens;
  opt.pad_token_id = pad_token_id;
  opt.eos_token_id = eos_token_id;
  return caption::generate(decode, cache, memory, question_ids, question_mask, opt);
}

std::vector<std::string> decode_answers(const Tokenizer& tok, const torch::Tensor& sequences, std::int64_t question_len) {
  std::vector<std::string> out;
  const torch::Tensor seqs = sequences.cpu().to(torch::kLong).contiguous();
  for (std::int64_t i = 0; i < seqs.size(0); ++i) {
    const torch::Tensor row = seqs[i].slice(0, std::min(question_len, seqs.size(1))).contiguous();
    std::vector<std::int64_t> ids(row.data_ptr<std::int64_t>(), row.data_ptr<std::int64_t>() + row.numel());
    out.push_back(strip(prismer::data::python_lower(tok.decode(ids, true))));
  }
  return out;
}

VqaTask::VqaTask(VqaTaskOptions options) : options_(std::move(options)) {
  if (options_.k_test < 1) throw std::invalid_argument("vqa task: k_test must be >= 1");
}

void VqaTask::prepare_predictions(const Dataset& dataset) {
  if (options_.answer_list.empty()) set_answer_list(dataset.answer_list());
}

void VqaTask::set_answer_list(std::vector<std::string> answers) {
  options_.answer_list = std::move(answers);
  answer_ids_ = torch::Tensor();
  answer_mask_ = torch::Tensor();
}

torch::Tensor VqaTask::loss(Backbone& backbone, const Batch& batch) {
  const Tokenizer& tok = backbone.tokenizer();
  const torch::Tensor memory = backbone.encode(batch.inputs);
  std::vector<std::string> questions, answers;
  std::vector<std::int64_t> rows;  // encoder row of each question/answer pair
  std::vector<float> weights;
  for (std::size_t i = 0; i < batch.samples.size(); ++i) {
    const Sample& s = batch.samples[i];
    if (s.answers.empty()) throw std::invalid_argument("vqa task: sample '" + s.id + "' has no answer");
    if (!s.answer_weights.empty() && s.answer_weights.size() != s.answers.size())
      throw std::invalid_argument("vqa task: sample '" + s.id + "' has " + std::to_string(s.answers.size()) +
                                  " answers but " + std::to_string(s.answer_weights.size()) + " weights");
    const auto ds = s.text.find("dataset");
    const float fallback = ds != s.text.end() && ds->second == "vg" ? options_.vg_weight : options_.default_weight;
    for (std::size_t a = 0; a < s.answers.size(); ++a) {
      questions.push_back(question_of(s));
      answers.push_back(s.answers[a]);
      rows.push_back(static_cast<std::int64_t>(i));
      weights.push_back(s.answer_weights.empty() ? fallback : s.answer_weights[a]);
    }
  }
  if (static_cast<std::int64_t>(batch.samples.size()) != memory.size(0))
    throw std::invalid_argument("vqa task: " + std::to_string(batch.samples.size()) + " samples for " +
                                std::to_string(memory.size(0)) + " encoded images");
  auto [q_ids, q_mask] = tokenize_questions(tok, questions, options_.max_question_tokens);
  auto [a_ids, a_mask] = tokenize_answers(tok, answers);
  const bool one_per_sample = rows.size() == batch.samples.size();
  const torch::Tensor mem =
      one_per_sample ? memory : memory.index_select(0, torch::tensor(rows, torch::kLong).to(memory.device()));
  const auto r = vqa_loss(backbone_decode(backbone), mem, q_ids, q_mask, a_ids, a_mask, torch::tensor(weights),
                          tok.pad_id());
  return r.loss;
}

std::vector<Prediction> VqaTask::predict(Backbone& backbone, const Batch& batch) {
  torch::NoGradGuard no_grad;
  const Tokenizer& tok = backbone.tokenizer();
  const torch::Tensor memory = backbone.encode(batch.inputs);
  const std::int64_t b = memory.size(0);
  if (static_cast<std::int64_t>(batch.samples.size()) != b)
    throw std::invalid_argument("vqa task: " + std::to_string(batch.samples.size()) + " samples for " +
                                std::to_string(b) + " encoded images");
  std::vector<std::string> questions;
  for (const auto& s : batch.samples) questions.push_back(question_of(s));
  auto [q_ids, q_mask] = tokenize_questions(tok, questions, options_.max_question_tokens);
  q_ids = q_ids.to(memory.device());
  q_mask = q_mask.to(memory.device());

  std::vector<Prediction> out(static_cast<std::size_t>(b));
  for (std::int64_t i = 0; i < b; ++i) {
    out[static_cast<std::size_t>(i)].id = batch.samples[static_cast<std::size_t>(i)].id;
    out[static_cast<std::size_t>(i)].numeric_id = batch.samples[static_cast<std::size_t>(i)].numeric_id;
  }
  if (options_.inference == VqaInference::kRank) {
    if (options_.answer_list.empty())
      throw std::runtime_error("vqa task: rank inference needs an answer list (task option 'answer_list' or "
                               "'answers', or the evaluation dataset's answer_list.json)");
    if (answers_tok_ != &tok || !answer_ids_.defined()) {
      std::tie(answer_ids_, answer_mask_) = tokenize_answers(tok, options_.answer_list);
      answers_tok_ = &tok;
    }
    caption::RankOptions ro;
    ro.k = options_.k_test;
    ro.pad_token_id = tok.pad_id();
    const auto r = caption::rank_candidates(backbone, memory, q_ids, q_mask, answer_ids_, answer_mask_, ro);
    for (std::int64_t i = 0; i < b; ++i) {
      auto& p = out[static_cast<std::size_t>(i)];
      p.text = options_.answer_list.at(static_cast<std::size_t>(r.best[i].item<std::int64_t>()));
      p.score = r.scores[i][r.best_in_topk[i].item<std::int64_t>()].item<double>();
    }
    return out;
  }
  auto cache = backbone.new_cache();
  const auto res = vqa_generate(backbone_decode(backbone), *cache, memory, q_ids, q_mask, options_, tok.pad_id(),
                                tok.eos_id());
  const auto answers = decode_answers(tok, res.sequences, q_ids.size(1));
  for (std::int64_t i = 0; i < b; ++i) {
    out[static_cast<std::size_t>(i)].text = answers[static_cast<std::size_t>(i)];
    out[static_cast<std::size_t>(i)].score = res.sequences_scores[i].item<double>();
  }
  return out;
}

Metrics VqaTask::evaluate(const std::vector<Prediction>& predictions, const Dataset& dataset) {
  std::map<std::string, std::string> by_id;
  for (const auto& p : predictions) by_id[p.id] = p.text;
  metrics::VqaAnnotations ann;
  std::vector<std::string> answers;
  for (std::size_t i = 0; i < dataset.size(); ++i) {
    const Sample s = dataset.sample(i);
    auto it = by_id.find(s.id);
    if (it == by_id.end()) continue;  // only the predicted questions are scored
    if (s.answers.empty()) throw std::runtime_error("vqa task: sample '" + s.id + "' has no ground-truth answers");
    metrics::VqaQuestionAnnotation q;
    q.question_id = question_id_of(s.id, s.numeric_id);
    auto qt = s.text.find("question_type");
    auto at = s.text.find("answer_type");
    q.question_type = qt != s.text.end() ? qt->second : std::string();
    q.answer_type = at != s.text.end() ? at->second : std::string();
    for (std::size_t a = 0; a < s.answers.size(); ++a)
      q.answers.push_back({{"answer", s.answers[a]}, {"answer_confidence", "yes"}, {"answer_id", a + 1}});
    ann.index[q.question_id.dump()] = ann.questions.size();
    ann.questions.push_back(std::move(q));
    answers.push_back(it->second);
  }
  if (ann.questions.empty()) throw std::runtime_error("vqa task: no prediction matches a dataset sample");
  const auto scores = metrics::evaluate_vqa(ann, answers);
  Metrics m;
  m["accuracy"] = scores.overall;
  for (const auto& [type, v] : scores.per_answer_type)
    if (!type.empty()) m["accuracy_" + type] = v;
  return m;
}

void VqaTask::write_results(const std::vector<Prediction>& predictions, const std::string& path) const {
  nlohmann::json doc = nlohmann::json::array();
  for (const auto& p : predictions)
    doc.push_back({{"question_id", question_id_of(p.id, p.numeric_id)}, {"answer", p.text}});
  const std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
  const std::filesystem::path tmp = target.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write " + tmp.string());
    f << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    if (!f) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, target);
}

}  // namespace prismer::vqa
