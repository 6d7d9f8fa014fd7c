/// \file caption_data.h
/// Loading COCO-format caption annotations and caption results, with strict validation.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace prismer::metrics {

/// Text key of a JSON id: the decimal digits of an integer id, the text of a string id.
std::string id_key(const nlohmann::json& id);

/// Ground truth: images in evaluation order (`images` order of the file) and their reference captions
/// (annotation order).
struct CaptionGroundTruth {
  std::vector<nlohmann::json> image_ids;          ///< ids as in the file (integer or string)
  std::vector<std::vector<std::string>> captions;  ///< raw reference captions per image
};

/// Results: one raw caption per ground-truth image, aligned with CaptionGroundTruth::image_ids.
struct CaptionResults {
  std::vector<std::string> captions;
};

/// Parses a COCO caption annotation document {"images":[{"id",...}], "annotations":[{"image_id","caption"}]}.
/// Without "images", images are taken in order of first appearance in "annotations".
/// `source` names the file in error messages. Throws std::runtime_error("<source>: <problem>") for
/// wrong structure or types, duplicate image ids, annotations of unknown images, images without captions.
CaptionGroundTruth parse_caption_annotations(const nlohmann::json& doc, const std::string& source);

/// Reads and parses a caption annotation file (errors name the file).
CaptionGroundTruth load_caption_annotations(const std::filesystem::path& path);

/// Parses a COCO results array [{"image_id","caption"}] against the ground truth. Throws
/// std::runtime_error("<source>: <problem>") for wrong structure, image ids not in the ground truth,
/// more than one caption for an image, or ground-truth images without a result.
CaptionResults parse_caption_results(const nlohmann::json& doc, const CaptionGroundTruth& gt,
                                     const std::string& source);

/// Reads and parses a caption results file (errors name the file).
CaptionResults load_caption_results(const std::filesystem::path& path, const CaptionGroundTruth& gt);

}  // namespace prismer::metrics
