// COCO caption annotation / result files: parsing and validation.
#include "prismer/metrics/caption_data.h"

#include "prismer/metrics/json_io.h"
#include "input_checks.h"

#include <stdexcept>
#include <unordered_map>

namespace prismer::metrics {

using detail::fail;
using detail::show;
using detail::valid_id;

std::string id_key(const nlohmann::json& id) {
  if (id.is_string()) return id.get<std::string>();
  return id.dump();
}

CaptionGroundTruth parse_caption_annotations(const nlohmann::json& doc, const std::string& source) {
  if (!doc.is_object())
    fail(source, "caption annotations must be a JSON object with \"images\" and \"annotations\" (got " +
                     std::string(doc.type_name()) + ")");
  if (!doc.contains("annotations") || !doc["annotations"].is_array())
    fail(source, "missing or non-array field \"annotations\"");

  CaptionGroundTruth gt;
  std::unordered_map<std::string, std::size_t> index;  // type-aware key (JSON dump) -> position
  const bool has_images = doc.contains("images");
  if (has_images) {
    if (!doc["images"].is_array()) fail(source, "field \"images\" is not an array");
    std::size_t k = 0;
    for (const auto& img : doc["images"]) {
      if (!img.is_object() || !img.contains("id"))
        fail(source, "images[" + std::to_string(k) + "] is not an object with an \"id\"");
      if (!valid_id(img["id"]))
        fail(source, "images[" + std::to_string(k) + "].id must be an integer or a string, got " + show(img["id"]));
      const std::string key = img["id"].dump();
      if (index.count(key) != 0) fail(source, "duplicate image id " + show(img["id"]) + " in \"images\"");
      index.emplace(key, gt.image_ids.size());
      gt.image_ids.push_back(img["id"]);
      ++k;
    }
    gt.captions.resize(gt.image_ids.size());
  }
  std::size_t k = 0;
  for (const auto& ann : doc["annotations"]) {
    const std::string where = "annotations[" + std::to_string(k) + "]";
    if (!ann.is_object()) fail(source, where + " is not an object");
    if (!ann.contains("image_id")) fail(source, where + " has no \"image_id\"");
    if (!ann.contains("caption")) fail(source, where + " has no \"caption\"");
    if (!valid_id(ann["image_id"]))
      fail(source, where + ".image_id must be an integer or a string, got " + show(ann["image_id"]));
    if (!ann["caption"].is_string()) fail(source, where + ".caption must be a string, got " + show(ann["caption"]));
    const std::string key = ann["image_id"].dump();
    auto it = index.find(key);
    if (it == index.end()) {
      if (has_images) fail(source, where + " refers to image_id " + show(ann["image_id"]) + " which is not in \"images\"");
      it = index.emplace(key, gt.image_ids.size()).first;
      gt.image_ids.push_back(ann["image_id"]);
      gt.captions.emplace_back();
    }
    gt.captions[it->second].push_back(ann["caption"].get<std::string>());
    ++k;
  }
  if (gt.image_ids.empty()) fail(source, "no images to evaluate");
  for (std::size_t i = 0; i < gt.image_ids.size(); ++i) {
    if (gt.captions[i].empty()) fail(source, "image " + show(gt.image_ids[i]) + " has no reference caption");
  }
  return gt;
}

CaptionGroundTruth load_caption_annotations(const std::filesystem::path& path) {
  return parse_caption_annotations(read_json_file(path), path.string());
}

CaptionResults parse_caption_results(const nlohmann::json& doc, const CaptionGroundTruth& gt,
                                     const std::string& source) {
  if (!doc.is_array())
    fail(source, "caption results must be a JSON array of {\"image_id\", \"caption\"} (got " +
                     std::string(doc.type_name()) + ")");
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < gt.image_ids.size(); ++i) index.emplace(gt.image_ids[i].dump(), i);
  CaptionResults res;
  res.captions.resize(gt.image_ids.size());
  std::vector<bool> seen(gt.image_ids.size(), false);
  std::size_t k = 0;
  for (const auto& r : doc) {
    const std::string where = "result[" + std::to_string(k) + "]";
    if (!r.is_object()) fail(source, where + " is not an object");
    if (!r.contains("image_id")) fail(source, where + " has no \"image_id\"");
    if (!r.contains("caption")) fail(source, where + " has no \"caption\"");
    if (!valid_id(r["image_id"])) fail(source, where + ".image_id must be an integer or a string, got " + show(r["image_id"]));
    if (!r["caption"].is_string()) fail(source, where + ".caption must be a string, got " + show(r["caption"]));
    auto it = index.find(r["image_id"].dump());
    if (it == index.end())
      fail(source, where + " has image_id " + show(r["image_id"]) + " which is not in the annotations");
    if (seen[it->second]) fail(source, "more than one caption for image_id " + show(r["image_id"]));
    seen[it->second] = true;
    res.captions[it->second] = r["caption"].get<std::string>();
    ++k;
  }
  std::size_t missing = 0;
  std::string examples;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) {
      if (missing < 5) examples += (missing ? ", " : "") + show(gt.image_ids[i]);
      ++missing;
    }
  }
  if (missing > 0)
    fail(source, "no caption for " + std::to_string(missing) + " annotated image(s), e.g. image_id " + examples);
  return res;
}

CaptionResults load_caption_results(const std::filesystem::path& path, const CaptionGroundTruth& gt) {
  return parse_caption_results(read_json_file(path), gt, path.string());
}

}  // namespace prismer::metrics
