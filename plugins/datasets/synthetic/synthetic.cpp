// synthetic: the quickstart's dataset. Renders scenes of coloured shapes (see scene.h) on first use and writes,
// in the layout of the original Prismer, the images, the exact depth and segmentation maps as expert labels
// (`<root>/labels/{depth,seg_coco}/<name>/<split>/<n>.png`), the annotation files the metrics read (COCO caption
// ground truth, VQA annotations/questions, the answer list), a text corpus for the tokenizer and stand-in CLIP feature tables for the shape classes.
#include "scene.h"

#include <prismer/config.h>
#include <prismer/dataset.h>
#include <prismer/image.h>
#include <prismer/log.h>
#include <prismer/plugin.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace prismer::synthetic;

// Bumped when the files written change, so folders made by an older build are rendered again.
constexpr int kFormat = 4;

std::string stem_of(std::size_t index) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%05zu", index);
  return buf;
}

// Python's str.capitalize() for the ASCII text of these scenes.
std::string capitalize(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

void write_json(const fs::path& path, const json& doc) { prismer::write_file_atomic(path.string(), doc.dump()); }

// Stand-in "CLIP text features" for the shape classes: fixed random unit vectors (the real tables come from the
// model zoo; the quickstart must not download anything). Written with torch's own pickler, as torch.save would.
void write_feature_tables(const fs::path& dir) {
  if (fs::exists(dir / "background_features.pt")) return;
  fs::create_directories(dir);
  torch::manual_seed(20240611);
  auto table = [](int64_t rows) { return torch::nn::functional::normalize(torch::randn({rows, 64}),
                                                                         torch::nn::functional::NormalizeFuncOptions().dim(1)); };
  auto save = [&](const std::string& file, const c10::IValue& value) {
    const std::vector<char> bytes = torch::pickle_save(value);
    prismer::write_file_atomic((dir / file).string(), std::string(bytes.begin(), bytes.end()));
  };
  auto labelled = [&](const std::string& file, const std::vector<std::string>& names) {
    c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
    c10::List<std::string> labels;
    for (const auto& n : names) labels.push_back(n);
    d.insert("labels", labels);
    d.insert("features", table(static_cast<int64_t>(names.size())));
    save(file, d);
  };
  labelled("coco_features.pt", shape_names());
  labelled("ade_features.pt", shape_names());
  labelled("detection_features.pt", shape_names());
  save("background_features.pt", table(1).squeeze(0));
}

class Synthetic final : public prismer::Dataset {
 public:
  explicit Synthetic(const prismer::Config& config) {
    root_ = config.get<std::string>("root");
    if (root_.empty()) config["root"].fail("set 'root' to the folder the scenes are written to");
    name_ = config.get<std::string>("name");
    split_ = config.get<std::string>("split");
    if (split_ != "train" && split_ != "test") config["split"].fail("must be 'train' or 'test', got '" + split_ + "'");
    task_ = config.get<std::string>("task");
    if (task_ != "caption" && task_ != "vqa") config["task"].fail("must be 'caption' or 'vqa', got '" + task_ + "'");
    const int count = config.get<int>("count");
    count_ = count > 0 ? count : (split_ == "train" ? 2000 : 200);
    size_ = config.get<int>("image_size");
    if (size_ < 16 || size_ > 1024) config["image_size"].fail("must be within 16..1024");
    // Train and test draw from different seeds, so held-out scenes are unseen ones.
    seed_ = static_cast<std::uint64_t>(config.get<std::int64_t>("seed")) * 2 + (split_ == "test" ? 1 : 0);
    use_ = config.get<int>("use");
    if (use_ < 0 || use_ > count_) config["use"].fail("must be within 0..count (" + std::to_string(count_) + ")");
    ensure_generated();
    load_annotations();
  }

  std::size_t size() const override { return samples_.size(); }
  prismer::Sample sample(std::size_t index) const override { return samples_.at(index); }
  std::string label_subdir() const override { return name_; }
  std::vector<std::string> answer_list() const override {
    return task_ == "vqa" ? prismer::synthetic::answer_list() : std::vector<std::string>{};
  }

 private:
  fs::path split_file() const { return fs::path(root_) / name_ / (split_ + ".json"); }

  void ensure_generated() {
    const fs::path marker = split_file();
    if (fs::exists(marker)) {
      std::ifstream in(marker);
      json doc = json::parse(in, nullptr, false);
      if (!doc.is_discarded() && doc.value("seed", 0ULL) == seed_ && doc.value("image_size", 0) == size_ &&
          doc.value("count", 0) == count_ && doc.value("format", 0) == kFormat)
        return;
      prismer::log::info("synthetic: {} was made with other settings; rendering again", marker.string());
    }
    prismer::log::info("synthetic: rendering {} {} scenes ({} px) into {}", count_, split_, size_, root_);
    const fs::path data = fs::path(root_) / name_ / split_;
    const fs::path labels = fs::path(root_) / "labels";
    json images = json::array(), caption_gt_images = json::array(), caption_gt = json::array();
    json vqa_annotations = json::array(), vqa_questions = json::array();
    std::string corpus;  // every caption, question and answer: the text `prismer tokenizer train` learns from
    std::int64_t annotation_id = 0, question_id = split_ == "test" ? 10'000'000 : 0;
    for (int i = 0; i < count_; ++i) {
      const Scene scene = make_scene(seed_, static_cast<std::uint64_t>(i), size_);
      const std::string stem = stem_of(static_cast<std::size_t>(i));
      const std::string rel = split_ + "/" + stem + ".png";
      prismer::write_png((data / (stem + ".png")).string(), scene.rgb);
      prismer::write_png((labels / "depth" / name_ / split_ / (stem + ".png")).string(), scene.depth);
      prismer::write_png((labels / "seg_coco" / name_ / split_ / (stem + ".png")).string(), scene.segmentation);
      json qas = json::array();
      // The corpus holds the text as the tasks tokenise it: the caption task's default prompt before each caption,
      // the VQA task's capitalised question and " " + capitalised answer; so every word is one token of its vocabulary.
      for (const std::string& c : scene.captions) corpus += "A picture of " + c + "\n";
      for (const QuestionAnswer& qa : scene.questions) {
        corpus += capitalize(qa.question) + " " + capitalize(qa.answer) + "\n";
        qas.push_back({{"question_id", question_id}, {"question", qa.question}, {"answer", qa.answer},
                       {"answer_type", qa.answer_type}});
        json answers = json::array();
        for (int k = 0; k < 10; ++k) answers.push_back({{"answer", qa.answer}, {"answer_confidence", "yes"}, {"answer_id", k + 1}});
        vqa_annotations.push_back({{"question_id", question_id}, {"image_id", i}, {"question_type", qa.question.substr(0, qa.question.find(' '))},
                                   {"answer_type", qa.answer_type}, {"multiple_choice_answer", qa.answer}, {"answers", answers}});
        vqa_questions.push_back({{"question_id", question_id}, {"image_id", i}, {"question", qa.question}});
        ++question_id;
      }
      images.push_back({{"image", rel}, {"image_id", i}, {"captions", scene.captions}, {"qa", qas}});
      caption_gt_images.push_back({{"id", i}, {"file_name", rel}});
      for (const std::string& c : scene.captions) caption_gt.push_back({{"image_id", i}, {"id", annotation_id++}, {"caption", c}});
    }
    const fs::path dir = fs::path(root_) / name_;
    write_json(dir / (split_ + "_caption_gt.json"), {{"images", caption_gt_images}, {"annotations", caption_gt}});
    write_json(dir / (split_ + "_vqa_annotations.json"), {{"annotations", vqa_annotations}});
    write_json(dir / (split_ + "_vqa_questions.json"), {{"task_type", "Open-Ended"}, {"questions", vqa_questions}});
    write_json(dir / "answer_list.json", prismer::synthetic::answer_list());
    prismer::write_file_atomic((dir / (split_ + "_corpus.txt")).string(), corpus);
    write_feature_tables(fs::path(root_) / "features");
    // The split file last: its presence says everything above is complete.
    write_json(split_file(), {{"format", kFormat}, {"seed", seed_}, {"image_size", size_}, {"count", count_}, {"images", images}});
  }

  void load_annotations() {
    std::ifstream in(split_file());
    const json doc = json::parse(in);
    const fs::path data = fs::path(root_) / name_;
    for (const json& image : doc.at("images")) {
      if (use_ > 0 && image.at("image_id").get<int>() >= use_) break;
      const std::string rel = image.at("image").get<std::string>();
      prismer::Sample base;
      base.image_path = (data / rel).string();
      base.label_name = rel.substr(0, rel.size() - 4);
      base.numeric_id = image.at("image_id").get<std::int64_t>();
      const auto captions = image.at("captions").get<std::vector<std::string>>();
      if (task_ == "caption") {
        // Training lists one sample per caption (as the COCO Karpathy list); evaluation one per image with
        // every reference caption as its answers.
        if (split_ == "train") {
          for (const std::string& c : captions) {
            prismer::Sample s = base;
            s.id = rel + "#" + std::to_string(&c - captions.data());
            s.text["caption"] = c;
            samples_.push_back(std::move(s));
          }
        } else {
          prismer::Sample s = base;
          s.id = rel;
          s.text["caption"] = captions.front();
          s.answers = captions;
          samples_.push_back(std::move(s));
        }
      } else {
        for (const json& qa : image.at("qa")) {
          prismer::Sample s = base;
          s.numeric_id = qa.at("question_id").get<std::int64_t>();
          s.id = rel + "?" + std::to_string(s.numeric_id);
          s.text["question"] = qa.at("question").get<std::string>();
          s.text["image_id"] = std::to_string(base.numeric_id);
          s.text["answer_type"] = qa.value("answer_type", "");
          if (split_ == "train") {
            s.answers = {qa.at("answer").get<std::string>()};
            s.answer_weights = {1.0f};
          } else {
            // ten annotators, as the VQA annotation file says: the official accuracy counts agreeing humans
            // (min(#agree / 3, 1) over the 10-choose-9 subsets), so a single reference answer would always score 0
            s.answers.assign(10, qa.at("answer").get<std::string>());
          }
          samples_.push_back(std::move(s));
        }
      }
    }
  }

  std::string root_, name_, split_, task_;
  int count_ = 0, size_ = 64, use_ = 0;
  std::uint64_t seed_ = 0;
  std::vector<prismer::Sample> samples_;
};

}  // namespace

PRISMER_PLUGIN(Synthetic, "synthetic", dataset, "1.0.0",
               "Rendered scenes of coloured shapes with captions, questions, exact depth and segmentation labels",
               "root: data/quickstart   # scenes, labels (<root>/labels) and annotation files are written here\n"
               "name: synthetic         # label sub-folder and data folder name\n"
               "split: train            # train | test (test scenes come from another seed: unseen)\n"
               "task: caption           # caption: samples with captions | vqa: one sample per question\n"
               "count: 0                # scenes; 0 = 2000 for train, 200 for test\n"
               "use: 0                  # samples from the first N scenes only (0 = all); the split is still rendered whole\n"
               "seed: 0\n"
               "image_size: 64          # pixels per side\n")
