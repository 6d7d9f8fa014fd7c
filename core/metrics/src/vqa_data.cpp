// VQA annotation / question / result files: parsing and validation.
#include "prismer/metrics/vqa_data.h"

#include "prismer/metrics/json_io.h"
#include "input_checks.h"

#include <algorithm>
#include <stdexcept>

namespace prismer::metrics {

using detail::fail;
using detail::show;
using detail::valid_id;

VqaAnnotations parse_vqa_annotations(const nlohmann::json& annotations, const std::string& annotations_source,
                                     const nlohmann::json& questions, const std::string& questions_source) {
  const std::string& as = annotations_source;
  if (!annotations.is_object()) fail(as, "VQA annotations must be a JSON object with \"annotations\"");
  if (!annotations.contains("annotations") || !annotations["annotations"].is_array())
    fail(as, "missing or non-array field \"annotations\"");
  VqaAnnotations out;
  std::size_t k = 0;
  for (const auto& a : annotations["annotations"]) {
    const std::string where = "annotations[" + std::to_string(k) + "]";
    if (!a.is_object()) fail(as, where + " is not an object");
    for (const char* f : {"question_id", "question_type", "answer_type", "answers"}) {
      if (!a.contains(f)) fail(as, where + " has no \"" + std::string(f) + "\"");
    }
    if (!valid_id(a["question_id"]))
      fail(as, where + ".question_id must be an integer or a string, got " + show(a["question_id"]));
    if (!a["question_type"].is_string()) fail(as, where + ".question_type must be a string");
    if (!a["answer_type"].is_string()) fail(as, where + ".answer_type must be a string");
    if (!a["answers"].is_array() || a["answers"].empty()) fail(as, where + ".answers must be a non-empty array");
    VqaQuestionAnnotation q;
    q.question_id = a["question_id"];
    q.question_type = a["question_type"].get<std::string>();
    q.answer_type = a["answer_type"].get<std::string>();
    std::size_t j = 0;
    for (const auto& ans : a["answers"]) {
      if (!ans.is_object() || !ans.contains("answer") || !ans["answer"].is_string())
        fail(as, where + ".answers[" + std::to_string(j) + "] is not an object with a string \"answer\"");
      q.answers.push_back(ans);
      ++j;
    }
    const std::string key = q.question_id.dump();
    if (out.index.count(key) != 0) fail(as, "duplicate question_id " + show(q.question_id));
    out.index.emplace(key, out.questions.size());
    out.questions.push_back(std::move(q));
    ++k;
  }
  if (out.questions.empty()) fail(as, "no annotated questions");

  const std::string& qs = questions_source;
  if (!questions.is_object()) fail(qs, "VQA questions must be a JSON object with \"questions\"");
  if (!questions.contains("questions") || !questions["questions"].is_array())
    fail(qs, "missing or non-array field \"questions\"");
  if (questions.contains("task_type")) {
    if (!questions["task_type"].is_string()) fail(qs, "\"task_type\" must be a string");
    out.task_type = questions["task_type"].get<std::string>();
  }
  std::vector<bool> has_question(out.questions.size(), false);
  k = 0;
  for (const auto& q : questions["questions"]) {
    const std::string where = "questions[" + std::to_string(k) + "]";
    if (!q.is_object() || !q.contains("question_id")) fail(qs, where + " is not an object with a \"question_id\"");
    if (!valid_id(q["question_id"]))
      fail(qs, where + ".question_id must be an integer or a string, got " + show(q["question_id"]));
    auto it = out.index.find(q["question_id"].dump());
    if (it != out.index.end()) {
      has_question[it->second] = true;
      if (q.contains("multiple_choices")) {
        if (!q["multiple_choices"].is_array()) fail(qs, where + ".multiple_choices must be an array");
        for (const auto& c : q["multiple_choices"]) {
          if (c.is_string()) out.questions[it->second].multiple_choices.push_back(c.get<std::string>());
        }
      }
    }
    ++k;
  }
  for (std::size_t i = 0; i < has_question.size(); ++i) {
    if (!has_question[i])
      fail(qs, "annotated question_id " + show(out.questions[i].question_id) + " is missing from the questions file");
  }
  return out;
}

VqaAnnotations load_vqa_annotations(const std::filesystem::path& annotations_path,
                                    const std::filesystem::path& questions_path) {
  const nlohmann::json a = read_json_file(annotations_path);
  const nlohmann::json q = read_json_file(questions_path);
  return parse_vqa_annotations(a, annotations_path.string(), q, questions_path.string());
}

std::vector<std::string> parse_vqa_results(const nlohmann::json& doc, const VqaAnnotations& ann,
                                           const std::string& source) {
  if (!doc.is_array()) fail(source, "results is not an array of objects ([{\"question_id\", \"answer\"}])");
  std::vector<std::string> answers(ann.questions.size());
  std::vector<bool> seen(ann.questions.size(), false);
  std::size_t k = 0;
  for (const auto& r : doc) {
    const std::string where = "result[" + std::to_string(k) + "]";
    if (!r.is_object()) fail(source, where + " is not an object");
    if (!r.contains("question_id")) fail(source, where + " has no \"question_id\"");
    if (!r.contains("answer")) fail(source, where + " has no \"answer\"");
    if (!valid_id(r["question_id"]))
      fail(source, where + ".question_id must be an integer or a string, got " + show(r["question_id"]));
    if (!r["answer"].is_string()) fail(source, where + ".answer must be a string, got " + show(r["answer"]));
    auto it = ann.index.find(r["question_id"].dump());
    if (it == ann.index.end())
      fail(source, where + " has question_id " + show(r["question_id"]) +
                       " which is not in the annotations (results do not correspond to the VQA set)");
    const std::string a = r["answer"].get<std::string>();
    if (ann.task_type == "Multiple Choice") {
      const auto& mc = ann.questions[it->second].multiple_choices;
      if (std::find(mc.begin(), mc.end(), a) == mc.end())
        fail(source, where + ": predicted answer is not one of the multiple choices");
    }
    answers[it->second] = a;
    seen[it->second] = true;
    ++k;
  }
  std::size_t missing = 0;
  std::string examples;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) {
      if (missing < 5) examples += (missing ? ", " : "") + show(ann.questions[i].question_id);
      ++missing;
    }
  }
  if (missing > 0)
    fail(source, "no answer for " + std::to_string(missing) + " annotated question(s), e.g. question_id " + examples);
  return answers;
}

std::vector<std::string> load_vqa_results(const std::filesystem::path& path, const VqaAnnotations& ann) {
  return parse_vqa_results(read_json_file(path), ann, path.string());
}

}  // namespace prismer::metrics
