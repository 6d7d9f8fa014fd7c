/// \file vqa_accuracy.h
/// VQA accuracy exactly as the official VQAEval.evaluate() (n = 2 decimals) computes it.
#pragma once

#include "prismer/metrics/vqa_data.h"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace prismer::metrics {

/// Accuracy of one question.
struct VqaQuestionScore {
  nlohmann::json question_id;                      ///< as in the annotation file
  double accuracy = 0;                             ///< round(100 * fraction, 2) (= VQAEval.evalQA)
  double fraction = 0;                             ///< mean over GT answers of min(1, matches among the others / 3)
  std::string answer;                              ///< the result answer after the official processing
  std::vector<std::string> normalized_gt_answers;  ///< GT answers after the official (in-place) processing
  std::string question_type;
  std::string answer_type;
};

/// Result of a VQA evaluation; maps keep the first-appearance order of the types.
struct VqaScores {
  double overall = 0;                                              ///< rounded to 2 decimals
  double overall_unrounded = 0;                                    ///< 100 * sum / count
  std::vector<std::pair<std::string, double>> per_question_type;   ///< rounded
  std::vector<std::pair<std::string, double>> per_answer_type;     ///< rounded
  std::vector<std::pair<std::string, double>> per_question_type_unrounded;
  std::vector<std::pair<std::string, double>> per_answer_type_unrounded;
  std::vector<VqaQuestionScore> per_question;                      ///< annotation order
};

/// Accuracy of one answer against GT answer objects, with the official processing: '\n'/'\t' -> ' ' and
/// strip on everything; only when the stripped GT answers are not all identical, GT answers and the
/// answer go through processPunctuation + processDigitArticle. `gt_answers` are updated in place
/// (like the official code); returns the fraction in [0, 1] and stores the processed answer in `answer`.
double vqa_answer_accuracy(std::string& answer, std::vector<nlohmann::json>& gt_answers);

/// Evaluates aligned results (see parse_vqa_results) against the annotations.
VqaScores evaluate_vqa(const VqaAnnotations& annotations, const std::vector<std::string>& answers);

/// {"overall", "perQuestionType", "perAnswerType", "unrounded": {...}, "num_questions"}
nlohmann::ordered_json vqa_summary_json(const VqaScores& scores);

/// {question_id_key: {"accuracy", "accuracy_unrounded_fraction", "answer", "normalized_gt_answers",
/// "question_type", "answer_type"}} in evaluation order.
nlohmann::ordered_json vqa_per_question_json(const VqaScores& scores);

}  // namespace prismer::metrics
