// The VQA task (model/prismer_vqa.py PrismerVQA): the weighted answer loss, answer ranking over an answer list
// (`inference='rank'`) or beam-search generation (`inference='generate'`), VQA accuracy and the official result
// file [{"question_id", "answer"}].
//
// Text layout as the reference builds it: question = '<s>' + question.capitalize(), tokenised without added
// special tokens and truncated to 35 ids; answer = ' ' + answer.capitalize() + '</s>' (the answer's ids, then
// EOS); both right-padded to the longest in the batch / list. Training input = question ids + answer ids, with
// every question column and every pad set to -100 in the labels.
#pragma once

#include "beam_search.h"
#include "rank.h"

#include <prismer/task.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace prismer::vqa {

enum class VqaInference {
  kGenerate,  ///< beam search after the question (num_beams 3, max_length q+10, min_length q+2, length_penalty -1)
  kRank,      ///< the best answer of `answer_list` (first-token top-k_test, then mean log-likelihood)
};

struct VqaTaskOptions {
  VqaInference inference = VqaInference::kGenerate;
  std::int64_t max_question_tokens = 35;  ///< question truncation, the leading <s> included
  std::int64_t k_test = 16;               ///< rank: candidates kept by the first-token filter (Prismer's vqa.yaml)
  std::vector<std::string> answer_list;   ///< rank: the candidate answers
  caption::BeamSearchOptions beam;        ///< generate: num_beams, length_penalty, early-stop rule
  std::int64_t max_new_tokens = 10;       ///< generate: max_length = question length + this
  std::int64_t min_new_tokens = 2;        ///< generate: min_length = question length + this
  float default_weight = 1.0f;  ///< weight of an answer without Sample::answer_weights
  float vg_weight = 0.2f;       ///< ... of a Visual Genome sample (text["dataset"] == "vg"), as the reference
  VqaTaskOptions() { beam.length_penalty = -1.0; }
};

/// Ids [B, Q] and mask of questions: <s> + tokens of question.capitalize(), truncated to `max_tokens`, right-padded.
std::pair<torch::Tensor, torch::Tensor> tokenize_questions(const Tokenizer& tok, const std::vector<std::string>& questions,
                                                           std::int64_t max_tokens);
/// Ids [N, A] and mask of answers: tokens of ' ' + answer.capitalize(), then EOS, right-padded.
std::pair<torch::Tensor, torch::Tensor> tokenize_answers(const Tokenizer& tok, const std::vector<std::string>& answers);

/// The training loss of question/answer rows (the reference's train branch).
struct VqaLoss {
  torch::Tensor loss;            ///< scalar: (weights * per_sample).mean()
  torch::Tensor per_sample;      ///< [N] label-smoothed cross-entropy summed over each row's answer tokens
  torch::Tensor input_ids;       ///< [N, Q + A] question ids then answer ids
  torch::Tensor attention_mask;  ///< [N, Q + A]
  torch::Tensor labels;          ///< [N, Q + A] input_ids with pads and question columns set to -100
};

/// `memory` [N, L, D] (one encoder row per question/answer row), weights [N].
VqaLoss vqa_loss(const caption::DecodeFn& decode, const torch::Tensor& memory, const torch::Tensor& question_ids,
                 const torch::Tensor& question_mask, const torch::Tensor& answer_ids, const torch::Tensor& answer_mask,
                 const torch::Tensor& weights, std::int64_t pad_token_id);

/// The generate branch: beam search after the (right-padded) questions with max_length = Q + max_new_tokens and
/// min_length = Q + min_new_tokens; `options.beam` gives num_beams, length_penalty and the early-stop rule.
caption::BeamSearchResult vqa_generate(const caption::DecodeFn& decode, DecodeCache& cache, const torch::Tensor& memory,
                                       const torch::Tensor& question_ids, const torch::Tensor& question_mask,
                                       const VqaTaskOptions& options, std::int64_t pad_token_id,
                                       std::int64_t eos_token_id);

/// The answers of generated sequences: decode(sequence[Q:]) without special tokens, lower-cased and stripped.
std::vector<std::string> decode_answers(const Tokenizer& tok, const torch::Tensor& sequences, std::int64_t question_len);

/// loss(): each sample contributes one row per answer (Sample::answers) with its weight (Sample::answer_weights;
/// else vg_weight for text["dataset"] == "vg", else default_weight); the loss is the mean over rows of
/// weight * loss, which is the reference's (weights * loss).mean() for its one-answer-per-sample batches.
/// predict(): the question is Sample::text["question"]; the prediction's text is the answer, its numeric_id the
/// question id; rank needs an answer list (options or set_answer_list()). evaluate(): VQA accuracy (official processing) against the dataset samples' `answers`
/// ("accuracy" and "accuracy_<answer type>" for text["answer_type"] when the samples carry it).
class VqaTask : public Task {
 public:
  explicit VqaTask(VqaTaskOptions options);
  torch::Tensor loss(Backbone& backbone, const Batch& batch) override;
  /// Rank inference without an answer list of its own (options) takes the dataset's answer_list(), as the
  /// original reads answer_list.json beside the test questions.
  void prepare_predictions(const Dataset& dataset) override;
  std::vector<Prediction> predict(Backbone& backbone, const Batch& batch) override;
  Metrics evaluate(const std::vector<Prediction>& predictions, const Dataset& dataset) override;
  void write_results(const std::vector<Prediction>& predictions, const std::string& path) const override;
  const VqaTaskOptions& options() const { return options_; }
  /// Replaces the rank candidates (e.g. with Dataset::answer_list() of the evaluation data).
  void set_answer_list(std::vector<std::string> answers);

 private:
  VqaTaskOptions options_;
  // the tokenised answer list, made on first use (it depends on the backbone's tokenizer)
  const Tokenizer* answers_tok_ = nullptr;
  torch::Tensor answer_ids_, answer_mask_;
};

}  // namespace prismer::vqa
