// COCO caption metrics against expected_scores.json (pycocoevalcap 1.2). Every results_*.json of the fixture
// folder is a case and must have its entry in expected_scores["scores"]; corpus and per-image Bleu_1..4,
// ROUGE_L and CIDEr must agree to 1e-6, the corpus BLEU lengths exactly.
#include "fixtures.h"

#include <prismer/metrics/caption_metrics.h>
#include <prismer/metrics/json_io.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <unistd.h>

namespace pm = prismer::metrics;
namespace pt = prismer::test;

namespace {

constexpr double kTol = 1e-6;
const pt::fs::path kDir = pt::fixtures_root() / "metrics" / "coco_caption";

std::vector<pt::fs::path> results_files() {
  std::vector<pt::fs::path> out;
  if (!pt::require_fixture(kDir)) return out;
  for (const auto& e : pt::fs::directory_iterator(kDir)) {
    const std::string n = e.path().filename().string();
    if (e.is_regular_file() && n.rfind("results_", 0) == 0 && e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

double lookup(const std::vector<std::pair<std::string, double>>& v, const std::string& k) {
  for (const auto& [name, x] : v) {
    if (name == k) return x;
  }
  FAIL("metric " << k << " missing");
  return 0;
}

// A scratch folder for the malformed-input cases.
struct TempDir {
  pt::fs::path path;
  TempDir() {
    path = pt::fs::temp_directory_path() / ("prismer_metrics_test_" + std::to_string(::getpid()));
    pt::fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    pt::fs::remove_all(path, ec);
  }
  pt::fs::path write(const std::string& name, const std::string& text) const {
    const auto p = path / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
};

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "<no exception>";
}

}  // namespace

TEST_CASE("caption metrics match pycocoevalcap for every results file") {
  const auto expected_path = kDir / "expected_scores.json";
  if (!pt::require_fixture(expected_path) || !pt::require_fixture(kDir / "gts.json")) return;
  const auto expected = nlohmann::json::parse(pt::read_file(expected_path));
  const pm::CaptionGroundTruth gt = pm::load_caption_annotations(kDir / "gts.json");
  const auto files = results_files();
  CHECK(!files.empty());
  for (const auto& file : files) {
    const std::string name = file.filename().string();
    pt::announce_case("coco_caption/" + name);
    if (!expected["scores"].contains(name)) {
      if (pt::running_in_ci()) FAIL_CHECK("no expected entry for " << name);
      else std::cerr << "WARNING: no expected entry for " << name << " in expected_scores.json\n";
      continue;
    }
    const auto& want = expected["scores"][name];
    const pm::CaptionScores got = pm::evaluate_captions(gt, pm::load_caption_results(file, gt));

    double max_err_corpus = 0;
    for (const auto& [metric, value] : want["corpus"].items()) {
      const double err = std::fabs(lookup(got.corpus, metric) - value.get<double>());
      max_err_corpus = std::max(max_err_corpus, err);
      CHECK_MESSAGE(err <= kTol, name << " corpus " << metric << ": got " << lookup(got.corpus, metric) << " want "
                                      << value.get<double>());
    }
    CHECK(got.corpus.size() == want["corpus"].size());
    CHECK(got.bleu_testlen == want["bleu_corpus_stats"]["testlen"].get<double>());
    CHECK(got.bleu_reflen == want["bleu_corpus_stats"]["reflen"].get<double>());

    double max_err_image = 0;
    CHECK(got.per_image.size() == want["per_image"].size());
    for (const auto& img : got.per_image) {
      const std::string key = pm::id_key(img.image_id);
      REQUIRE_MESSAGE(want["per_image"].contains(key), "image " << key << " missing from expected per_image");
      for (const auto& [metric, value] : want["per_image"][key].items()) {
        const double err = std::fabs(lookup(img.scores, metric) - value.get<double>());
        max_err_image = std::max(max_err_image, err);
        CHECK_MESSAGE(err <= kTol, name << " image " << key << " " << metric << ": got " << lookup(img.scores, metric)
                                        << " want " << value.get<double>() << " (tokenized: \""
                                        << img.tokenized_hypothesis << "\")");
      }
    }
    std::cout << "    max |error| corpus " << max_err_corpus << ", per image " << max_err_image << std::endl;

    // METEOR and SPICE are reported as unavailable, never as numbers.
    bool meteor = false;
    bool spice = false;
    for (const auto& [m, why] : got.unavailable) {
      meteor = meteor || m == "METEOR";
      spice = spice || m == "SPICE";
      CHECK(!why.empty());
    }
    CHECK(meteor);
    CHECK(spice);
    for (const auto& [m, v] : got.corpus) CHECK((m != "METEOR" && m != "SPICE"));
    const auto summary = pm::caption_summary_json(got);
    CHECK(summary["unavailable_metrics"].contains("METEOR"));
    CHECK(!summary["corpus"].contains("METEOR"));
  }
}

TEST_CASE("scoring tokenized.json directly gives the same corpus numbers") {
  const auto tok_path = kDir / "tokenized.json";
  const auto expected_path = kDir / "expected_scores.json";
  if (!pt::require_fixture(tok_path) || !pt::require_fixture(expected_path)) return;
  const auto tokenized = nlohmann::json::parse(pt::read_file(tok_path));
  const auto expected = nlohmann::json::parse(pt::read_file(expected_path));
  const pm::CaptionGroundTruth gt = pm::load_caption_annotations(kDir / "gts.json");
  for (const auto& [name, per_image] : tokenized.items()) {
    if (name == "gts" || !expected["scores"].contains(name)) continue;
    pt::announce_case("tokenized.json/" + name + " (scorers only)");
    std::vector<std::string> hyps;
    std::vector<std::vector<std::string>> refs;
    for (const auto& id : gt.image_ids) {
      hyps.push_back(per_image[pm::id_key(id)][0].get<std::string>());
      refs.push_back(tokenized["gts"][pm::id_key(id)].get<std::vector<std::string>>());
    }
    const auto got = pm::score_tokenized_captions(gt.image_ids, hyps, refs);
    for (const auto& [metric, value] : expected["scores"][name]["corpus"].items())
      CHECK(std::fabs(lookup(got.corpus, metric) - value.get<double>()) <= kTol);
  }
}

TEST_CASE("malformed caption inputs give clear errors naming the file") {
  pt::announce_case("caption input errors");
  TempDir tmp;
  const std::string gts =
      R"({"images":[{"id":1},{"id":2}],"annotations":[{"image_id":1,"id":1,"caption":"a cat"},)"
      R"({"image_id":2,"id":2,"caption":"a dog"}]})";
  const auto gt_path = tmp.write("gt.json", gts);
  const pm::CaptionGroundTruth gt = pm::load_caption_annotations(gt_path);
  CHECK(gt.image_ids.size() == 2);

  auto check_results = [&](const std::string& file, const std::string& text, const std::string& fragment) {
    const auto p = tmp.write(file, text);
    const std::string msg = error_of([&] { pm::load_caption_results(p, gt); });
    CHECK_MESSAGE(msg.find(p.string()) != std::string::npos, msg);
    CHECK_MESSAGE(msg.find(fragment) != std::string::npos, msg);
  };
  check_results("bad.json", R"([{"image_id": 1, "caption": "x"},)", "malformed JSON");
  check_results("missing.json", R"([{"image_id": 1, "caption": "a cat"}])", "no caption for 1 annotated image");
  check_results("unknown.json", R"([{"image_id": 1, "caption": "a"}, {"image_id": 2, "caption": "b"}, {"image_id": 7, "caption": "c"}])",
                "not in the annotations");
  check_results("dup.json", R"([{"image_id": 1, "caption": "a"}, {"image_id": 1, "caption": "b"}, {"image_id": 2, "caption": "c"}])",
                "more than one caption");
  check_results("field.json", R"([{"image_id": 1, "text": "a"}])", "has no \"caption\"");
  check_results("type.json", R"([{"image_id": 1, "caption": 5}])", "caption must be a string");
  check_results("obj.json", R"({"image_id": 1, "caption": "a"})", "must be a JSON array");

  auto check_gt = [&](const std::string& file, const std::string& text, const std::string& fragment) {
    const auto p = tmp.write(file, text);
    const std::string msg = error_of([&] { pm::load_caption_annotations(p); });
    CHECK_MESSAGE(msg.find(p.string()) != std::string::npos, msg);
    CHECK_MESSAGE(msg.find(fragment) != std::string::npos, msg);
  };
  check_gt("gt_list.json", R"([{"image_id": 1, "caption": "a"}])", "must be a JSON object");
  check_gt("gt_noann.json", R"({"images": []})", "\"annotations\"");
  check_gt("gt_orphan.json", R"({"images":[{"id":1}],"annotations":[{"image_id":3,"caption":"a"}]})", "not in \"images\"");
  check_gt("gt_empty.json", R"({"images":[{"id":1},{"id":2}],"annotations":[{"image_id":1,"caption":"a"}]})",
           "has no reference caption");
  check_gt("gt_badid.json", R"({"images":[{"id":1.5}],"annotations":[]})", "must be an integer or a string");
  const auto absent = tmp.path / "absent.json";
  const std::string msg = error_of([&] { pm::load_caption_annotations(absent); });
  CHECK(msg.find(absent.string()) != std::string::npos);
  CHECK(msg.find("not found") != std::string::npos);
}
