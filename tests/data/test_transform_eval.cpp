// get_expert_labels -> Transform(train=False) -> post_label_process against shared/fixtures/data/transform_eval,
// every case of every `X_meta.json` set, at every resolution the meta lists.
// Tolerance: 0 everywhere. uint8 / int64 equal; float32 bit-equal (NaN rows of the reference tables / LUTs mean
// "id absent" and are skipped); the CRC-32 of every final tensor equal to the reference summary.
#include <nlohmann/json.hpp>
#include <prismer/weights.h>
#include <torch/torch.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <string>

#include "fixtures.h"
#include "prismer/data/clip_features.h"
#include "prismer/data/expert_labels.h"
#include "prismer/data/image_tensor.h"
#include "prismer/data/post_label_process.h"
#include "prismer/data/transform.h"

namespace {

namespace fs = std::filesystem;
namespace pd = prismer::data;
using nlohmann::json;

std::uint32_t crc32_bytes(const void* data, std::size_t n) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  const auto* p = static_cast<const std::uint8_t*>(data);
  for (std::size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::uint32_t crc32_tensor(const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  return crc32_bytes(c.data_ptr(), c.numel() * c.element_size());
}

/// Exact equality (float32 compared bit for bit); prints a short diagnosis.
bool same_tensor(const std::string& what, const torch::Tensor& got, const torch::Tensor& want) {
  bool ok = got.sizes() == want.sizes() && got.scalar_type() == want.scalar_type();
  std::string why = ok ? "" : "shape/dtype " + std::string(c10::str(got.sizes(), got.scalar_type(), " vs ", want.sizes(), want.scalar_type()));
  if (ok) {
    const torch::Tensor a = got.contiguous(), b = want.contiguous();
    ok = std::memcmp(a.data_ptr(), b.data_ptr(), a.numel() * a.element_size()) == 0;
    if (!ok) {
      const torch::Tensor diff = (a.to(torch::kDouble) - b.to(torch::kDouble)).abs();
      why = c10::str((a != b).sum().item<std::int64_t>(), " elements differ, max |diff| ", diff.max().item<double>());
    }
  }
  if (!ok) std::cout << "  MISMATCH " << what << ": " << why << std::endl;
  CHECK_MESSAGE(ok, what << ": " << why);
  return ok;
}

bool same_crc(const std::string& what, const torch::Tensor& got, const json& summary) {
  if (!summary.contains("crc32")) return true;
  const bool ok = crc32_tensor(got) == summary["crc32"].get<std::uint32_t>();
  if (!ok) std::cout << "  MISMATCH " << what << ": crc32 differs from the reference summary" << std::endl;
  CHECK_MESSAGE(ok, what << ": crc32");
  return ok;
}

const torch::Tensor& need(const prismer::TensorMap& m, const std::string& key, const std::string& file) {
  const torch::Tensor* t = prismer::find_tensor(m, key);
  REQUIRE_MESSAGE(t != nullptr, file << ": no '" << key << "'");
  return *t;
}

/// The dataset folder name: the case's or meta's "dataset", else the only folder under data/.
std::string dataset_of(const json& meta, const json& c, const fs::path& dir) {
  if (c.contains("dataset")) return c["dataset"].get<std::string>();
  if (meta.contains("dataset")) return meta["dataset"].get<std::string>();
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir / "data"))
    if (e.is_directory()) names.push_back(e.path().filename().string());
  REQUIRE_MESSAGE(names.size() == 1, "cannot tell the dataset folder under " << (dir / "data").string());
  return names[0];
}

}  // namespace

TEST_CASE("transform_eval: labels, eval Transform and post_label_process match the original (tolerance 0)") {
  const fs::path dir = prismer::test::fixtures_root() / "data" / "transform_eval";
  if (!prismer::test::require_fixture(dir / "meta.json")) return;
  int cases = 0, checks_ok = 0, checks = 0;
  auto count = [&](bool ok) { ++checks, checks_ok += ok; };
  for (const std::string& prefix : prismer::test::case_prefixes(dir)) {
    const json meta = json::parse(prismer::test::read_file(dir / (prefix + "meta.json")));
    const std::vector<std::string> experts = meta.at("experts").get<std::vector<std::string>>();
    const pd::ClipFeatures features = pd::load_clip_features((dir / "features").string());
    for (const json& c : meta.at("cases")) {
      const std::string name = prefix + c.at("name").get<std::string>();
      prismer::test::announce_case(name);
      ++cases;
      const pd::ExpertSample sample = pd::get_expert_labels((dir / "data").string(), (dir / "labels").string(),
                                                            c.at("image_path").get<std::string>(),
                                                            dataset_of(meta, c, dir), experts);
      const fs::path out_dir = dir / "outputs" / c.at("name").get<std::string>();
      // Decoding and loading.
      const torch::Tensor decoded = pd::image_to_u8_chw(sample.image).permute({1, 2, 0});
      if (fs::exists(out_dir / "decoded_rgb.pt")) {
        const auto ref = prismer::load_weights((out_dir / "decoded_rgb.pt").string());
        count(same_tensor(name + " decoded rgb", decoded, need(ref, "rgb_hwc_u8", "decoded_rgb.pt")));
      }
      if (c.contains("loaded") && c["loaded"].contains("rgb")) count(same_crc(name + " loaded rgb", decoded, c["loaded"]["rgb"]));
      REQUIRE(sample.labels.size() == experts.size());
      for (const auto& [exp, map] : sample.labels) {
        if (!c.contains("loaded") || !c["loaded"].contains(exp)) continue;
        torch::Tensor t = pd::image_to_u8_chw(map).permute({1, 2, 0});
        if (map.channels == 1) t = t.squeeze(2);
        count(same_crc(name + " loaded " + exp, t, c["loaded"][exp]));
      }
      // The labels after the NEAREST resize, to_tensor and post_label_process (independent of R).
      const json& outputs = c.at("outputs");
      const auto labels_ref = prismer::load_weights((out_dir / "labels.pt").string());
      const json summaries = outputs.contains("labels") ? outputs["labels"].value("summaries", json::object()) : json::object();
      bool labels_checked = false;
      for (const int R : meta.at("resolutions").get<std::vector<int>>()) {
        const std::string key = "rgb_" + std::to_string(R);
        const auto resized = pd::resize_eval(sample.image, sample.labels, R);
        const pd::TransformedSample ts = pd::to_tensors(resized.first, resized.second);
        if (outputs.contains(key)) {
          const auto ref = prismer::load_weights((dir / outputs[key].at("file").get<std::string>()).string());
          const torch::Tensor u8 = pd::image_to_u8_chw(resized.first);
          count(same_tensor(name + " " + key + " rgb_u8", u8, need(ref, "rgb_u8", key)));
          if (const torch::Tensor* rgb = prismer::find_tensor(ref, "rgb")) count(same_tensor(name + " " + key + " rgb", ts.rgb, *rgb));
          if (outputs[key].contains("rgb")) count(same_crc(name + " " + key + " rgb", ts.rgb, outputs[key]["rgb"]));
          // rgb == rgb_lut[c][rgb_u8] for every case
          const auto lut = prismer::load_weights((dir / meta.value("rgb_lut", "rgb_lut.pt")).string());
          const torch::Tensor& table = need(lut, "rgb_lut", "rgb_lut.pt");
          torch::Tensor via_lut = torch::empty_like(ts.rgb);
          for (int ch = 0; ch < 3; ++ch) via_lut[ch] = table[ch].index_select(0, u8[ch].reshape({-1}).to(torch::kLong)).view({R, R});
          count(same_tensor(name + " " + key + " rgb vs rgb_lut", ts.rgb, via_lut));
        }
        if (labels_checked) continue;
        labels_checked = true;
        const auto post = pd::post_label_process(ts, sample.info, features);
        for (std::size_t e = 0; e < resized.second.size(); ++e) {
          const std::string& exp = resized.second[e].first;
          const torch::Tensor u8 = pd::image_to_u8_chw(resized.second[e].second);
          const pd::ExpertInput& in = post[e].second;
          if (exp == "depth" || exp == "normal" || exp == "edge") {
            count(same_tensor(name + " " + exp + "_u8", u8, need(labels_ref, exp + "_u8", "labels.pt")));
            count(same_tensor(name + " " + exp, in.value, need(labels_ref, exp, "labels.pt")));
            if (const torch::Tensor* lut = prismer::find_tensor(labels_ref, exp + "_lut")) {
              const torch::Tensor via = lut->index_select(0, u8.reshape({-1}).to(torch::kLong)).view_as(in.value);
              count(same_tensor(name + " " + exp + " vs lut", in.value, via));
            }
            if (summaries.contains(exp)) count(same_crc(name + " " + exp, in.value, summaries[exp]));
          } else {
            count(same_tensor(name + " " + exp + "_ids", u8[0], need(labels_ref, exp + "_ids", "labels.pt")));
            const torch::Tensor* table = prismer::find_tensor(labels_ref, exp + "_table");
            if (table == nullptr) table = prismer::find_tensor(labels_ref, exp + "_label_table");
            REQUIRE_MESSAGE(table != nullptr, name << ": no reference table for " << exp);
            const torch::Tensor via = table->index_select(0, u8[0].reshape({-1}).to(torch::kLong))
                                          .view({u8.size(1), u8.size(2), table->size(1)}).permute({2, 0, 1});
            count(same_tensor(name + " " + exp + " in-painted", in.value, via));
            const std::string sk = summaries.contains(exp + ".label") ? exp + ".label" : exp;
            if (summaries.contains(sk)) count(same_crc(name + " " + exp, in.value, summaries[sk]));
            if (exp == "obj_detection") {
              count(same_tensor(name + " obj_detection instance", in.instance, need(labels_ref, "obj_detection_instance", "labels.pt")));
              if (summaries.contains("obj_detection.instance"))
                count(same_crc(name + " obj_detection.instance", in.instance, summaries["obj_detection.instance"]));
            }
          }
        }
      }
      // labels_info
      if (c.contains("labels_info")) {
        const json& li = c["labels_info"];
        if (li.contains("obj_detection")) {
          bool ok = sample.info.obj_detection.has_value() && li["obj_detection"].size() == sample.info.obj_detection->size();
          if (ok)
            for (auto it = li["obj_detection"].begin(); it != li["obj_detection"].end(); ++it)
              ok = ok && sample.info.obj_detection->count(it.key()) && sample.info.obj_detection->at(it.key()) == it.value().get<std::int64_t>();
          CHECK_MESSAGE(ok, name << ": labels_info obj_detection");
          count(ok);
        }
        if (li.contains("ocr_detection")) {
          bool ok;
          if (li["ocr_detection"].is_null()) {
            ok = !sample.info.ocr_detection.has_value();
          } else {
            ok = sample.info.ocr_detection.has_value() && sample.info.ocr_detection->size() == li["ocr_detection"].size();
            for (auto it = li["ocr_detection"].begin(); ok && it != li["ocr_detection"].end(); ++it) {
              const auto w = sample.info.ocr_words.find(std::stoll(it.key()));
              ok = w != sample.info.ocr_words.end() && w->second == it.value().get<std::string>();
            }
          }
          CHECK_MESSAGE(ok, name << ": labels_info ocr_detection");
          count(ok);
        }
      }
    }
  }
  std::cout << "transform_eval: " << cases << " cases, " << checks_ok << "/" << checks << " checks exact (tolerance 0)" << std::endl;
  CHECK(cases > 0);
}

TEST_CASE("transform_eval: a zero-byte normal PNG gives zeros (the original raises TypeError there)") {
  const fs::path dir = prismer::test::fixtures_root() / "data" / "transform_eval";
  if (!prismer::test::require_fixture(dir / "data")) return;
  const fs::path tmp = fs::temp_directory_path() / ("prismer_data_zero_normal_" + std::to_string(::getpid()));
  fs::create_directories(tmp / "labels" / "normal" / "vqav2" / "test2015");
  { std::ofstream(tmp / "labels" / "normal" / "vqav2" / "test2015" / "COCO_test2015_000000000019.png"); }
  const pd::ExpertSample s = pd::get_expert_labels((dir / "data").string(), (tmp / "labels").string(),
                                                   "test2015/COCO_test2015_000000000019.jpg", "vqav2", {"normal"});
  fs::remove_all(tmp);
  REQUIRE(s.labels.size() == 1);
  const prismer::Image& n = s.labels[0].second;
  CHECK(n.channels == 3);
  CHECK(n.width == s.image.width);
  CHECK(n.height == s.image.height);
  CHECK(std::all_of(n.pixels.begin(), n.pixels.end(), [](std::uint8_t v) { return v == 0; }));
  CHECK_THROWS_AS(pd::get_expert_labels((dir / "data").string(), (dir / "labels").string(),
                                        "test2015/COCO_test2015_000000000019.jpg", "vqav2", {"bogus"}),
                  std::runtime_error);
}
