// VQAEval.evaluate() of GT-Vision-Lab/VQA (PythonEvaluationTools/vqaEvaluation/vqaEval.py, a013f00).
#include "prismer/metrics/vqa_accuracy.h"

#include "prismer/metrics/caption_data.h"
#include "prismer/metrics/python_numeric.h"
#include "prismer/metrics/vqa_normalize.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace prismer::metrics {

namespace {

constexpr int kDecimals = 2;

void add_to(std::vector<std::pair<std::string, std::vector<double>>>& groups, const std::string& key, double v) {
  for (auto& g : groups) {
    if (g.first == key) {
      g.second.push_back(v);
      return;
    }
  }
  groups.emplace_back(key, std::vector<double>{v});
}

double percent(const std::vector<double>& accs) {
  return 100 * python_sum(accs) / static_cast<double>(accs.size());
}

}  // namespace

double vqa_answer_accuracy(std::string& answer, std::vector<nlohmann::json>& gt_answers) {
  for (auto& a : gt_answers) a["answer"] = vqa_clean_whitespace(a["answer"].get<std::string>());
  answer = vqa_clean_whitespace(answer);
  std::set<std::string> distinct;
  for (const auto& a : gt_answers) distinct.insert(a["answer"].get<std::string>());
  if (distinct.size() > 1) {
    for (auto& a : gt_answers) a["answer"] = vqa_normalize_answer(a["answer"].get<std::string>());
    answer = vqa_normalize_answer(answer);
  }
  std::vector<double> gt_acc;
  for (const auto& gt : gt_answers) {
    int matching = 0;
    for (const auto& other : gt_answers) {
      if (other == gt) continue;  // "item != gtAnsDatum": dict equality, not identity
      if (other["answer"].get<std::string>() == answer) ++matching;
    }
    gt_acc.push_back(std::min(1.0, static_cast<double>(matching) / 3));
  }
  return python_sum(gt_acc) / static_cast<double>(gt_acc.size());
}

VqaScores evaluate_vqa(const VqaAnnotations& annotations, const std::vector<std::string>& answers) {
  if (answers.size() != annotations.questions.size())
    throw std::invalid_argument("evaluate_vqa: answers are not aligned with the annotations");
  VqaScores out;
  std::vector<double> acc_qa;
  std::vector<std::pair<std::string, std::vector<double>>> by_qtype;
  std::vector<std::pair<std::string, std::vector<double>>> by_atype;
  for (std::size_t i = 0; i < annotations.questions.size(); ++i) {
    const auto& q = annotations.questions[i];
    std::vector<nlohmann::json> gts = q.answers;
    std::string answer = answers[i];
    const double acc = vqa_answer_accuracy(answer, gts);
    acc_qa.push_back(acc);
    add_to(by_qtype, q.question_type, acc);
    add_to(by_atype, q.answer_type, acc);
    VqaQuestionScore s;
    s.question_id = q.question_id;
    s.fraction = acc;
    s.accuracy = python_round(100 * acc, kDecimals);
    s.answer = answer;
    for (const auto& g : gts) s.normalized_gt_answers.push_back(g["answer"].get<std::string>());
    s.question_type = q.question_type;
    s.answer_type = q.answer_type;
    out.per_question.push_back(std::move(s));
  }
  out.overall_unrounded = percent(acc_qa);
  out.overall = python_round(out.overall_unrounded, kDecimals);
  for (const auto& [k, v] : by_qtype) {
    out.per_question_type_unrounded.emplace_back(k, percent(v));
    out.per_question_type.emplace_back(k, python_round(percent(v), kDecimals));
  }
  for (const auto& [k, v] : by_atype) {
    out.per_answer_type_unrounded.emplace_back(k, percent(v));
    out.per_answer_type.emplace_back(k, python_round(percent(v), kDecimals));
  }
  return out;
}

nlohmann::ordered_json vqa_summary_json(const VqaScores& scores) {
  nlohmann::ordered_json j;
  j["overall"] = scores.overall;
  j["perQuestionType"] = nlohmann::ordered_json::object();
  for (const auto& [k, v] : scores.per_question_type) j["perQuestionType"][k] = v;
  j["perAnswerType"] = nlohmann::ordered_json::object();
  for (const auto& [k, v] : scores.per_answer_type) j["perAnswerType"][k] = v;
  nlohmann::ordered_json u;
  u["overall"] = scores.overall_unrounded;
  u["perQuestionType"] = nlohmann::ordered_json::object();
  for (const auto& [k, v] : scores.per_question_type_unrounded) u["perQuestionType"][k] = v;
  u["perAnswerType"] = nlohmann::ordered_json::object();
  for (const auto& [k, v] : scores.per_answer_type_unrounded) u["perAnswerType"][k] = v;
  j["unrounded"] = u;
  j["num_questions"] = scores.per_question.size();
  return j;
}

nlohmann::ordered_json vqa_per_question_json(const VqaScores& scores) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& s : scores.per_question) {
    nlohmann::ordered_json e;
    e["accuracy"] = s.accuracy;
    e["accuracy_unrounded_fraction"] = s.fraction;
    e["answer"] = s.answer;
    e["normalized_gt_answers"] = s.normalized_gt_answers;
    e["question_type"] = s.question_type;
    e["answer_type"] = s.answer_type;
    j[id_key(s.question_id)] = e;
  }
  return j;
}

}  // namespace prismer::metrics
