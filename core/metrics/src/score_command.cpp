// `score caption|vqa ...`: command-line front end of the caption and VQA metrics.
#include "prismer/metrics/score_command.h"

#include "prismer/metrics/caption_metrics.h"
#include "prismer/metrics/json_io.h"
#include "prismer/metrics/vqa_accuracy.h"

#include <cxxopts.hpp>

#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace prismer::metrics {

namespace {

constexpr int kUsageError = 2;

const char* const kUsage =
    "usage: score caption --annotations GT.json --results RES.json [--per-image OUT.json] [--json]\n"
    "       score vqa --annotations A.json --questions Q.json --results RES.json [--per-question OUT.json] [--json]\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string required(const cxxopts::ParseResult& r, const std::string& name) {
  if (r.count(name) == 0) throw UsageError("missing required option --" + name);
  const std::string v = r[name].as<std::string>();
  if (v.empty()) throw UsageError("option --" + name + " needs a file name");
  return v;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

int run_caption(int argc, char** argv) {
  cxxopts::Options opts("score caption", "COCO caption metrics (BLEU-1..4, ROUGE-L, CIDEr-D)");
  opts.add_options()("annotations", "COCO caption annotation file", cxxopts::value<std::string>())(
      "results", "results file [{image_id, caption}]", cxxopts::value<std::string>())(
      "per-image", "write per-image scores to this JSON file", cxxopts::value<std::string>())(
      "json", "print JSON instead of a table")("h,help", "show help");
  const auto r = opts.parse(argc, argv);
  if (r.count("help")) {
    std::cout << opts.help() << std::endl;
    return 0;
  }
  if (!r.unmatched().empty()) throw UsageError("unexpected argument '" + r.unmatched().front() + "'");
  const std::string ann = required(r, "annotations");
  const std::string res = required(r, "results");
  const CaptionGroundTruth gt = load_caption_annotations(ann);
  const CaptionResults results = load_caption_results(res, gt);
  const CaptionScores scores = evaluate_captions(gt, results);
  if (r.count("per-image")) {
    write_text_file_atomic(r["per-image"].as<std::string>(), caption_per_image_json(scores).dump(1) + "\n");
  }
  if (r.count("json")) {
    std::cout << caption_summary_json(scores).dump(1) << std::endl;
  } else {
    std::cout << "COCO caption metrics (" << scores.per_image.size() << " images)\n";
    std::cout << "  metric     score\n";
    for (const auto& [name, v] : scores.corpus) {
      std::string padded = name;
      padded.resize(10, ' ');
      std::cout << "  " << padded << " " << fmt("%.6f", v) << "\n";
    }
    for (const auto& [name, why] : scores.unavailable) {
      std::string padded = name;
      padded.resize(10, ' ');
      std::cout << "  " << padded << " unavailable (" << why << ")\n";
    }
    std::cout.flush();
  }
  return 0;
}

int run_vqa(int argc, char** argv) {
  cxxopts::Options opts("score vqa", "VQA accuracy (official VQA evaluation)");
  opts.add_options()("annotations", "VQA annotation file", cxxopts::value<std::string>())(
      "questions", "VQA question file", cxxopts::value<std::string>())(
      "results", "results file [{question_id, answer}]", cxxopts::value<std::string>())(
      "per-question", "write per-question accuracies to this JSON file", cxxopts::value<std::string>())(
      "json", "print JSON instead of a table")("h,help", "show help");
  const auto r = opts.parse(argc, argv);
  if (r.count("help")) {
    std::cout << opts.help() << std::endl;
    return 0;
  }
  if (!r.unmatched().empty()) throw UsageError("unexpected argument '" + r.unmatched().front() + "'");
  const std::string ann = required(r, "annotations");
  const std::string qs = required(r, "questions");
  const std::string res = required(r, "results");
  const VqaAnnotations a = load_vqa_annotations(ann, qs);
  const std::vector<std::string> answers = load_vqa_results(res, a);
  const VqaScores scores = evaluate_vqa(a, answers);
  if (r.count("per-question")) {
    write_text_file_atomic(r["per-question"].as<std::string>(), vqa_per_question_json(scores).dump(1) + "\n");
  }
  if (r.count("json")) {
    std::cout << vqa_summary_json(scores).dump(1) << std::endl;
  } else {
    std::cout << "VQA accuracy (" << scores.per_question.size() << " questions)\n";
    std::cout << "  overall              " << fmt("%.2f", scores.overall) << "\n";
    std::cout << "  per answer type:\n";
    for (const auto& [k, v] : scores.per_answer_type) std::cout << "    " << k << ": " << fmt("%.2f", v) << "\n";
    std::cout << "  per question type:\n";
    for (const auto& [k, v] : scores.per_question_type) std::cout << "    " << k << ": " << fmt("%.2f", v) << "\n";
    std::cout.flush();
  }
  return 0;
}

}  // namespace

int run_score_command(int argc, char** argv) {
  try {
    if (argc < 2) throw UsageError("missing sub-command (caption or vqa)");
    const std::string sub = argv[1];
    if (sub == "-h" || sub == "--help") {
      std::cout << kUsage;
      return 0;
    }
    // cxxopts sees "score <sub>" as the program name followed by the options.
    std::vector<char*> args;
    std::string prog = std::string(argc > 0 ? argv[0] : "score") + " " + sub;
    args.push_back(prog.data());
    for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
    const int n = static_cast<int>(args.size());
    if (sub == "caption") return run_caption(n, args.data());
    if (sub == "vqa") return run_vqa(n, args.data());
    throw UsageError("unknown sub-command '" + sub + "' (expected caption or vqa)");
  } catch (const UsageError& e) {
    std::cerr << "score: usage error: " << e.what() << " (run 'score --help')\n";
    return kUsageError;
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << "score: usage error: " << e.what() << " (run 'score --help')\n";
    return kUsageError;
  } catch (const std::exception& e) {
    std::cerr << "score: error: " << e.what() << "\n";
    return kUsageError;
  }
}

}  // namespace prismer::metrics
