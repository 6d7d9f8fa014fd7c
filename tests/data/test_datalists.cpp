// The list dataset plugins (coco, nocaps, vqav2, pretrain) built on shared/fixtures/data/datalists/root against the
// items the original Caption / VQA / Pretrain datasets return (items.json), every run found there.
// Tolerance: 0. Text fields, ids, answers, weights (as float32) and the label arguments equal; every tensor of the
// item (prepare_item: decode, labels, eval Transform, post_label_process) has the reference CRC-32.
#include <nlohmann/json.hpp>
#include <prismer/core/plugin_registry.h>
#include <prismer/dataset.h>
#include <torch/torch.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <string>

#include "fixtures.h"
#include "prismer/data/clip_features.h"
#include "prismer/data/prepare_item.h"

namespace {

namespace fs = std::filesystem;
namespace pd = prismer::data;
using nlohmann::json;

std::uint32_t crc32_tensor(const torch::Tensor& t) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> tb{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      tb[i] = c;
    }
    return tb;
  }();
  const torch::Tensor c = t.contiguous();
  const auto* p = static_cast<const std::uint8_t*>(c.data_ptr());
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0, n = c.numel() * c.element_size(); i < n; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

/// The plugin and its config for a run, from the constructor the original used and its config.
std::pair<std::string, std::string> plugin_for(const json& run, const fs::path& root) {
  const std::string ctor = run.at("constructor").get<std::string>();
  const json& c = run.at("config");
  const bool train = ctor.find("train=True") != std::string::npos;
  auto path = [&](const char* key) { return json((root / c.at(key).get<std::string>()).string()).dump(); };
  if (ctor.rfind("Caption(", 0) == 0) {
    const std::string dataset = c.at("dataset").get<std::string>();
    if (dataset == "coco")
      return {"coco", "root: " + path("data_path") + "\nsplit: " + (train ? "train" : "test") +
                          "\nprefix: " + json(c.value("prefix", "")).dump() + "\n"};
    if (dataset == "nocaps" && !train) return {"nocaps", "root: " + path("data_path") + "\n"};
  } else if (ctor.rfind("VQA(", 0) == 0) {
    return {"vqav2", "root: " + path("data_path") + "\nsplit: " + (train ? "train" : "test") +
                         "\ndatasets: " + c.value("datasets", json::array()).dump() + "\n"};
  } else if (ctor.rfind("Pretrain(", 0) == 0) {
    return {"pretrain", "datasets: " + c.at("datasets").dump() + "\ncc12m_data_path: " + path("cc12m_data_path") +
                            "\ncc3m_data_path: " + path("cc3m_data_path") + "\ncoco_data_path: " +
                            path("coco_data_path") + "\nvg_data_path: " + path("vg_data_path") + "\n"};
  }
  FAIL("no dataset plugin for constructor '" << ctor << "' with config " << c.dump());
  return {};
}

std::string normal(const fs::path& p) { return p.lexically_normal().string(); }

/// The text the original item holds for `key`, from a sample (captions: prompt + ' ' + caption).
std::string caption_of(const prismer::Sample& s) {
  const auto c = s.text.find("caption");
  const auto p = s.text.find("prompt");
  const std::string caption = c == s.text.end() ? "" : c->second;
  return p == s.text.end() ? caption : p->second + (caption.empty() ? "" : " " + caption);
}

}  // namespace

TEST_CASE("datalists: every run's items match the original datasets (tolerance 0)") {
  const fs::path dir = prismer::test::fixtures_root() / "data" / "datalists";
  if (!prismer::test::require_fixture(dir / "items.json")) return;
  const json items = json::parse(prismer::test::read_file(dir / "items.json"));
  const json meta = json::parse(prismer::test::read_file(dir / "meta.json"));
  const fs::path root = dir / "root";
  const pd::ClipFeatures features = pd::load_clip_features((dir / meta.at("features").get<std::string>()).string());
  prismer::PluginRegistry registry;
  const fs::path plugin_dir = std::getenv("PRISMER_PLUGIN_DIR") ? std::getenv("PRISMER_PLUGIN_DIR") : "";
  REQUIRE_MESSAGE(!plugin_dir.empty(), "PRISMER_PLUGIN_DIR is not set (run through ctest or set it to build/plugins)");
  int runs = 0;
  for (const auto& [run_name, run] : items.at("runs").items()) {
    prismer::test::announce_case(run_name);
    ++runs;
    const auto [plugin, yaml] = plugin_for(run, root);
    const fs::path file = plugin_dir / ("prismer-plugin-" + plugin + ".so");
    const prismer::PluginRecord* rec = registry.find(plugin);
    if (rec == nullptr) rec = &registry.load_file(file.string());
    const auto ds = registry.create_as<prismer::Dataset>(*rec, prismer::Config::parse_string(yaml, run_name));
    const json& ref_items = run.at("items");
    CHECK_MESSAGE(ds->size() == run.at("len").get<std::size_t>(), run_name << ": size");
    if (run.contains("answer_list")) CHECK(ds->answer_list() == run["answer_list"].get<std::vector<std::string>>());

    // Match reference items to samples by image file and text; lists read in order must match by index too
    // (the original's web folders follow glob's unsorted order, ours is sorted).
    const bool ordered = !run.at("config").contains("cc12m_data_path");
    std::set<std::size_t> used;
    int mismatches = 0, tensors = 0;
    pd::ItemOptions opt;
    opt.experts = run.at("config").at("experts").get<std::vector<std::string>>();
    opt.label_root = "";
    opt.resolution = run.at("config").at("image_resolution").get<int>();
    for (const json& it : ref_items) {
      const json& args = it.at("get_expert_labels_args");
      const std::string want_image = normal(root / args.at("data_path").get<std::string>() /
                                            args.at("dataset").get<std::string>() / args.at("image_path").get<std::string>());
      const std::string want_caption = it.value("caption", "");
      std::size_t found = ds->size();
      for (std::size_t i = 0; i < ds->size() && found == ds->size(); ++i) {
        if (used.count(i)) continue;
        const prismer::Sample s = ds->sample(i);
        if (normal(s.image_path) == want_image && (!it.contains("caption") || caption_of(s) == want_caption)) found = i;
      }
      const std::size_t index = it.at("index").get<std::size_t>();
      const std::string where = run_name + " item " + std::to_string(index);
      if (found == ds->size()) {
        ++mismatches;
        FAIL_CHECK(where << ": no sample with image " << want_image << " and caption '" << want_caption << "'");
        continue;
      }
      used.insert(found);
      if (ordered) CHECK_MESSAGE(found == index, where << ": found at index " << found);
      const prismer::Sample s = ds->sample(found);
      // label layout: <label_path>/<expert>/<dataset>/<image_path .ext -> .png>
      CHECK_MESSAGE(ds->label_subdir_of(s) == args.at("dataset").get<std::string>(), where << ": label folder");
      const std::string img = args.at("image_path").get<std::string>();
      CHECK_MESSAGE(s.label_name == img.substr(0, img.rfind('.')), where << ": label name " << s.label_name);
      if (it.contains("result_image_id")) CHECK_MESSAGE(s.numeric_id == it["result_image_id"].get<std::int64_t>(), where);
      if (it.contains("question_id")) CHECK_MESSAGE(s.numeric_id == it["question_id"].get<std::int64_t>(), where);
      if (it.contains("question")) CHECK_MESSAGE(s.text.at("question") == it["question"].get<std::string>(), where);
      if (it.contains("answers")) CHECK_MESSAGE(s.answers == it["answers"].get<std::vector<std::string>>(), where);
      if (it.contains("weights")) {
        const json& w = it["weights"];
        std::vector<float> want;
        if (w.at("shape").empty()) want.assign(s.answers.size(), w.at("values").get<float>());  // VG's 0-d 0.2
        else want = w.at("values").get<std::vector<float>>();
        CHECK_MESSAGE(s.answer_weights == want, where << ": weights");
      }
      // Evaluation ground truth: the list's reference captions.
      const json& entry = run.at("data_list").at(found);
      if (it.contains("result_image_id") && entry.contains("caption"))
        CHECK_MESSAGE(s.answers == entry["caption"].get<std::vector<std::string>>(), where << ": reference captions");
      // Tensors.
      std::mt19937_64 rng(0);
      opt.label_root = (root / args.at("label_path").get<std::string>()).string();
      const pd::PreparedItem p = pd::prepare_item(*ds, found, opt, &features, rng);
      const json& ex = it.at("experts");
      auto check = [&](const std::string& key, const torch::Tensor& t) {
        ++tensors;
        const bool ok = ex.contains(key) && crc32_tensor(t) == ex[key].at("crc32").get<std::uint32_t>();
        if (!ok) ++mismatches;
        CHECK_MESSAGE(ok, where << ": " << key << " crc32 differs");
      };
      check("rgb", p.rgb);
      for (const auto& [name, in] : p.experts) {
        if (in.instance.defined()) {
          check(name + ".label", in.value);
          check(name + ".instance", in.instance);
        } else {
          check(name, in.value);
        }
      }
    }
    std::cout << "    " << ref_items.size() << " items, " << tensors << " tensors, mismatches " << mismatches
              << " (largest error: " << (mismatches == 0 ? "0, all exact" : "see failures") << ")" << std::endl;
  }
  CHECK(runs > 0);
}
