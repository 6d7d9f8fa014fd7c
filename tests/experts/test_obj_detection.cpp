// UniDet object-detection expert against the original Prismer code (fixtures/experts/obj_detection, made by running
// experts/obj_detection/* through detectron2 on seeded random weights, fp32 CPU). The kind of each case folder
// comes from its contents:
// - network cases (tensors.pt holding `input`): the raw forward on a small image: backbone/FPN/RPN maps within
//   1e-4 of each tensor's largest magnitude; proposals and per-stage rows compared as sets (near-equal objectness
//   logits make their order unstable even in the original: README), boxes within 1e-3 px, scores within 1e-5,
//   and the final detections;
// - single-image pipeline cases (labels/ and every image of info.json in a batch of its own): generate_objdet.py on
//   the shared photos, one image at a time: the model input, the resized depth exactly, the same maps/sets, every
//   score candidate, the detections in order, and the label PNG and JSON exactly (from the reference detections
//   alone, and end to end);
// - batched pipeline cases (an image batched with others): the original padded the whole batch together, so its
//   features depend on the batch neighbours; this port runs images one at a time, so such a case is not a label
//   parity target: only its preprocessing is checked (the single-image case is the parity target).
#include "fixture_tensor.h"
#include "fixtures.h"
#include "seeded_weights.h"

#include "obj_detection/box_ops.h"
#include "obj_detection/checkpoint.h"
#include "obj_detection/labels.h"
#include "obj_detection/unidet.h"

#include <prismer/data/image_tensor.h>
#include <prismer/image.h>
#include <prismer/weights.h>

#include <nlohmann/json.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>

namespace fs = std::filesystem;
using namespace prismer::test;
namespace od = prismer::experts::obj_detection;

namespace {

constexpr double kRelTol = 1e-4;    // float maps: max |diff| / max |reference|
constexpr double kBoxTol = 1e-3;    // boxes, in pixels
constexpr double kScoreTol = 1e-5;  // sigmoid scores

fs::path det_dir() { return fixtures_root() / "experts" / "obj_detection"; }

od::UniDet& seeded_model() {
  static od::UniDet model = [] {
    od::UniDet m;
    const auto weights = seeded_weights(det_dir() / "weights.json");
    od::load_state_dict(*m, weights, (det_dir() / "weights.json").string());
    m->eval();
    return m;
  }();
  return model;
}

double max_abs(const torch::Tensor& t) { return t.numel() ? t.abs().max().item<double>() : 0.0; }

/// max |got - want| / max |want| <= kRelTol, printed; returns the relative error.
double check_rel(const std::string& name, const torch::Tensor& got, const torch::Tensor& want) {
  INFO(name);
  REQUIRE(got.sizes().vec() == want.sizes().vec());
  const double diff = max_abs(got.to(torch::kFloat64) - want.to(torch::kFloat64));
  const double rel = diff / std::max(max_abs(want), 1e-12);
  std::cout << "    " << name << ": max |diff| " << diff << " (relative " << rel << ")\n";
  CHECK(rel <= kRelTol);
  return rel;
}

/// max |got - want| <= tol, printed; returns the error.
double check_abs(const std::string& name, const torch::Tensor& got, const torch::Tensor& want, double tol) {
  INFO(name);
  REQUIRE(got.sizes().vec() == want.sizes().vec());
  const double diff = max_abs(got.to(torch::kFloat64) - want.to(torch::kFloat64));
  std::cout << "    " << name << ": max |diff| " << diff << " (limit " << tol << ")\n";
  CHECK(diff <= tol);
  return diff;
}

/// For each reference proposal, the index of our proposal with the same box (within kBoxTol) and logit (within
/// kRelTol relative), each of ours used once. The proposal order is not stable (README), so rows are matched.
std::vector<std::int64_t> match_proposals(const od::Proposals& ours, const torch::Tensor& ref_boxes,
                                          const torch::Tensor& ref_logits) {
  REQUIRE(ours.boxes.size(0) == ref_boxes.size(0));
  const torch::Tensor d = (ref_boxes.unsqueeze(1).to(torch::kFloat64) - ours.boxes.unsqueeze(0).to(torch::kFloat64))
                              .abs()
                              .amax(2);
  const torch::Tensor dl = (ref_logits.unsqueeze(1).to(torch::kFloat64) - ours.logits.unsqueeze(0).to(torch::kFloat64)).abs();
  const double logit_tol = kRelTol * std::max(max_abs(ref_logits), 1e-12);
  const torch::Tensor ok = (d <= kBoxTol) & (dl <= logit_tol);
  const torch::Tensor cost = d + dl;
  const auto okA = ok.accessor<bool, 2>();
  const auto cA = cost.accessor<double, 2>();
  std::vector<std::int64_t> map(static_cast<std::size_t>(ref_boxes.size(0)), -1);
  std::vector<char> used(static_cast<std::size_t>(ours.boxes.size(0)), 0);
  std::int64_t unmatched = 0;
  for (std::int64_t r = 0; r < ref_boxes.size(0); ++r) {
    std::int64_t best = -1;
    for (std::int64_t o = 0; o < ours.boxes.size(0); ++o)
      if (okA[r][o] && !used[static_cast<std::size_t>(o)] && (best < 0 || cA[r][o] < cA[r][best])) best = o;
    if (best < 0) {
      ++unmatched;
      continue;
    }
    used[static_cast<std::size_t>(best)] = 1;
    map[static_cast<std::size_t>(r)] = best;
  }
  std::cout << "    proposals: " << ref_boxes.size(0) - unmatched << " of " << ref_boxes.size(0)
            << " matched as a set (box within " << kBoxTol << " px, logit within " << logit_tol << ")\n";
  CHECK(unmatched == 0);
  return map;
}

torch::Tensor rows(const torch::Tensor& t, const std::vector<std::int64_t>& map) {
  return t.index_select(0, torch::tensor(map, torch::kInt64));
}

/// The per-stage rows (input boxes, deltas, max foreground logit) in the reference's proposal order.
void check_stages(const std::string& prefix, const od::DetectionTrace& trace, const std::vector<std::int64_t>& map,
                  const prismer::TensorMap& ref, const fs::path& file) {
  for (std::size_t k = 0; k < trace.stages.size(); ++k) {
    const std::string s = prefix + "stage" + std::to_string(k) + ".";
    const od::StageTrace& st = trace.stages[k];
    check_abs(s + "boxes_in", rows(st.boxes_in, map), fixture_tensor(ref, s + "boxes_in", file), kBoxTol);
    check_rel(s + "bbox_deltas", rows(st.bbox_deltas, map), fixture_tensor(ref, s + "bbox_deltas", file));
    const torch::Tensor fg = st.cls_logits.slice(1, 0, st.cls_logits.size(1) - 1);
    check_rel(s + "cls_logits_max", rows(std::get<0>(fg.max(1)), map), fixture_tensor(ref, s + "cls_logits_max", file));
    if (const torch::Tensor* first = prismer::find_tensor(ref, s + "cls_logits[:32]"))
      check_rel(s + "cls_logits[:32]", rows(st.cls_logits, map).slice(0, 0, first->size(0)), *first);
  }
}

void check_detections(const std::string& name, const od::Detections& got, const prismer::TensorMap& ref,
                      const std::string& prefix, const fs::path& file) {
  const torch::Tensor& boxes = fixture_tensor(ref, prefix + "boxes", file);
  INFO(name);
  std::cout << "    " << name << ": " << got.boxes.size(0) << " detections (reference " << boxes.size(0) << ")\n";
  REQUIRE(got.boxes.size(0) == boxes.size(0));
  check_abs(name + ".boxes", got.boxes, boxes, kBoxTol);
  if (const torch::Tensor* s = prismer::find_tensor(ref, prefix + "scores")) check_abs(name + ".scores", got.scores, *s, kScoreTol);
  if (const torch::Tensor* c = prismer::find_tensor(ref, prefix + "classes")) CHECK(torch::equal(got.classes, c->to(torch::kInt64)));
}

void check_maps(const std::string& prefix, const od::DetectionTrace& trace, const prismer::TensorMap& ref,
                const fs::path& file, bool batched_ref) {
  double worst = 0;
  for (const char* n : {"stem", "res2", "res3", "res4", "res5"})
    if (const torch::Tensor* t = prismer::find_tensor(ref, prefix + "bottom_up." + n))
      worst = std::max(worst, check_rel(prefix + "bottom_up." + n, trace.features.at(n), *t));
  for (int l = 3; l <= 7; ++l)
    if (const torch::Tensor* t = prismer::find_tensor(ref, prefix + "fpn.p" + std::to_string(l)))
      worst = std::max(worst, check_rel(prefix + "fpn.p" + std::to_string(l), trace.features.at("p" + std::to_string(l)), *t));
  for (std::size_t l = 0; l < trace.objectness.size(); ++l) {
    const std::string i = std::to_string(l);
    // The pipeline tensors drop the batch dimension.
    if (const torch::Tensor* t = prismer::find_tensor(ref, prefix + "rpn.objectness_logits." + i))
      worst = std::max(worst, check_rel(prefix + "rpn.objectness_logits." + i,
                                        batched_ref ? trace.objectness[l] : trace.objectness[l][0], *t));
    if (const torch::Tensor* t = prismer::find_tensor(ref, prefix + "rpn.anchor_deltas." + i))
      worst = std::max(worst, check_rel(prefix + "rpn.anchor_deltas." + i,
                                        batched_ref ? trace.anchor_deltas[l] : trace.anchor_deltas[l][0], *t));
  }
  std::cout << "    largest relative map error " << worst << "\n";
}

void run_network_case(const fs::path& dir) {
  const fs::path file = dir / "tensors.pt";
  const prismer::TensorMap ref = prismer::load_weights(file.string());
  torch::InferenceMode guard;
  od::DetectionTrace trace;
  const od::Detections out = seeded_model()->detect(fixture_tensor(ref, "input", file), &trace);
  check_maps("", trace, ref, file, /*batched_ref=*/true);
  const auto map = match_proposals(trace.proposals, fixture_tensor(ref, "proposals.boxes", file),
                                   fixture_tensor(ref, "proposals.objectness_logits", file));
  if (std::find(map.begin(), map.end(), -1) != map.end()) return;
  check_stages("", trace, map, ref, file);
  const torch::Tensor fg = trace.scores.slice(1, 0, trace.scores.size(1) - 1);
  check_abs("scores_mean_over_stages_max", rows(std::get<0>(fg.max(1)), map),
            fixture_tensor(ref, "scores_mean_over_stages_max", file), kScoreTol);
  check_detections("instances", trace.instances, ref, "instances.", file);
  check_detections("output", out, ref, "output.pred_", file);
}

/// The label files of `stem` anywhere under `labels_dir` (the original's <expert>/<dataset>/<sub>/ layout).
fs::path find_file(const fs::path& root, const std::string& name) {
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().filename() == name) return e.path();
  throw std::runtime_error("no " + name + " under " + root.string());
}

void check_label(const std::string& what, const prismer::Label& got, const fs::path& png, const fs::path& json) {
  const prismer::Image want = prismer::read_image(png.string(), 1);
  INFO(what);
  REQUIRE(got.map.width == want.width);
  REQUIRE(got.map.height == want.height);
  std::size_t differ = 0;
  for (std::size_t i = 0; i < want.pixels.size(); ++i) differ += got.map.pixels[i] != want.pixels[i] ? 1 : 0;
  const std::string json_text = read_file(json);
  std::cout << "    " << what << ": " << differ << " of " << want.pixels.size() << " pixels differ; json "
            << (got.sidecars.at(".json") == json_text ? "identical" : "differs: " + got.sidecars.at(".json")) << "\n";
  CHECK(differ == 0);
  CHECK(got.sidecars.at(".json") == json_text);
}

void run_pipeline_case(const fs::path& dir) {
  std::ifstream in(dir / "info.json");
  const nlohmann::json info = nlohmann::json::parse(in);
  const fs::path images_file = fixtures_root() / "experts" / "images" / "images.pt";
  const fs::path depth_labels = fixtures_root() / "experts" / "depth" / "pipeline" / "labels";
  if (!require_fixture(images_file) || !require_fixture(depth_labels)) return;
  const prismer::TensorMap images = prismer::load_weights(images_file.string());
  bool batched = false;
  for (const auto& [stem, im] : info.at("images").items()) batched = batched || im.at("batch").size() > 1;
  const fs::path file = dir / "tensors.pt";
  const prismer::TensorMap ref = prismer::load_weights(file.string());
  for (const auto& [stem, im] : info.at("images").items()) {
    std::cout << "   image " << stem << "\n";
    const prismer::Image photo = prismer::data::image_from_u8_hwc(fixture_tensor(images, stem + ".decoded", images_file));
    // The model input: Pillow-exact resize (the shared images fixture), then BGR floats.
    const torch::Tensor input = od::preprocess(photo);
    CHECK(input.sizes().vec() == im.at("model_input_chw").get<std::vector<std::int64_t>>());
    const torch::Tensor rgb = fixture_tensor(images, stem + ".resize479max480", images_file).permute({2, 0, 1}).to(torch::kFloat32);
    CHECK(torch::equal(input, rgb.flip({0})));
    // The depth input: the depth fixture's label, resized the same way.
    const prismer::Image depth_png = prismer::read_image(find_file(depth_labels, stem + ".png").string(), 1);
    const torch::Tensor depth = od::depth_input(depth_png);
    CHECK(torch::equal(depth, fixture_tensor(ref, stem + ".depth_u8", file).to(torch::kFloat32).div(255.0)));
    if (batched) continue;  // see the top of the file: not a parity target for a one-image-at-a-time port

    const fs::path png = find_file(dir / "labels", stem + ".png"), json = find_file(dir / "labels", stem + ".json");
    // Post-processing alone: the reference detections give the reference label files exactly.
    {
      const auto [mask, classes] = od::mask_labels(depth, fixture_tensor(ref, stem + ".instances.boxes", file),
                                                   fixture_tensor(ref, stem + ".instances.classes", file));
      check_label(stem + " label from the reference detections", od::make_label(mask, classes, photo.width, photo.height),
                  png, json);
    }
    torch::InferenceMode guard;
    od::DetectionTrace trace;
    const od::Detections out = seeded_model()->detect(input, &trace);
    check_maps(stem + ".", trace, ref, file, /*batched_ref=*/false);
    const auto map = match_proposals(trace.proposals, fixture_tensor(ref, stem + ".proposals.boxes", file),
                                     fixture_tensor(ref, stem + ".proposals.objectness_logits", file));
    if (std::find(map.begin(), map.end(), -1) != map.end()) continue;
    check_stages(stem + ".", trace, map, ref, file);
    // Every (proposal, class) pair the reference scored above 0.3: the 0.5 threshold acts on these.
    const torch::Tensor idx = fixture_tensor(ref, stem + ".score_candidates.idx", file).to(torch::kInt64);
    const torch::Tensor mapped = torch::tensor(map, torch::kInt64).index_select(0, idx.select(1, 0));
    check_abs(stem + ".score_candidates.score", trace.scores.index({mapped, idx.select(1, 1)}),
              fixture_tensor(ref, stem + ".score_candidates.score", file), kScoreTol);
    check_detections(stem + ".instances", out, ref, stem + ".instances.", file);
    const auto [mask, classes] = od::mask_labels(depth, out.boxes, out.classes);
    check_label(stem + " label end to end", od::make_label(mask, classes, photo.width, photo.height), png, json);
  }
  if (batched)
    std::cout << "    batched case: the original padded the images of a batch together; only the preprocessing is "
                 "a parity target here (the single-image case carries the label parity)\n";
}

}  // namespace

TEST_CASE("obj_detection: every fixture case matches the original UniDet") {
  const fs::path dir = det_dir();
  if (!require_fixture(dir / "weights.json")) return;
  for (const fs::path& c : case_folders(dir)) {
    announce_case("obj_detection/" + c.filename().string());
    if (fs::is_directory(c / "labels") && fs::exists(c / "info.json")) {
      run_pipeline_case(c);
    } else if (fs::exists(c / "tensors.pt") &&
               prismer::find_tensor(prismer::load_weights((c / "tensors.pt").string()), "input") != nullptr) {
      run_network_case(c);
    } else {
      FAIL_CHECK("unknown case layout in " << c.string() << " (expected labels/ + info.json or tensors.pt with 'input')");
    }
  }
}

TEST_CASE("obj_detection: resize rule, NMS, JSON and bad input") {
  CHECK(od::resized_size(480, 640) == std::make_pair(360, 480));
  CHECK(od::resized_size(640, 427) == std::make_pair(480, 320));
  CHECK(od::resized_size(100, 100) == std::make_pair(479, 479));
  const torch::Tensor boxes = torch::tensor({0.f, 0.f, 10.f, 10.f, 1.f, 1.f, 10.f, 10.f, 20.f, 20.f, 30.f, 30.f}).view({3, 4});
  const torch::Tensor scores = torch::tensor({0.5f, 0.9f, 0.7f});
  CHECK(od::nms(boxes, scores, 0.5).equal(torch::tensor({1, 2}, torch::kInt64)));
  // Different groups never suppress each other.
  CHECK(od::batched_nms(boxes, scores, torch::tensor({0, 1, 0}, torch::kInt64), 0.5).equal(torch::tensor({1, 2, 0}, torch::kInt64)));
  CHECK(od::instance_json({}) == "{}");
  CHECK(od::instance_json({72, 709}) == "{\"0\": 72, \"1\": 709}");
  CHECK_THROWS_WITH_AS(od::preprocess(prismer::Image(8, 8, 1)), doctest::Contains("RGB"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(od::depth_input(prismer::Image(8, 8, 3)), doctest::Contains("1-channel"), std::invalid_argument);
  // No detections: all background, empty JSON.
  const auto [mask, classes] = od::mask_labels(torch::zeros({4, 6}), torch::zeros({0, 4}), torch::zeros({0}, torch::kInt64));
  const prismer::Label label = od::make_label(mask, classes, 12, 8);
  CHECK(std::all_of(label.map.pixels.begin(), label.map.pixels.end(), [](std::uint8_t v) { return v == 255; }));
  CHECK(label.sidecars.at(".json") == "{}");
}

TEST_CASE("obj_detection: a load names every missing, unexpected and mis-shaped key") {
  const fs::path dir = det_dir();
  if (!require_fixture(dir / "weights.json")) return;
  const nlohmann::json doc = read_weights_json(dir / "weights.json");
  prismer::TensorMap weights;
  for (const auto& e : doc.at("tensors"))
    weights.emplace_back(e.at("key").get<std::string>(), torch::zeros(e.at("shape").get<std::vector<std::int64_t>>()));
  REQUIRE(weights.size() == 1944);
  od::UniDet model;
  CHECK_NOTHROW(od::load_state_dict(*model, weights, "complete.pth"));
  const std::string dropped = weights[5].first, reshaped = weights[7].first;
  weights.erase(weights.begin() + 5);
  weights[6].second = torch::zeros({3});
  weights.emplace_back("roi_heads.box_head.3.fc1.weight", torch::zeros({2}));
  weights.emplace_back("proposal_generator.anchor_generator.cell_anchors.0", torch::zeros({9, 4}));  // ignored
  try {
    od::load_state_dict(*model, weights, "broken.pth");
    FAIL("the broken state dict loaded");
  } catch (const prismer::WeightFileError& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK(what.find("broken.pth") != std::string::npos);
    CHECK(what.find("1 missing key: " + dropped) != std::string::npos);
    CHECK(what.find("1 unexpected key: roi_heads.box_head.3.fc1.weight") != std::string::npos);
    CHECK(what.find("1 mis-shaped key: " + reshaped + ": file [3]") != std::string::npos);
  }
}
