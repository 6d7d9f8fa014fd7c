// VQA accuracy against expected_accuracy.json (official vqaEval.py). Every results_*.json of the fixture folder
// is a case and must have its entry in expected_accuracy["scores"]. Rounded accuracies (overall, per answer type,
// per question type, per question) must be identical; unrounded values agree to 1e-9; the normalised GT answers
// must be identical strings.
#include "fixtures.h"

#include <prismer/metrics/caption_data.h>
#include <prismer/metrics/python_numeric.h>
#include <prismer/metrics/vqa_accuracy.h>
#include <prismer/metrics/vqa_normalize.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <unistd.h>

namespace pm = prismer::metrics;
namespace pt = prismer::test;

namespace {

const pt::fs::path kDir = pt::fixtures_root() / "metrics" / "vqa";

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

void compare_map(const std::string& what, const std::vector<std::pair<std::string, double>>& got,
                 const nlohmann::json& want, bool exact, double& max_err) {
  CHECK_MESSAGE(got.size() == want.size(), what);
  for (const auto& [k, v] : got) {
    REQUIRE_MESSAGE(want.contains(k), what << ": unexpected key " << k);
    const double w = want[k].get<double>();
    const double err = std::fabs(v - w);
    max_err = std::max(max_err, err);
    if (exact) CHECK_MESSAGE(v == w, what << " " << k << ": got " << v << " want " << w);
    else CHECK_MESSAGE(err <= 1e-9, what << " " << k << ": got " << v << " want " << w);
  }
}

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

TEST_CASE("VQA accuracy matches the official evaluation for every results file") {
  const auto expected_path = kDir / "expected_accuracy.json";
  if (!pt::require_fixture(expected_path)) return;
  const auto expected = nlohmann::json::parse(pt::read_file(expected_path));
  const pm::VqaAnnotations ann = pm::load_vqa_annotations(kDir / "annotations.json", kDir / "questions.json");
  const auto files = results_files();
  CHECK(!files.empty());
  for (const auto& file : files) {
    const std::string name = file.filename().string();
    pt::announce_case("vqa/" + name);
    if (!expected["scores"].contains(name)) {
      if (pt::running_in_ci()) FAIL_CHECK("no expected entry for " << name);
      else std::cerr << "WARNING: no expected entry for " << name << " in expected_accuracy.json\n";
      continue;
    }
    const auto& want = expected["scores"][name];
    const pm::VqaScores got = pm::evaluate_vqa(ann, pm::load_vqa_results(file, ann));

    double err_rounded = 0;
    double err_unrounded = 0;
    CHECK(got.overall == want["accuracy"]["overall"].get<double>());
    compare_map(name + " perQuestionType", got.per_question_type, want["accuracy"]["perQuestionType"], true, err_rounded);
    compare_map(name + " perAnswerType", got.per_answer_type, want["accuracy"]["perAnswerType"], true, err_rounded);
    err_unrounded = std::fabs(got.overall_unrounded - want["accuracy_unrounded"]["overall"].get<double>());
    CHECK(err_unrounded <= 1e-9);
    compare_map(name + " perQuestionType (unrounded)", got.per_question_type_unrounded,
                want["accuracy_unrounded"]["perQuestionType"], false, err_unrounded);
    compare_map(name + " perAnswerType (unrounded)", got.per_answer_type_unrounded,
                want["accuracy_unrounded"]["perAnswerType"], false, err_unrounded);

    double err_q = 0;
    double err_frac = 0;
    int mismatched_gt = 0;
    CHECK(got.per_question.size() == want["per_question"].size());
    for (const auto& q : got.per_question) {
      const std::string key = pm::id_key(q.question_id);
      REQUIRE_MESSAGE(want["per_question"].contains(key), "question " << key << " not expected");
      const auto& w = want["per_question"][key];
      err_q = std::max(err_q, std::fabs(q.accuracy - w["accuracy"].get<double>()));
      err_frac = std::max(err_frac, std::fabs(q.fraction - w["accuracy_unrounded_fraction"].get<double>()));
      CHECK_MESSAGE(q.accuracy == w["accuracy"].get<double>(),
                    name << " question " << key << ": got " << q.accuracy << " want " << w["accuracy"]
                         << " (answer \"" << q.answer << "\")");
      CHECK(std::fabs(q.fraction - w["accuracy_unrounded_fraction"].get<double>()) <= 1e-12);
      const auto want_gt = w["normalized_gt_answers"].get<std::vector<std::string>>();
      if (q.normalized_gt_answers != want_gt) {
        ++mismatched_gt;
        FAIL_CHECK(name << " question " << key << ": normalised GT answers " << nlohmann::json(q.normalized_gt_answers)
                            << " want " << w["normalized_gt_answers"]);
      }
      CHECK(q.question_type == w["question_type"].get<std::string>());
      CHECK(q.answer_type == w["answer_type"].get<std::string>());
    }
    // Exact binary ties at 2 decimals: Python 3 round() (what produced the fixture).
    for (const auto& tie : want["exact_half_ties_at_2_decimals"]) {
      const std::string tname = tie["name"].get<std::string>();
      const auto slash = tname.find('/');
      const std::string group = tname.substr(0, slash);
      const std::string key = tname.substr(slash + 1);
      const auto& list = group == "perAnswerType" ? got.per_answer_type : got.per_question_type;
      for (const auto& [k, v] : list) {
        if (k == key) CHECK(v == tie["python3_round"].get<double>());
      }
    }
    std::cout << "    " << got.per_question.size() << " questions; max |error| rounded " << err_rounded
              << ", unrounded " << err_unrounded << ", per question " << err_q << ", fraction " << err_frac
              << ", GT normalisation mismatches " << mismatched_gt << std::endl;
  }
}

TEST_CASE("VQA normalisation rules") {
  pt::announce_case("vqa normalisation");
  CHECK(pm::vqa_normalize_answer("a@b.com") == "bcom");
  CHECK(pm::vqa_normalize_answer("+") == "");
  CHECK(pm::vqa_normalize_answer("[a]") == "");
  CHECK(pm::vqa_normalize_answer("2-1") == "2 1");
  CHECK(pm::vqa_normalize_answer("1,5 and 2-1") == "15 and 21");
  CHECK(pm::vqa_normalize_answer("Three dogs") == "3 dogs");
  CHECK(pm::vqa_normalize_answer("dont") == "don't");
  CHECK(pm::vqa_normalize_answer("v.2") == "v.2");
  CHECK(pm::vqa_normalize_answer("hello !") == "hello");
  CHECK(pm::vqa_normalize_answer("yes.") == "yes");
  CHECK(pm::vqa_process_punctuation(std::string(40, '.')) == std::string(8, '.'));
  CHECK(pm::vqa_clean_whitespace("\tyes\n") == "yes");
  // All ten GT answers identical: no normalisation at all.
  std::vector<nlohmann::json> gts;
  for (int i = 1; i <= 10; ++i) gts.push_back({{"answer", "yes"}, {"answer_confidence", "yes"}, {"answer_id", i}});
  std::string a = "Yes";
  CHECK(pm::vqa_answer_accuracy(a, gts) == 0.0);
  a = " yes ";
  CHECK(pm::vqa_answer_accuracy(a, gts) == 1.0);
  // Python 3 round: exact binary ties go to even, other values to the nearest.
  CHECK(pm::python_round(71.875, 2) == 71.88);
  CHECK(pm::python_round(0.125, 2) == 0.12);
  CHECK(pm::python_round(2.675, 2) == 2.67);
  CHECK(pm::python_round(100.0 * (2.0 / 3.0), 2) == 66.67);
}

TEST_CASE("malformed VQA inputs give clear errors naming the file") {
  pt::announce_case("vqa input errors");
  const auto dir = pt::fs::temp_directory_path() / ("prismer_vqa_test_" + std::to_string(::getpid()));
  pt::fs::create_directories(dir);
  auto write = [&](const std::string& n, const std::string& text) {
    std::ofstream(dir / n, std::ios::binary) << text;
    return dir / n;
  };
  const std::string answers =
      R"([{"answer":"yes","answer_confidence":"yes","answer_id":1},{"answer":"no","answer_confidence":"yes","answer_id":2}])";
  const auto a = write("a.json", R"({"annotations":[{"question_id":1,"image_id":1,"question_type":"is the",)"
                                 R"("answer_type":"yes/no","multiple_choice_answer":"yes","answers":)" +
                                     answers + "}]}");
  const auto q = write("q.json", R"({"task_type":"Open-Ended","questions":[{"question_id":1,"image_id":1,"question":"?"}]})");
  const pm::VqaAnnotations ann = pm::load_vqa_annotations(a, q);

  auto check_res = [&](const std::string& n, const std::string& text, const std::string& fragment) {
    const auto p = write(n, text);
    const std::string msg = error_of([&] { pm::load_vqa_results(p, ann); });
    CHECK_MESSAGE(msg.find(p.string()) != std::string::npos, msg);
    CHECK_MESSAGE(msg.find(fragment) != std::string::npos, msg);
  };
  check_res("r_bad.json", "[{\"question_id\": 1, ", "malformed JSON");
  check_res("r_missing.json", "[]", "no answer for 1 annotated question");
  check_res("r_unknown.json", R"([{"question_id":1,"answer":"yes"},{"question_id":9,"answer":"no"}])", "not in the annotations");
  check_res("r_field.json", R"([{"question_id":1,"ans":"yes"}])", "has no \"answer\"");
  check_res("r_type.json", R"([{"question_id":1,"answer":3}])", "answer must be a string");
  check_res("r_obj.json", R"({"question_id":1,"answer":"yes"})", "not an array");

  const auto q_missing = write("q_missing.json", R"({"questions":[{"question_id":2}]})");
  std::string msg = error_of([&] { pm::load_vqa_annotations(a, q_missing); });
  CHECK(msg.find(q_missing.string()) != std::string::npos);
  CHECK(msg.find("missing from the questions file") != std::string::npos);
  const auto a_bad = write("a_bad.json", R"({"annotations":[{"question_id":1,"answers":[]}]})");
  msg = error_of([&] { pm::load_vqa_annotations(a_bad, q); });
  CHECK(msg.find(a_bad.string()) != std::string::npos);
  CHECK(msg.find("question_type") != std::string::npos);
  std::error_code ec;
  pt::fs::remove_all(dir, ec);
}
