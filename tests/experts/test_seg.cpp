// Mask2Former Swin-L segmentation expert (seg_coco) against the original Prismer code (fixtures/experts/seg_coco,
// made by running experts/segmentation/* through detectron2 on seeded random weights, fp32 CPU, the MSDeformAttn
// PyTorch fallback). Each case folder's kind comes from its contents:
// - network cases (a tensors.pt holding `input`): the raw forward of one image - Swin stages, pixel decoder,
//   every intermediate prediction (`predictor.aux<l>.*`) and the final one, the semantic scores, and the argmax
//   label exactly wherever the reference's top-2 margin is >= 1e-3;
// - single-image pipeline cases (labels/ and an info.json whose every image ran in a batch of one): the model
//   input (Pillow-exact Resize(479, max_size=480), BGR), the final class logits, and the label PNG exactly except at
//   the listed near-tie pixels (`close_pixels_*`, top-2 margin < 1e-3), where either of the two classes is accepted;
// - batched pipeline cases (an image whose `batch` in info.json holds several images): NOT a parity target for
//   the labels. The original padded a batch of differently sized images together, so its labels depended on the
//   neighbours; the port segments each image alone (as pipeline_single). Only the model inputs are checked there.
// Tolerances from the fixture README: features ~1e-4 relative (of the tensor's largest magnitude); logits and
// masks likewise (observed 2e-5 absolute between 1 and 2 threads, against magnitudes ~20-40).
#include "fixture_tensor.h"
#include "fixtures.h"
#include "seeded_weights.h"

#include "seg/checkpoint.h"
#include "seg/mask2former.h"
#include "seg/processing.h"

#include <prismer/data/image_tensor.h>
#include <prismer/image.h>
#include <prismer/weights.h>

#include <nlohmann/json.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>

namespace fs = std::filesystem;
using namespace prismer::test;
namespace seg = prismer::experts::seg;
using torch::indexing::Slice;

namespace {

constexpr double kRelTol = 1e-4;     // float tensors: max |diff| / max |reference|
constexpr double kTieMargin = 1e-3;  // pixels whose reference top-2 margin is below this may take either class

fs::path seg_dir() { return fixtures_root() / "experts" / "seg_coco"; }

/// The model with the fixture's seeded weights (216 M values, built once). The weights go through the file path:
/// model names -> the released .pkl's names (sem_seg_head.X) -> the original's key upgrade -> strict load.
seg::Mask2Former& seeded_model() {
  static seg::Mask2Former model = [] {
    seg::Mask2Former m(seg::Mask2FormerConfig::coco());
    {
      const prismer::TensorMap file = seg::to_file_keys(seeded_weights(seg_dir() / "weights.json"));
      seg::load_state_dict(*m, seg::upgrade_keys(file), (seg_dir() / "weights.json").string());
    }
    m->eval();
    return m;
  }();
  return model;
}

/// max |got - want| / max |want|, checked against kRelTol and printed.
double check_close(const std::string& name, const torch::Tensor& got, const torch::Tensor& want) {
  INFO(name);
  REQUIRE(got.sizes().vec() == want.sizes().vec());
  const double diff = (got.to(torch::kFloat64) - want.to(torch::kFloat64)).abs().max().item<double>();
  const double scale = std::max(want.abs().max().item<double>(), 1e-12);
  std::cout << "    " << name << ": max |diff| " << diff << " (relative " << diff / scale << ")\n";
  CHECK(diff / scale <= kRelTol);
  return diff / scale;
}

/// Applies a fixture name's index suffix ("[:, :32]", "[:, 40, 60]") to our full tensor.
torch::Tensor apply_suffix(torch::Tensor t, const std::string& suffix) {
  if (suffix.empty()) return t;
  std::string inner = suffix.substr(1, suffix.size() - 2);
  std::vector<torch::indexing::TensorIndex> idx;
  std::stringstream ss(inner);
  for (std::string part; std::getline(ss, part, ',');) {
    part.erase(std::remove(part.begin(), part.end(), ' '), part.end());
    if (part == ":") idx.emplace_back(Slice());
    else if (part.rfind(':', 0) == 0) idx.emplace_back(Slice(0, static_cast<std::int64_t>(std::stoll(part.substr(1)))));
    else idx.emplace_back(static_cast<std::int64_t>(std::stoll(part)));
  }
  return t.index(idx);
}

void run_network_case(const fs::path& dir) {
  const fs::path file = dir / "tensors.pt";
  const prismer::TensorMap ref = prismer::load_weights(file.string());
  const torch::Tensor& input = fixture_tensor(ref, "input", file);
  const torch::Tensor& want_label = fixture_tensor(ref, "sem_seg.argmax", file);  // its shape is the requested output size
  torch::InferenceMode guard;
  seg::Mask2FormerOutputs out;
  const torch::Tensor semseg =
      seg::semantic_segmentation(*seeded_model(), input, want_label.size(0), want_label.size(1), &out);

  std::map<std::string, torch::Tensor> ours = {
      {"pixel_decoder.mask_features", out.pixel_decoder.mask_features},
      {"predictor.pred_logits", out.predictor.final.logits},
      {"predictor.pred_masks", out.predictor.final.masks},
      {"sem_seg", semseg}};
  for (std::size_t i = 0; i < 4; ++i) ours["backbone.res" + std::to_string(i + 2)] = out.backbone[i];
  for (std::size_t i = 0; i < 3; ++i)
    ours["pixel_decoder.multi_scale_features." + std::to_string(i)] = out.pixel_decoder.multi_scale_features[i];
  for (std::size_t l = 0; l < out.predictor.aux.size(); ++l) {
    ours["predictor.aux" + std::to_string(l) + ".pred_logits"] = out.predictor.aux[l].logits;
    ours["predictor.aux" + std::to_string(l) + ".pred_masks"] = out.predictor.aux[l].masks;
  }
  const auto top2 = std::get<0>(semseg.topk(2, 0));
  ours["sem_seg.top1_minus_top2"] = top2[0] - top2[1];

  double worst = 0;
  const std::regex name_re(R"(^([^\[]+)(\[.*\])?$)");
  for (const auto& [name, want] : ref) {
    if (name == "input" || name == "sem_seg.argmax") continue;
    INFO(file.string() << ": tensor " << name);
    std::smatch m;
    REQUIRE(std::regex_match(name, m, name_re));
    const auto it = ours.find(m[1].str());
    CHECK_MESSAGE(it != ours.end(), "the model produces no tensor named " << name);
    if (it == ours.end()) continue;
    torch::Tensor got = apply_suffix(it->second, m[2].str());
    if (got.dim() == want.dim() + 1 && got.size(0) == 1) got = got[0];
    worst = std::max(worst, check_close(name, got, want));
  }
  // The label: exact wherever the reference's top-2 margin leaves no doubt.
  const torch::Tensor label = semseg.argmax(0).to(torch::kUInt8);
  const torch::Tensor sure = fixture_tensor(ref, "sem_seg.top1_minus_top2", file) >= kTieMargin;
  const auto differ = (label != want_label.to(torch::kUInt8)).logical_and(sure).sum().item<std::int64_t>();
  std::cout << "    sem_seg.argmax: " << differ << " pixels differ where the margin is >= " << kTieMargin << " ("
            << sure.logical_not().sum().item<std::int64_t>() << " near ties)\n";
  CHECK(differ == 0);
  std::cout << "    largest relative error " << worst << "\n";
}

/// The label PNG of `stem` anywhere under `labels_dir` (the original's <expert>/<dataset>/<sub>/ layout).
fs::path find_label(const fs::path& labels_dir, const std::string& stem) {
  for (const auto& e : fs::recursive_directory_iterator(labels_dir))
    if (e.is_regular_file() && e.path().filename() == stem + ".png") return e.path();
  throw std::runtime_error("no label " + stem + ".png under " + labels_dir.string());
}

void run_pipeline_case(const fs::path& dir) {
  std::ifstream in(dir / "info.json");
  REQUIRE_MESSAGE(in.good(), "pipeline case without info.json: " << dir.string());
  const nlohmann::json info = nlohmann::json::parse(in);
  const fs::path images_file = fixtures_root() / "experts" / "images" / "images.pt";
  if (!require_fixture(images_file)) return;
  const prismer::TensorMap images = prismer::load_weights(images_file.string());
  bool batched = false;
  for (const auto& [stem, e] : info.at("images").items()) batched = batched || e.at("batch").size() > 1;
  const fs::path file = dir / "tensors.pt";
  const prismer::TensorMap ref = batched ? prismer::TensorMap{} : prismer::load_weights(file.string());

  for (const auto& [stem, e] : info.at("images").items()) {
    const prismer::Image photo = prismer::data::image_from_u8_hwc(fixture_tensor(images, stem + ".decoded", images_file));
    REQUIRE(photo.width == e.at("width").get<int>());
    REQUIRE(photo.height == e.at("height").get<int>());
    // The model input: Pillow-exact resize (bit for bit against the shared fixture), BGR, float.
    const torch::Tensor input = seg::model_input(photo);
    INFO(stem);
    CHECK(input.sizes().vec() == e.at("input_chw").get<std::vector<std::int64_t>>());
    if (const torch::Tensor* resized = prismer::find_tensor(images, stem + ".resize479max480"))
      CHECK(torch::equal(input.flip(0).permute({1, 2, 0}).to(torch::kUInt8), *resized));
    if (batched) {
      std::cout << "    " << stem << ": batched with " << e.at("batch").size()
                << " images in the original (labels depend on the batch padding): model input only, labels not "
                   "compared\n";
      continue;
    }
    seg::Mask2FormerOutputs out;
    torch::Tensor semseg;
    {
      torch::InferenceMode guard;
      semseg = seg::semantic_segmentation(*seeded_model(), input, photo.height, photo.width, &out);
    }
    check_close(stem + ".pred_logits", out.predictor.final.logits[0], fixture_tensor(ref, stem + ".pred_logits", file));
    // The label: exact except at the reference's near ties, where either of its two best classes is accepted.
    const prismer::Image ours = seg::argmax_label(semseg);
    const prismer::Image png = prismer::read_image(find_label(dir / "labels", stem).string(), 1);
    REQUIRE(ours.width == png.width);
    REQUIRE(ours.height == png.height);
    const torch::Tensor rc = fixture_tensor(ref, stem + ".close_pixels_rc", file).to(torch::kLong);
    const torch::Tensor top2 = fixture_tensor(ref, stem + ".close_pixels_top2", file).to(torch::kLong);
    std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> ties;
    for (std::int64_t i = 0; i < rc.size(0); ++i)
      ties[rc[i][0].item<std::int64_t>() * png.width + rc[i][1].item<std::int64_t>()] = {top2[i][0].item<std::int64_t>(),
                                                                                          top2[i][1].item<std::int64_t>()};
    std::int64_t differ = 0, tie_flips = 0, bad = 0;
    for (std::size_t p = 0; p < png.pixels.size(); ++p) {
      if (ours.pixels[p] == png.pixels[p]) continue;
      ++differ;
      const auto it = ties.find(static_cast<std::int64_t>(p));
      if (it != ties.end() && (ours.pixels[p] == it->second.first || ours.pixels[p] == it->second.second)) ++tie_flips;
      else ++bad;
    }
    std::cout << "    " << stem << ".png: " << differ << " of " << png.pixels.size() << " pixels differ ("
              << tie_flips << " at listed near ties, " << bad << " elsewhere)\n";
    CHECK(bad == 0);
  }
}

}  // namespace

TEST_CASE("seg_coco: every fixture case matches the original Mask2Former") {
  const fs::path dir = seg_dir();
  if (!require_fixture(dir / "weights.json")) return;
  for (const fs::path& c : case_folders(dir)) {
    announce_case("seg_coco/" + c.filename().string());
    if (fs::is_directory(c / "labels")) {
      run_pipeline_case(c);
    } else if (fs::exists(c / "tensors.pt") &&
               prismer::find_tensor(prismer::load_weights((c / "tensors.pt").string()), "input") != nullptr) {
      run_network_case(c);
    } else {
      FAIL_CHECK("unknown case layout in " << c.string() << " (expected labels/ or tensors.pt with 'input')");
    }
  }
}

TEST_CASE("seg_coco: the .pkl key upgrade and the strict load name every bad key") {
  // The original's rename is unconditional: sem_seg_head.X (X not predictor.*) -> sem_seg_head.pixel_decoder.X.
  const prismer::TensorMap up = seg::upgrade_keys({{"sem_seg_head.adapter_1.weight", torch::zeros({1})},
                                                   {"sem_seg_head.pixel_decoder.layer_1.weight", torch::zeros({1})},
                                                   {"sem_seg_head.predictor.static_query.weight", torch::zeros({1})},
                                                   {"backbone.norm0.weight", torch::zeros({1})}});
  CHECK(up[0].first == "sem_seg_head.pixel_decoder.adapter_1.weight");
  CHECK(up[1].first == "sem_seg_head.pixel_decoder.pixel_decoder.layer_1.weight");
  CHECK(up[2].first == "sem_seg_head.predictor.query_feat.weight");
  CHECK(up[3].first == "backbone.norm0.weight");

  const fs::path dir = seg_dir();
  if (!require_fixture(dir / "weights.json")) return;
  // Shapes alone (no values): drop one key, add one, reshape one.
  const nlohmann::json doc = read_weights_json(dir / "weights.json");
  prismer::TensorMap weights;
  for (const auto& e : doc.at("tensors")) {
    const auto shape = e.at("shape").get<std::vector<std::int64_t>>();
    const std::string key = e.at("key").get<std::string>();
    weights.emplace_back(key, key.find("relative_position_index") != std::string::npos
                                  ? swin_relative_position_index(12, 12)
                                  : torch::zeros(shape));
  }
  REQUIRE(weights.size() == 650);
  seg::Mask2Former model(seg::Mask2FormerConfig::coco());
  CHECK_NOTHROW(seg::load_state_dict(*model, weights, "complete.pkl"));
  const std::string dropped = weights[5].first, reshaped = weights[8].first;
  weights.erase(weights.begin() + 5);
  weights[7].second = torch::zeros({3});  // was index 8
  weights.emplace_back("sem_seg_head.pixel_decoder.pixel_decoder.mask_features.weight", torch::zeros({1}));
  try {
    seg::load_state_dict(*model, weights, "broken.pkl");
    FAIL("the broken state dict loaded");
  } catch (const prismer::WeightFileError& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK(what.find("broken.pkl") != std::string::npos);
    CHECK(what.find("1 missing key: " + dropped) != std::string::npos);
    CHECK(what.find("1 unexpected key: sem_seg_head.pixel_decoder.pixel_decoder.mask_features.weight") !=
          std::string::npos);
    CHECK(what.find("1 mis-shaped key: " + reshaped + ": file [3]") != std::string::npos);
  }
}

TEST_CASE("seg_coco: pre- and post-processing") {
  // torchvision Resize(479, max_size=480) sizes (README of the shared images: 480x640 -> 360x480, 640x427 -> 480x320).
  CHECK(seg::resized_size(480, 640) == std::make_pair(360, 480));
  CHECK(seg::resized_size(640, 427) == std::make_pair(480, 320));
  CHECK(seg::resized_size(500, 500) == std::make_pair(479, 479));
  CHECK_THROWS_WITH_AS(seg::model_input(prismer::Image(8, 8, 1)), doctest::Contains("RGB"), std::invalid_argument);
  // argmax takes the first of equal maxima, like torch.argmax.
  torch::Tensor scores = torch::zeros({3, 2, 2});
  scores[2][0][1] = 1;
  const prismer::Image label = seg::argmax_label(scores);
  CHECK(label.width == 2);
  CHECK(label.height == 2);
  CHECK(label.pixels == std::vector<std::uint8_t>{0, 2, 0, 0});
}
