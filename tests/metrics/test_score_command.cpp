// The `score` command: runs on every fixture results file, writes the per-image / per-question files
// atomically, prints JSON with --json, and returns 2 with a one-line message naming the file on bad input.
#include "fixtures.h"

#include <prismer/metrics/score_command.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <unistd.h>

namespace pm = prismer::metrics;
namespace pt = prismer::test;

namespace {

struct RunResult {
  int rc = 0;
  std::string out;
  std::string err;
};

RunResult run(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  std::ostringstream out;
  std::ostringstream err;
  auto* old_out = std::cout.rdbuf(out.rdbuf());
  auto* old_err = std::cerr.rdbuf(err.rdbuf());
  RunResult r;
  r.rc = pm::run_score_command(static_cast<int>(argv.size()), argv.data());
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::vector<pt::fs::path> results_in(const pt::fs::path& dir) {
  std::vector<pt::fs::path> out;
  if (!pt::require_fixture(dir)) return out;
  for (const auto& e : pt::fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("results_", 0) == 0 && e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

const pt::fs::path kTmp = pt::fs::temp_directory_path() / ("prismer_score_test_" + std::to_string(::getpid()));

}  // namespace

TEST_CASE("score caption on every fixture results file") {
  const auto dir = pt::fixtures_root() / "metrics" / "coco_caption";
  if (!pt::require_fixture(dir / "expected_scores.json")) return;
  const auto expected = nlohmann::json::parse(pt::read_file(dir / "expected_scores.json"));
  pt::fs::create_directories(kTmp);
  for (const auto& res : results_in(dir)) {
    const std::string name = res.filename().string();
    pt::announce_case("score caption " + name);
    const auto per_image = kTmp / ("per_image_" + name);
    const RunResult r = run({"score", "caption", "--annotations", (dir / "gts.json").string(), "--results", res.string(),
                             "--per-image", per_image.string(), "--json"});
    REQUIRE_MESSAGE(r.rc == 0, r.err);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["unavailable_metrics"].contains("METEOR"));
    CHECK(j["unavailable_metrics"].contains("SPICE"));
    REQUIRE(pt::fs::exists(per_image));
    const auto pi = nlohmann::json::parse(pt::read_file(per_image));
    if (expected["scores"].contains(name)) {
      for (const auto& [m, v] : expected["scores"][name]["corpus"].items())
        CHECK(std::fabs(j["corpus"][m].get<double>() - v.get<double>()) <= 1e-6);
      CHECK(pi.size() == expected["scores"][name]["per_image"].size());
      for (const auto& [id, scores] : expected["scores"][name]["per_image"].items())
        CHECK(std::fabs(pi[id]["CIDEr"].get<double>() - scores["CIDEr"].get<double>()) <= 1e-6);
    }
    // No temporary file is left next to the output.
    for (const auto& e : pt::fs::directory_iterator(kTmp)) CHECK(e.path().string().find(".tmp.") == std::string::npos);
  }
  const RunResult table = run({"score", "caption", "--annotations", (dir / "gts.json").string(), "--results",
                               (dir / "results_model_a.json").string()});
  CHECK(table.rc == 0);
  CHECK(table.out.find("CIDEr") != std::string::npos);
  CHECK(table.out.find("METEOR") != std::string::npos);
  CHECK(table.out.find("unavailable") != std::string::npos);
  std::cout << table.out;
}

TEST_CASE("score vqa on every fixture results file") {
  const auto dir = pt::fixtures_root() / "metrics" / "vqa";
  if (!pt::require_fixture(dir / "expected_accuracy.json")) return;
  const auto expected = nlohmann::json::parse(pt::read_file(dir / "expected_accuracy.json"));
  pt::fs::create_directories(kTmp);
  for (const auto& res : results_in(dir)) {
    const std::string name = res.filename().string();
    pt::announce_case("score vqa " + name);
    const auto per_q = kTmp / ("per_question_" + name);
    const RunResult r = run({"score", "vqa", "--annotations", (dir / "annotations.json").string(), "--questions",
                             (dir / "questions.json").string(), "--results", res.string(), "--per-question",
                             per_q.string(), "--json"});
    REQUIRE_MESSAGE(r.rc == 0, r.err);
    const auto j = nlohmann::json::parse(r.out);
    const auto pq = nlohmann::json::parse(pt::read_file(per_q));
    if (expected["scores"].contains(name)) {
      CHECK(j["overall"].get<double>() == expected["scores"][name]["accuracy"]["overall"].get<double>());
      for (const auto& [id, w] : expected["scores"][name]["per_question"].items())
        CHECK(pq[id]["accuracy"].get<double>() == w["accuracy"].get<double>());
    }
  }
  const RunResult table = run({"score", "vqa", "--annotations", (dir / "annotations.json").string(), "--questions",
                               (dir / "questions.json").string(), "--results", (dir / "results_a.json").string()});
  CHECK(table.rc == 0);
  CHECK(table.out.find("overall") != std::string::npos);
  std::cout << table.out;
}

TEST_CASE("score returns 2 with a one-line message on usage and input errors") {
  pt::announce_case("score errors");
  const auto dir = pt::fixtures_root() / "metrics" / "coco_caption";
  pt::fs::create_directories(kTmp);
  const auto bad = kTmp / "bad.json";
  std::ofstream(bad) << "[{";
  auto one_line = [](const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; };

  RunResult r = run({"score"});
  CHECK(r.rc == 2);
  CHECK(one_line(r.err));
  r = run({"score", "translate"});
  CHECK(r.rc == 2);
  r = run({"score", "caption", "--results", bad.string()});
  CHECK(r.rc == 2);
  CHECK(r.err.find("--annotations") != std::string::npos);
  r = run({"score", "caption", "--annotations", (dir / "gts.json").string(), "--results", bad.string()});
  CHECK(r.rc == 2);
  CHECK(one_line(r.err));
  CHECK(r.err.find(bad.string()) != std::string::npos);
  r = run({"score", "caption", "--annotations", (kTmp / "nope.json").string(), "--results", bad.string()});
  CHECK(r.rc == 2);
  CHECK(r.err.find("nope.json") != std::string::npos);
  r = run({"score", "caption", "--bogus"});
  CHECK(r.rc == 2);
  CHECK(one_line(r.err));
  const auto vdir = pt::fixtures_root() / "metrics" / "vqa";
  r = run({"score", "vqa", "--annotations", (vdir / "annotations.json").string(), "--questions",
           (vdir / "questions.json").string(), "--results", (dir / "results_model_a.json").string()});
  CHECK(r.rc == 2);
  CHECK(one_line(r.err));
  CHECK(r.err.find("results_model_a.json") != std::string::npos);
  std::error_code ec;
  pt::fs::remove_all(kTmp, ec);
}
