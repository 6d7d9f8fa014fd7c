// VQA lists: vqav2_train_val.json, vg_qa.json, vqav2_test.json, answer_list.json -> Samples.
#include "prismer/datasets/vqa_lists.h"

#include "prismer/data/text_clean.h"
#include "prismer/datasets/caption_lists.h"
#include "prismer/datasets/json_list.h"
#include "text_errors.h"

namespace prismer::datasets {

std::string vqa_folder(const std::string& dataset_field, const std::string& file, std::size_t index) {
  if (dataset_field == "vqa") return "vqav2";
  if (dataset_field == "vg") return "vg";
  throw std::runtime_error(file + ": entry " + std::to_string(index) + ": unknown dataset '" + dataset_field +
                           "' (expected 'vqa' or 'vg')");
}

namespace {

Sample question_sample(const JsonList& list, std::size_t i, const std::string& data_root, int max_words) {
  const std::string folder = vqa_folder(list.string(i, "dataset"), list.path(), i);
  const std::string image = list.string(i, "image");
  Sample s = list_sample(data_root, folder, image);
  const std::string question = list.string(i, "question");
  with_text_errors(list, i, [&] { s.text["question"] = data::pre_question(question, max_words); });
  return s;
}

void read_answers(const JsonList& list, std::size_t i, Sample& s) {
  s.answers = list.strings(i, "answer");
  if (s.label_subdir == "vg") {
    s.answer_weights.assign(s.answers.size(), kVgAnswerWeight);
    return;
  }
  for (double w : list.numbers(i, "weight")) s.answer_weights.push_back(static_cast<float>(w));
  if (s.answer_weights.size() != s.answers.size())
    list.fail(i, std::to_string(s.answers.size()) + " answers but " + std::to_string(s.answer_weights.size()) + " weights");
}

}  // namespace

std::vector<Sample> read_vqa_train(const std::string& file, const std::string& data_root, int max_words) {
  const JsonList list(file);
  std::vector<Sample> out;
  out.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    Sample s = question_sample(list, i, data_root, max_words);
    read_answers(list, i, s);
    if (list.has(i, "question_id")) s.numeric_id = list.integer(i, "question_id");
    s.id = s.label_subdir + "/" + list.string(i, "image") + "#" + std::to_string(i);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Sample> read_vqa_eval(const std::string& file, const std::string& data_root, int max_words) {
  const JsonList list(file);
  std::vector<Sample> out;
  out.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    Sample s = question_sample(list, i, data_root, max_words);
    s.numeric_id = list.integer(i, "question_id");
    s.id = std::to_string(s.numeric_id);
    if (list.has(i, "answer")) {
      s.answers = list.strings(i, "answer");
      if (list.has(i, "weight")) read_answers(list, i, s);
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> read_answer_list(const std::string& file) {
  const JsonList list(file);
  std::vector<std::string> out;
  out.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) out.push_back(list.string_at(i));
  return out;
}

}  // namespace prismer::datasets
