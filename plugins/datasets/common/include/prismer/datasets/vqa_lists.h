// The question-answer lists of the original VQA dataset, as Samples.
#pragma once

#include <prismer/sample.h>

#include <string>
#include <vector>

namespace prismer::datasets {

/// Weight the original gives every Visual Genome answer (`torch.tensor(0.2)`).
inline constexpr float kVgAnswerWeight = 0.2f;

/// The image and label folder of an entry's `dataset` field: 'vqa' -> "vqav2", 'vg' -> "vg"; anything else is
/// an error naming the file and entry (the original fails there with UnboundLocalError).
std::string vqa_folder(const std::string& dataset_field, const std::string& file, std::size_t index);

/// A training list (vqav2_train_val.json, vg_qa.json: {dataset, image, question, answer[, weight]}):
/// question `pre_question(question, max_words)`, answers as listed, weights float32 (VG: 0.2 for each answer),
/// id "<folder>/<image>#<index>", numeric_id the entry's question_id or -1.
std::vector<Sample> read_vqa_train(const std::string& file, const std::string& data_root, int max_words);

/// An evaluation list (vqav2_test.json: {dataset, image, question, question_id}): id = the question id,
/// numeric_id = question_id; answers (and weights) when the entry has 'answer' (a split with ground truth).
std::vector<Sample> read_vqa_eval(const std::string& file, const std::string& data_root, int max_words);

/// answer_list.json: a JSON list of answer strings.
std::vector<std::string> read_answer_list(const std::string& file);

}  // namespace prismer::datasets
