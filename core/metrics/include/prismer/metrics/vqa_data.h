/// \file vqa_data.h
/// Loading VQA annotation, question and result files (official VQA v2 formats), with validation.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

namespace prismer::metrics {

/// One annotated question.
struct VqaQuestionAnnotation {
  nlohmann::json question_id;            ///< as in the file (integer or string)
  std::string question_type;             ///< e.g. "what color is the"
  std::string answer_type;               ///< "yes/no", "number" or "other"
  std::vector<nlohmann::json> answers;   ///< the answer objects ({answer, answer_confidence, answer_id})
  std::vector<std::string> multiple_choices;  ///< from the questions file (Multiple Choice task only)
};

/// Annotations joined with the questions file, in annotation order (the evaluation order).
struct VqaAnnotations {
  std::vector<VqaQuestionAnnotation> questions;
  std::unordered_map<std::string, std::size_t> index;  ///< JSON dump of question_id -> position
  std::string task_type = "Open-Ended";                ///< from the questions file
};

/// Parses annotation and question documents. Throws std::runtime_error("<source>: <problem>") for wrong
/// structure or types, duplicate question ids, empty answer lists, or annotated questions missing
/// from the questions file.
VqaAnnotations parse_vqa_annotations(const nlohmann::json& annotations, const std::string& annotations_source,
                                     const nlohmann::json& questions, const std::string& questions_source);

/// Reads both files and parses them (errors name the offending file).
VqaAnnotations load_vqa_annotations(const std::filesystem::path& annotations_path,
                                    const std::filesystem::path& questions_path);

/// Parses a results array [{"question_id","answer"}]: returns the raw answer of every annotated question,
/// aligned with VqaAnnotations::questions. Like the official loadRes, the set of result question ids must
/// equal the annotated set (later duplicates override earlier ones); for the Multiple Choice task the
/// answer must be one of the choices. Throws std::runtime_error("<source>: <problem>").
std::vector<std::string> parse_vqa_results(const nlohmann::json& doc, const VqaAnnotations& ann,
                                           const std::string& source);

/// Reads and parses a results file (errors name the file).
std::vector<std::string> load_vqa_results(const std::filesystem::path& path, const VqaAnnotations& ann);

}  // namespace prismer::metrics
