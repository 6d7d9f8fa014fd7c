// OCR expert (CharNet Hourglass-88 + post-processing + CLIP ViT-L/14 text + PCA) against the original Prismer code
// (fixtures/experts/ocr_detection, made by running experts/ocr_detection/* and generate_ocrdet.py on seeded random
// weights, fp32 CPU). The kind of each case folder comes from its contents:
// - network cases (tensors.pt with `input`): the raw forward and named intermediates within 1e-4 of each tensor's
//   largest magnitude; the post-processing of the reference's own maps: candidate boxes, NMS picks and merged boxes,
//   parsed word/char boxes exactly (README: identical inputs give identical outputs), words before/after the
//   lexicon filter (texts exact, scores to 1e-6);
// - pipeline cases (labels/): generate_ocrdet.py on the shared photos: the model input crop exactly, the
//   post-processing inputs within 1e-4, the post-processing of the reference maps exactly, end to end (our own
//   maps) the same candidates, words and label PNGs exactly, the CLIP tokens exactly, CLIP features and PCA
//   features within 1e-4 relative, the word-feature .pt: same ids and texts, features within 1e-4 relative;
// - weight folders (weights.json without tensors, e.g. clip/): used by the pipeline cases.
// The lexicon: the original's GenericVocabulary.txt is a data file of the zoo, not a fixture. The test builds its
// lexicon from the reference's own corrections (every lexicon word the original chose, across all cases' words.json):
// a word the original corrected to W at distance d still finds W at d (no word of a subset can be closer), ties go to
// the first word as in the original because GenericVocabulary.txt is sorted and so is the subset, a word it kept
// unchanged never reaches the lexicon, and every rejected or corrected word must come out as the original's, which
// the words-after-filter comparison checks.
#include "fixture_tensor.h"
#include "fixtures.h"
#include "seeded_weights.h"

#include "ocr_detection/charnet.h"
#include "ocr_detection/checkpoint.h"
#include "ocr_detection/clip_text.h"
#include "ocr_detection/ocr_model.h"
#include "ocr_detection/numpy_ops.h"
#include "ocr_detection/postprocess.h"

#include <prismer/data/expert_labels.h>
#include <prismer/data/image_tensor.h>
#include <prismer/image.h>
#include <prismer/text/clip_tokenizer.h>
#include <prismer/weights.h>

#include <nlohmann/json.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <fstream>
#include <iostream>
#include <map>

namespace fs = std::filesystem;
using namespace prismer::test;
namespace ocr = prismer::experts::ocr;

namespace {

constexpr double kRelTol = 1e-4;         // float tensors: max |diff| / max |reference| (README)
constexpr double kScoreTol = 1e-6;       // words.json scores (float32 values printed by Python)
constexpr std::int64_t kCropOffset = 200;  // README: input_crop = input[:, 200:264, 200:264]

fs::path ocr_dir() { return fixtures_root() / "experts" / "ocr_detection"; }

ocr::CharNet& seeded_charnet() {
  static ocr::CharNet model = [] {
    ocr::CharNet m;
    const fs::path json = ocr_dir() / "weights.json";
    ocr::load_state_dict_strict(*m, seeded_weights(json), json.string(), "CharNet");
    m->eval();
    return m;
  }();
  return model;
}

/// The CLIP text tower with the seeded weights of clip/weights.json (text keys only: visual.* are zeros, unused).
ocr::ClipText& seeded_clip() {
  static ocr::ClipText model = [] {
    const fs::path json = ocr_dir() / "clip" / "weights.json";
    const nlohmann::json doc = read_weights_json(json);
    prismer::TensorMap weights;
    for (const auto& e : doc.at("tensors")) {
      const std::string key = e.at("key").get<std::string>();
      if (key.rfind("visual.", 0) == 0) continue;
      weights.emplace_back(key, seeded_tensor(e));
    }
    ocr::ClipText m;
    ocr::load_clip_text(*m, weights, json.string());
    m->eval();
    return m;
  }();
  return model;
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  return nlohmann::json::parse(in);
}

/// The lexicon words the original chose (words after the filter with an edit distance), sorted.
std::vector<std::string> lexicon_from_reference() {
  std::vector<std::string> lexicon;
  auto add = [&](const nlohmann::json& words) {
    for (const auto& w : words.at("words_after_filter")) {
      if (w.at("text_edst").is_null()) continue;
      const std::string text = w.at("text").get<std::string>();
      if (std::find(lexicon.begin(), lexicon.end(), text) == lexicon.end()) lexicon.push_back(text);
    }
  };
  for (const fs::path& c : case_folders(ocr_dir())) {
    if (!fs::exists(c / "words.json")) continue;
    const nlohmann::json doc = read_json(c / "words.json");
    if (doc.contains("images"))
      for (const auto& [stem, words] : doc.at("images").items()) add(words);
    else
      add(doc);
  }
  std::sort(lexicon.begin(), lexicon.end());  // GenericVocabulary.txt's order
  return lexicon;
}

ocr::Postprocessor& postprocessor() {
  static ocr::Postprocessor p = [] {
    std::vector<std::string> lexicon = lexicon_from_reference();
    std::cout << "  lexicon from the reference's corrections: " << lexicon.size() << " words\n";
    return ocr::Postprocessor(ocr::default_char_dict(), std::move(lexicon));
  }();
  return p;
}

double check_close(const std::string& name, const torch::Tensor& got, const torch::Tensor& want,
                   double tol = kRelTol) {
  INFO(name);
  REQUIRE(got.sizes().vec() == want.sizes().vec());
  if (want.numel() == 0) return 0;
  const double diff = (got.to(torch::kFloat64) - want.to(torch::kFloat64)).abs().max().item<double>();
  const double scale = std::max(want.abs().max().item<double>(), 1e-12);
  std::cout << "    " << name << ": max |diff| " << diff << " (relative " << diff / scale << ")\n";
  CHECK(diff / scale <= tol);
  return diff / scale;
}

void check_equal(const std::string& name, const torch::Tensor& got, const torch::Tensor& want) {
  INFO(name);
  REQUIRE(got.sizes().vec() == want.sizes().vec());
  const bool same = torch::equal(got.to(want.scalar_type()), want);
  double diff = 0;
  if (!same && want.numel() > 0)
    diff = (got.to(torch::kFloat64) - want.to(torch::kFloat64)).abs().max().item<double>();
  std::cout << "    " << name << ": " << (same ? "identical" : "DIFFERS, max |diff| " + std::to_string(diff)) << "\n";
  CHECK(same);
}

torch::Tensor boxes_tensor(const std::vector<ocr::Box>& boxes) {
  torch::Tensor t = torch::zeros({static_cast<int64_t>(boxes.size()), 9});
  for (std::size_t i = 0; i < boxes.size(); ++i)
    for (int k = 0; k < 9; ++k) t[static_cast<int64_t>(i)][k] = boxes[i][static_cast<std::size_t>(k)];
  return t;
}

torch::Tensor rows_tensor(const std::vector<std::vector<float>>& rows, int64_t cols) {
  torch::Tensor t = torch::zeros({static_cast<int64_t>(rows.size()), cols});
  for (std::size_t i = 0; i < rows.size(); ++i)
    t[static_cast<int64_t>(i)] = torch::tensor(rows[i]);
  return t;
}

std::vector<ocr::Box> boxes_of(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat32).contiguous();
  std::vector<ocr::Box> out(static_cast<std::size_t>(c.size(0)));
  for (std::size_t i = 0; i < out.size(); ++i)
    for (int k = 0; k < 9; ++k) out[i][static_cast<std::size_t>(k)] = c[static_cast<int64_t>(i)][k].item<float>();
  return out;
}

std::vector<std::vector<float>> rows_of(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat32).contiguous();
  std::vector<std::vector<float>> out;
  for (int64_t i = 0; i < c.size(0); ++i) out.emplace_back(c[i].data_ptr<float>(), c[i].data_ptr<float>() + c.size(1));
  return out;
}

torch::Tensor keep_tensor(const std::vector<std::int64_t>& keep) { return torch::tensor(keep, torch::kLong); }

torch::Tensor kept_rows(const std::vector<ocr::Box>& rows, const std::vector<std::int64_t>& keep) {
  std::vector<ocr::Box> k;
  for (const auto i : keep) k.push_back(rows[static_cast<std::size_t>(i)]);
  return boxes_tensor(k);
}

/// The words of words.json against ours (texts, counts, boxes exact; scores to `score_tol`).
void check_words(const std::string& name, const std::vector<ocr::WordInstance>& got, const nlohmann::json& want,
                 double score_tol) {
  INFO(name);
  REQUIRE(got.size() == want.size());
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const nlohmann::json& w = want[i];
    CHECK(got[i].text == w.at("text").get<std::string>());
    CHECK(got[i].num_chars == w.at("num_chars").get<int>());
    const std::vector<float> quad = w.at("word_bbox").get<std::vector<float>>();
    for (int k = 0; k < 8; ++k) CHECK(got[i].quad[static_cast<std::size_t>(k)] == quad[static_cast<std::size_t>(k)]);
    if (w.at("text_edst").is_null()) CHECK_FALSE(got[i].edit_distance.has_value());
    else CHECK(got[i].edit_distance.value_or(-1) == w.at("text_edst").get<int>());
    worst = std::max({worst, std::abs(got[i].text_score - w.at("text_score").get<double>()),
                      std::abs(got[i].bbox_score - w.at("word_bbox_score").get<double>())});
  }
  std::cout << "    " << name << ": " << got.size() << " words";
  for (const auto& w : got) std::cout << ' ' << w.text;
  std::cout << "; largest score diff " << worst << "\n";
  CHECK(worst <= score_tol);
}

/// The post-processing of `maps` against the reference stages under `prefix`. `exact` (the reference's own maps):
/// every stage bit for bit. Otherwise (our maps, within 1e-4 of the reference): the discrete results (candidates,
/// NMS picks, rounded boxes, texts) exactly, the float ones (candidate and merged boxes, class scores) within 1e-4.
ocr::PostprocessTrace check_postprocess(const prismer::TensorMap& ref, const std::string& prefix, const fs::path& file,
                                        const ocr::CharNetMaps& maps, int64_t b, const nlohmann::json& words,
                                        bool exact) {
  const ocr::PostprocessTrace tr = postprocessor().run(
      maps.word_fg[b].contiguous(), maps.word_tblr[b].contiguous(), maps.word_orient[b].contiguous(),
      maps.char_fg[b].contiguous(), maps.char_tblr[b].contiguous(), maps.char_cls[b].contiguous(),
      words.at("scale_w").get<double>(), words.at("scale_h").get<double>(), words.at("W").get<int>(),
      words.at("H").get<int>());
  auto t = [&](const std::string& n) { return fixture_tensor(ref, prefix + n, file); };
  auto check_float = [&](const std::string& name, const torch::Tensor& got, const torch::Tensor& want) {
    if (exact) check_equal(name, got, want);
    else check_close(name, got, want);
  };
  check_float(prefix + "nms_word.input", boxes_tensor(tr.nms_word_input), t("nms_word.input"));
  check_equal(prefix + "nms_word.keep", keep_tensor(tr.nms_word.keep), t("nms_word.keep"));
  check_float(prefix + "nms_word.new_boxes_kept", kept_rows(tr.nms_word.new_boxes, tr.nms_word.keep),
              t("nms_word.new_boxes_kept"));
  check_equal(prefix + "word_bboxes", boxes_tensor(tr.word_bboxes), t("word_bboxes"));
  if (const torch::Tensor* rc = prismer::find_tensor(ref, prefix + "char_cand_rc")) {
    torch::Tensor ours = torch::zeros({static_cast<int64_t>(tr.char_cand_rc.size()), 2}, torch::kLong);
    for (std::size_t i = 0; i < tr.char_cand_rc.size(); ++i)
      ours[static_cast<int64_t>(i)] = torch::tensor({tr.char_cand_rc[i][0], tr.char_cand_rc[i][1]});
    check_equal(prefix + "char_cand_rc", ours, *rc);
  }
  check_float(prefix + "nms_char.input", boxes_tensor(tr.nms_char_input), t("nms_char.input"));
  check_equal(prefix + "nms_char.keep", keep_tensor(tr.nms_char.keep), t("nms_char.keep"));
  check_float(prefix + "nms_char.new_boxes_kept", kept_rows(tr.nms_char.new_boxes, tr.nms_char.keep),
              t("nms_char.new_boxes_kept"));
  check_equal(prefix + "char_bboxes", boxes_tensor(tr.char_bboxes), t("char_bboxes"));
  check_float(prefix + "char_scores", rows_tensor(tr.char_scores, t("char_scores").size(1)), t("char_scores"));
  const double score_tol = exact ? kScoreTol : kRelTol;
  check_words(prefix + "words_before_filter", tr.words_before_filter, words.at("words_before_filter"), score_tol);
  check_words(prefix + "words_after_filter", tr.words, words.at("words_after_filter"), score_tol);
  CHECK(static_cast<int64_t>(tr.nms_word_input.size()) == words.at("num_word_candidates").get<int64_t>());
  CHECK(static_cast<int64_t>(tr.nms_char_input.size()) == words.at("num_char_candidates").get<int64_t>());
  return tr;
}

/// rotated_nms on the reference's own candidate rows: the same picks and merged boxes, bit for bit.
void check_nms_alone(const prismer::TensorMap& ref, const std::string& prefix, const fs::path& file,
                     const torch::Tensor* char_cls) {
  const std::vector<ocr::Box> words = boxes_of(fixture_tensor(ref, prefix + "nms_word.input", file));
  const ocr::NmsResult w = ocr::rotated_nms(words, 0.15, 1);
  check_equal(prefix + "nms_word.keep (reference input)", keep_tensor(w.keep), fixture_tensor(ref, prefix + "nms_word.keep", file));
  check_equal(prefix + "nms_word.new_boxes_kept (reference input)", kept_rows(w.new_boxes, w.keep),
              fixture_tensor(ref, prefix + "nms_word.new_boxes_kept", file));
  if (char_cls == nullptr) return;
  const std::vector<ocr::Box> chars = boxes_of(fixture_tensor(ref, prefix + "nms_char.input", file));
  const std::vector<std::vector<float>> cls = rows_of(*char_cls);
  const ocr::NmsResult c = ocr::rotated_nms(chars, 0.3, 1, &cls);
  check_equal(prefix + "nms_char.keep (reference input)", keep_tensor(c.keep), fixture_tensor(ref, prefix + "nms_char.keep", file));
  std::vector<std::vector<float>> kept;
  for (const auto k : c.keep) kept.push_back(c.new_scores[static_cast<std::size_t>(k)]);
  check_equal(prefix + "nms_char.new_char_scores_kept (reference input)", rows_tensor(kept, cls.at(0).size()),
              fixture_tensor(ref, prefix + "nms_char.new_char_scores_kept", file));
}

void run_network_case(const fs::path& dir) {
  const fs::path file = dir / "tensors.pt";
  const prismer::TensorMap ref = prismer::load_weights(file.string());
  const nlohmann::json words = read_json(dir / "words.json");
  ocr::CharNetOutputs out;
  {
    torch::InferenceMode guard;
    out = seeded_charnet()->forward_all(fixture_tensor(ref, "input", file));
  }
  const std::map<std::string, torch::Tensor> ours = {
      {"backbone.pre[:, :64]", out.pre.slice(1, 0, 64)},
      {"backbone.hourglass0[:, :64]", out.hourglass0.slice(1, 0, 64)},
      {"backbone.out", out.features},
      {"word_detector.fg_logits", out.word_fg_logits},
      {"word_detector.tblr", out.word_tblr},
      {"word_detector.orient", out.word_orient},
      {"char_detector.fg_logits", out.char_fg_logits},
      {"char_detector.tblr", out.char_tblr},
      {"char_recognizer.logits", out.char_logits}};
  double worst = 0;
  for (const auto& [name, want] : ref) {
    if (name == "input" || name.rfind("post.", 0) == 0) continue;
    const auto it = ours.find(name);
    CHECK_MESSAGE(it != ours.end(), "the model produces no tensor named " << name);
    if (it != ours.end()) worst = std::max(worst, check_close(name, it->second, want));
  }
  std::cout << "    largest relative network error " << worst << "\n";
  // The post-processing of the reference's own network outputs (soft-maxed as CharNet.forward does).
  ocr::CharNetOutputs ref_out;
  ref_out.word_fg_logits = fixture_tensor(ref, "word_detector.fg_logits", file);
  ref_out.word_tblr = fixture_tensor(ref, "word_detector.tblr", file);
  ref_out.word_orient = fixture_tensor(ref, "word_detector.orient", file);
  ref_out.char_fg_logits = fixture_tensor(ref, "char_detector.fg_logits", file);
  ref_out.char_tblr = fixture_tensor(ref, "char_detector.tblr", file);
  ref_out.char_logits = fixture_tensor(ref, "char_recognizer.logits", file);
  check_postprocess(ref, "post.", file, ocr::soft_maps(ref_out), 0, words, true);
  check_nms_alone(ref, "post.", file, prismer::find_tensor(ref, "post.char_cand_cls"));
}

fs::path find_label(const fs::path& labels_dir, const std::string& file_name) {
  for (const auto& e : fs::recursive_directory_iterator(labels_dir))
    if (e.is_regular_file() && e.path().filename() == file_name) return e.path();
  return {};
}

void run_pipeline_case(const fs::path& dir) {
  const fs::path file = dir / "tensors.pt";
  const prismer::TensorMap ref = prismer::load_weights(file.string());
  const nlohmann::json words_doc = read_json(dir / "words.json");
  const fs::path images_file = fixtures_root() / "experts" / "images" / "images.pt";
  const fs::path bpe = fixtures_root() / "tokenizer" / "clip" / "bpe_simple_vocab_16e6.txt.gz";
  const fs::path pca_file = ocr_dir() / "clip" / "pca.pt";
  if (!require_fixture(images_file) || !require_fixture(bpe) || !require_fixture(pca_file)) return;
  const prismer::TensorMap images = prismer::load_weights(images_file.string());
  const std::vector<std::string> stems = words_doc.at("data_list_order").get<std::vector<std::string>>();
  REQUIRE_FALSE(stems.empty());

  std::vector<prismer::Image> photos;
  std::vector<torch::Tensor> inputs;
  for (const std::string& stem : stems) {
    photos.push_back(prismer::data::image_from_u8_hwc(fixture_tensor(images, stem + ".decoded", images_file)));
    inputs.push_back(ocr::preprocess(photos.back()));
    const torch::Tensor& want = fixture_tensor(ref, stem + ".input_crop", file);
    check_equal(stem + ".input_crop", inputs.back().slice(1, kCropOffset, kCropOffset + want.size(1))
                                          .slice(2, kCropOffset, kCropOffset + want.size(2)), want);
  }
  // One batch, as the original (batch 32) ran both photos.
  ocr::CharNetMaps ours;
  {
    torch::InferenceMode guard;
    ours = ocr::soft_maps(seeded_charnet()->forward_all(torch::stack(inputs)));
  }
  const auto tokenizer = std::make_shared<const prismer::text::ClipTokenizer>(bpe);
  ocr::WordEmbedder embedder(tokenizer, seeded_clip(), ocr::read_pca(pca_file.string()));

  for (std::size_t i = 0; i < stems.size(); ++i) {
    const std::string& stem = stems[i];
    const std::string p = stem + ".";
    const auto b = static_cast<int64_t>(i);
    const nlohmann::json& words = words_doc.at("images").at(stem);
    auto t = [&](const std::string& n) { return fixture_tensor(ref, p + n, file); };
    // Network maps (what OrientedTextPostProcessing receives).
    check_close(p + "word_fg", ours.word_fg[b], t("word_fg"));
    check_close(p + "word_tblr", ours.word_tblr[b], t("word_tblr"));
    check_close(p + "word_orient", ours.word_orient[b], t("word_orient"));
    check_close(p + "char_fg", ours.char_fg[b], t("char_fg"));
    check_close(p + "char_tblr", ours.char_tblr[b], t("char_tblr"));
    const auto [cls_max, cls_arg] = ours.char_cls[b].max(0);
    check_close(p + "char_cls_max", cls_max, t("char_cls_max"));
    check_equal(p + "char_cls_argmax", cls_arg, t("char_cls_argmax"));

    // The reference maps through our post-processing: every stage exactly. The class probabilities are stored at
    // the candidates only, which is all parse_char reads.
    ocr::CharNetMaps rm;
    rm.word_fg = t("word_fg").unsqueeze(0);
    rm.word_tblr = t("word_tblr").unsqueeze(0);
    rm.word_orient = t("word_orient").unsqueeze(0);
    rm.char_fg = t("char_fg").unsqueeze(0);
    rm.char_tblr = t("char_tblr").unsqueeze(0);
    const torch::Tensor rc = t("char_cand_rc"), cand = t("char_cand_cls");
    torch::Tensor cls = torch::zeros({1, cand.size(1), rm.word_fg.size(1), rm.word_fg.size(2)});
    for (int64_t k = 0; k < rc.size(0); ++k)
      cls[0].select(1, rc[k][0].item<int64_t>()).select(1, rc[k][1].item<int64_t>()) = cand[k];
    rm.char_cls = cls;
    std::cout << "    -- post-processing of the reference maps\n";
    check_postprocess(ref, p, file, rm, 0, words, true);
    check_nms_alone(ref, p, file, &cand);

    // End to end from our own maps: the same words and label files.
    std::cout << "    -- end to end\n";
    const ocr::PostprocessTrace tr = check_postprocess(ref, p, file, ours, b, words, false);
    const int w = photos[i].width, h = photos[i].height;
    const prismer::Image label = ocr::word_label(tr.words, w, h);
    const fs::path png = find_label(dir / "labels", stem + ".png");
    const fs::path pt = find_label(dir / "labels", stem + ".pt");
    if (tr.words.empty()) {
      CHECK_MESSAGE(png.empty(), "the original wrote no label for an image without words");
      continue;
    }
    REQUIRE_MESSAGE(!png.empty(), "no label " << stem << ".png under " << (dir / "labels").string());
    const prismer::Image want_png = prismer::read_image(png.string(), 1);
    REQUIRE(want_png.width == w);
    REQUIRE(want_png.height == h);
    const auto differing = std::inner_product(label.pixels.begin(), label.pixels.end(), want_png.pixels.begin(),
                                              std::size_t{0}, std::plus<>(), std::not_equal_to<>());
    std::cout << "    " << stem << ".png: " << differing << " pixels differ\n";
    CHECK(differing == 0);

    // Word features: tokens exactly, CLIP and PCA within tolerance, then the .pt file.
    const std::vector<std::string> texts = ocr::label_texts(tr.words);
    const torch::Tensor tokens = embedder.tokenize(texts);
    check_equal(p + "clip_tokens", tokens, t("clip_tokens").to(torch::kLong));
    const torch::Tensor clip = embedder.clip_features(tokens);
    check_close(p + "clip_text_features", clip, t("clip_text_features"));
    const torch::Tensor pca = embedder.pca(clip);
    check_close(p + "pca_features_f64", pca, t("pca_features_f64"));
    REQUIRE_MESSAGE(!pt.empty(), "no word file " << stem << ".pt");
    const fs::path ours_pt = fs::temp_directory_path() / ("prismer_test_ocr_" + stem + ".pt");
    {
      std::ofstream out(ours_pt, std::ios::binary);
      out << ocr::word_features_file(texts, pca);
    }
    const auto [want_f, want_t] = prismer::data::load_ocr_words(pt.string());
    const auto [got_f, got_t] = prismer::data::load_ocr_words(ours_pt.string());
    fs::remove(ours_pt);
    CHECK(got_t == want_t);
    REQUIRE(got_f.size() == want_f.size());
    double worst = 0;
    for (const auto& [id, f] : want_f) {
      REQUIRE(got_f.count(id) == 1);
      worst = std::max(worst, check_close(p + "pt[" + std::to_string(id) + "].features", got_f.at(id), f));
    }
    std::cout << "    " << stem << ".pt: " << got_f.size() << " words, largest relative feature error " << worst << "\n";
  }
}

}  // namespace

TEST_CASE("ocr_detection: every fixture case matches the original CharNet + CLIP pipeline") {
  const fs::path dir = ocr_dir();
  if (!require_fixture(dir / "weights.json")) return;
  for (const fs::path& c : case_folders(dir)) {
    announce_case("ocr_detection/" + c.filename().string());
    if (fs::is_directory(c / "labels")) {
      run_pipeline_case(c);
    } else if (fs::exists(c / "tensors.pt") &&
               prismer::find_tensor(prismer::load_weights((c / "tensors.pt").string()), "input") != nullptr) {
      run_network_case(c);
    } else if (fs::exists(c / "weights.json")) {
      std::cout << "    weights only (used by the pipeline cases)\n";
    } else {
      FAIL_CHECK("unknown case layout in " << c.string() << " (expected labels/, tensors.pt with 'input', or weights.json)");
    }
  }
}

TEST_CASE("ocr_detection: lexicon matching and numpy's argsort order") {
  CHECK(ocr::edit_distance("KITTEN", "SITTING") == 3);
  const std::vector<std::string> lexicon = {"cat", "Cab", "car", "dog"};
  CHECK(ocr::match_lexicon("CAB", lexicon) == std::pair<int, std::string>{0, "CAB"});  // the text itself is kept
  CHECK(ocr::match_lexicon("CAX", lexicon) == std::pair<int, std::string>{1, "cat"});  // the first of the closest
  // char_dict.txt's format (char, 0x1f, index per line; letters upper-cased) and its errors.
  const fs::path dict = fs::temp_directory_path() / "prismer_test_char_dict.txt";
  { std::ofstream(dict) << "a\x1f" "0\n" "7\x1f" "1\n" "#\x1f" "2\n"; }
  CHECK(ocr::load_char_dict(dict.string()) == ocr::CharDict{{0, "A"}, {1, "7"}, {2, "#"}});
  { std::ofstream(dict) << "a 0\n"; }
  CHECK_THROWS_WITH(ocr::load_char_dict(dict.string()), doctest::Contains("expected 'char<0x1f>index'"));
  fs::remove(dict);
  CHECK(ocr::default_char_dict().size() == 68);
  // Ties keep numpy's introsort order (insertion sort below 16 elements is stable).
  CHECK(ocr::numpy_argsort({2.f, 1.f, 2.f, 1.f}) == std::vector<std::int64_t>{1, 3, 0, 2});
}

TEST_CASE("ocr_detection: a strict load names every missing, unexpected and mis-shaped key") {
  const fs::path dir = ocr_dir();
  if (!require_fixture(dir / "weights.json")) return;
  const nlohmann::json doc = read_weights_json(dir / "weights.json");
  prismer::TensorMap weights;
  for (const auto& e : doc.at("tensors"))
    weights.emplace_back(e.at("key").get<std::string>(),
                         torch::zeros(e.at("shape").get<std::vector<std::int64_t>>(),
                                      fixture_dtype(e.at("dtype").get<std::string>())));
  REQUIRE(weights.size() == 594);
  ocr::CharNet model;
  CHECK_NOTHROW(ocr::load_state_dict_strict(*model, weights, "complete.pth", "CharNet"));
  const std::string dropped = weights[5].first, reshaped = weights[7].first;
  weights.erase(weights.begin() + 5);
  weights[6].second = torch::zeros({3});
  weights.emplace_back("backbone.decoder.weight", torch::zeros({4}));
  try {
    ocr::load_state_dict_strict(*model, weights, "broken.pth", "CharNet");
    FAIL("the broken state dict loaded");
  } catch (const prismer::WeightFileError& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK(what.find("broken.pth") != std::string::npos);
    CHECK(what.find("1 missing key: " + dropped) != std::string::npos);
    CHECK(what.find("1 unexpected key: backbone.decoder.weight") != std::string::npos);
    CHECK(what.find("1 mis-shaped key: " + reshaped + ": file [3]") != std::string::npos);
  }
}
