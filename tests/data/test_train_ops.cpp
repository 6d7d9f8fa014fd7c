// The train-time Transform pieces against shared/fixtures/data/train_ops, every case of every `X_meta.json` set:
// A crop + resize + flip, B every RandAugment op, D the recorded full Transform runs replayed from their draws
// (tolerance 0: byte equality); C RandomResizedCrop.get_params statistics (C++ draws, 20000 per configuration:
// every mean within 4 * sqrt(se_ref^2 + se_cpp^2) of the reference).
#include <nlohmann/json.hpp>
#include <prismer/weights.h>
#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <tuple>

#include "fixtures.h"
#include "prismer/data/image_tensor.h"
#include "prismer/data/pil_ops.h"
#include "prismer/data/randaugment.h"
#include "prismer/data/random_resized_crop.h"
#include "prismer/data/resize.h"
#include "prismer/data/train_transform.h"

namespace {

namespace fs = std::filesystem;
namespace pd = prismer::data;
using nlohmann::json;

fs::path ops_dir() { return prismer::test::fixtures_root() / "data" / "train_ops"; }

struct Pair {
  prismer::Image image;
  pd::LabelMaps labels;
};

/// The uint8 bytes of an image compared with a reference HWC / HW tensor (or CHW when `chw`).
bool same_bytes(const std::string& what, const prismer::Image& got, const torch::Tensor& want, bool chw = false) {
  torch::Tensor g = pd::image_to_u8_chw(got);
  torch::Tensor w = want.contiguous();
  if (!chw) w = w.dim() == 2 ? w.unsqueeze(0) : w.permute({2, 0, 1}).contiguous();
  bool ok = g.sizes() == w.sizes() && w.scalar_type() == torch::kUInt8;
  std::int64_t differing = -1;
  if (ok) {
    differing = (g != w).sum().item<std::int64_t>();
    ok = differing == 0;
  }
  if (!ok) std::cout << "  MISMATCH " << what << ": " << (differing < 0 ? std::string("shape") : std::to_string(differing) + " bytes differ") << std::endl;
  CHECK_MESSAGE(ok, what);
  return ok;
}

const torch::Tensor& need(const prismer::TensorMap& m, const std::string& key) {
  const torch::Tensor* t = prismer::find_tensor(m, key);
  REQUIRE_MESSAGE(t != nullptr, "missing tensor '" << key << "'");
  return *t;
}

Pair load_inputs(const json& meta) {
  Pair p;
  const json& in = meta.at("inputs");
  p.image = prismer::read_image((ops_dir() / in.at("image").get<std::string>()).string(), 3);
  for (auto it = in.at("labels").begin(); it != in.at("labels").end(); ++it)
    p.labels.emplace_back(it.key(), prismer::read_image((ops_dir() / it.value().get<std::string>()).string(), it.key() == "normal" ? 3 : 1));
  return p;
}

Pair crop_resize_flip(const Pair& in, int i, int j, int h, int w, int R, bool flip) {
  Pair p;
  p.image = pd::resize(pd::crop(in.image, i, j, h, w), R, R, pd::Resample::bicubic);
  for (const auto& [name, map] : in.labels) p.labels.emplace_back(name, pd::resize(pd::crop(map, i, j, h, w), 224, 224, pd::Resample::nearest));
  if (flip) {
    p.image = pd::hflip(p.image);
    for (auto& l : p.labels) l.second = pd::hflip(l.second);
  }
  return p;
}

}  // namespace

TEST_CASE("train_ops: crop/resize/flip, RandAugment ops and replays are byte-exact (tolerance 0)") {
  if (!prismer::test::require_fixture(ops_dir() / "meta.json")) return;
  int cases = 0, ok = 0, checks = 0;
  auto count = [&](bool b) { ++checks, ok += b; };
  for (const std::string& prefix : prismer::test::case_prefixes(ops_dir())) {
    const json meta = json::parse(prismer::test::read_file(ops_dir() / (prefix + "meta.json")));
    const Pair input = load_inputs(meta);
    // The decoded inputs themselves.
    if (meta["inputs"].contains("decoded_crc32")) {
      const json& crc = meta["inputs"]["decoded_crc32"];
      auto crc_of = [](const prismer::Image& im) {
        std::uint32_t c = 0xFFFFFFFFu;
        for (std::uint8_t b : im.pixels) {
          c ^= b;
          for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        return c ^ 0xFFFFFFFFu;
      };
      if (crc.contains("rgb")) count(crc_of(input.image) == crc["rgb"].get<std::uint32_t>());
      for (const auto& [name, map] : input.labels)
        if (crc.contains(name)) count(crc_of(map) == crc[name].get<std::uint32_t>());
      CHECK_MESSAGE(ok == checks, "decoded inputs differ from the reference crc32");
    }
    // A. crop + resize + flip
    if (meta.contains("crop_resize_flip")) {
      const auto ref = prismer::load_weights((ops_dir() / (prefix + "crop_resize_flip.pt")).string());
      for (const json& c : meta["crop_resize_flip"]) {
        const std::string name = c.at("name").get<std::string>();
        prismer::test::announce_case(prefix + "crop_resize_flip/" + name);
        ++cases;
        const Pair p = crop_resize_flip(input, c.at("i"), c.at("j"), c.at("h"), c.at("w"), c.at("image_resolution"), c.at("hflip"));
        count(same_bytes(name + "/image", p.image, need(ref, name + "/image")));
        for (const auto& [exp, map] : p.labels)
          if (const torch::Tensor* t = prismer::find_tensor(ref, name + "/" + exp)) count(same_bytes(name + "/" + exp, map, *t));
      }
    }
    // B. each op alone
    if (meta.contains("ops")) {
      const auto base = prismer::load_weights((ops_dir() / (prefix + "base_pairs.pt")).string());
      const auto ref = prismer::load_weights((ops_dir() / (prefix + "ops.pt")).string());
      for (const json& c : meta["ops"]) {
        const std::string name = c.at("case").get<std::string>();
        prismer::test::announce_case(prefix + "ops/" + name);
        ++cases;
        Pair p;
        p.image = pd::image_from_u8_hwc(need(base, c.at("image_input").get<std::string>()));
        for (const auto& [key, t] : base)
          if (key.rfind("label_", 0) == 0) p.labels.emplace_back(key.substr(6), pd::image_from_u8_hwc(t));
        const pd::AugmentOp& op = pd::find_augment_op(c.at("op").get<std::string>());
        const double expected_val = pd::augment_value(op, c.at("magnitude").get<int>());
        CHECK_MESSAGE(expected_val == c.at("val").get<double>(), name << ": op value");
        const double v = c.contains("v_after_sign") && !c["v_after_sign"].is_null() ? c["v_after_sign"].get<double>() : c.at("val").get<double>();
        pd::apply_augment(op, v, p.image, p.labels);
        count(same_bytes(name + "/image", p.image, need(ref, name + "/image")));
        for (const auto& [exp, map] : p.labels)
          if (const torch::Tensor* t = prismer::find_tensor(ref, name + "/" + exp)) count(same_bytes(name + "/" + exp, map, *t));
      }
    }
    // D. recorded full Transform runs
    if (meta.contains("replays")) {
      const auto ref = prismer::load_weights((ops_dir() / (prefix + "replays.pt")).string());
      for (const json& r : meta["replays"]) {
        const std::string name = r.at("name").get<std::string>();
        prismer::test::announce_case(prefix + "replays/" + name);
        ++cases;
        const auto box = r.at("crop_ijhw");
        pd::TrainDraws draws;
        draws.crop.i = box[0], draws.crop.j = box[1], draws.crop.h = box[2], draws.crop.w = box[3];
        draws.hflip = r.at("hflip").get<bool>();
        CHECK_MESSAGE(draws.hflip == (r.at("flip_draw").get<double>() > 0.5), name << ": flip rule");
        for (const json& o : r.at("randaugment_ops")) {
          const double val = o.at("val").get<double>();
          draws.ops.emplace_back(&pd::find_augment_op(o.at("op").get<std::string>()), o.value("negated", false) ? -val : val);
        }
        Pair p;
        std::tie(p.image, p.labels) = pd::apply_train_draws(input.image, input.labels, r.at("image_resolution"), draws);
        count(same_bytes(name + "/rgb_u8", p.image, need(ref, name + "/rgb_u8"), true));
        for (const auto& [exp, map] : p.labels)
          if (const torch::Tensor* t = prismer::find_tensor(ref, name + "/" + exp + "_u8")) count(same_bytes(name + "/" + exp + "_u8", map, *t, true));
      }
    }
  }
  std::cout << "train_ops: " << cases << " cases, " << ok << "/" << checks << " checks byte-exact (tolerance 0)" << std::endl;
  CHECK(cases > 0);
}

TEST_CASE("train_ops: RandomResizedCrop.get_params distribution (means within 4 combined standard errors)") {
  for (const std::string& prefix : prismer::test::case_prefixes(ops_dir(), "get_params_stats.json")) {
    const json doc = json::parse(prismer::test::read_file(ops_dir() / (prefix + "get_params_stats.json")));
    const std::array<double, 2> ratio = doc.contains("ratio") ? std::array<double, 2>{doc["ratio"][0], doc["ratio"][1]}
                                                              : std::array<double, 2>{3.0 / 4, 4.0 / 3};
    const int n = std::max(20000, doc.value("n", 20000));
    std::mt19937_64 rng(12345);
    for (const json& c : doc.at("configs")) {
      const int W = c.at("image_wh")[0], H = c.at("image_wh")[1];
      const std::array<double, 2> scale = {c.at("scale")[0], c.at("scale")[1]};
      const std::string name = prefix + std::to_string(W) + "x" + std::to_string(H) + " scale [" + c["scale"][0].dump() + ", " + c["scale"][1].dump() + "]";
      prismer::test::announce_case(name);
      std::map<std::string, std::vector<double>> samples;
      for (int k = 0; k < n; ++k) {
        const pd::CropBox b = pd::random_resized_crop_params(H, W, scale, ratio, rng);
        REQUIRE((b.h > 0 && b.w > 0 && b.i >= 0 && b.j >= 0 && b.i + b.h <= H && b.j + b.w <= W));
        samples["h"].push_back(b.h);
        samples["w"].push_back(b.w);
        samples["area_frac"].push_back(double(b.h) * b.w / (double(H) * W));
        samples["log_aspect_w_over_h"].push_back(std::log(double(b.w) / b.h));
        samples["fallback"].push_back(b.attempts == 0);
        samples["first_try_accept"].push_back(b.attempts == 1);
        if (H > b.h) samples["i_rel"].push_back(double(b.i) / (H - b.h));
        if (W > b.w) samples["j_rel"].push_back(double(b.j) / (W - b.w));
      }
      for (auto it = c.at("stats").begin(); it != c.at("stats").end(); ++it) {
        if (!it.value().is_object() || !it.value().contains("mean")) continue;  // histograms
        REQUIRE_MESSAGE(samples.count(it.key()), name << ": no C++ statistic for '" << it.key() << "'");
        const std::vector<double>& s = samples[it.key()];
        double mean = 0, sq = 0;
        for (double v : s) mean += v;
        mean /= s.size();
        for (double v : s) sq += (v - mean) * (v - mean);
        const double se = std::sqrt(sq / (s.size() - 1) / s.size());
        const double se_ref = it.value().at("stderr_of_mean").get<double>();
        const double ref = it.value().at("mean").get<double>();
        const double bound = 4 * std::sqrt(se * se + se_ref * se_ref);
        const bool good = std::fabs(mean - ref) <= bound;
        std::cout << "    " << it.key() << ": mean " << mean << " vs " << ref << " (|diff| " << std::fabs(mean - ref)
                  << " <= " << bound << ")" << (good ? "" : "  MISMATCH") << std::endl;
        CHECK_MESSAGE(good, name << " " << it.key());
      }
    }
  }
}

TEST_CASE("train_ops: draw_train_params (op choice uniform with replacement, flip and sign P = 1/2)") {
  std::mt19937_64 rng(7);
  pd::TrainTransformOptions o;
  o.resolution = 224;
  const int n = 40000;
  std::map<std::string, int> picks;
  int flips = 0, geometric = 0, negated = 0;
  for (int k = 0; k < n; ++k) {
    const pd::TrainDraws d = pd::draw_train_params(480, 640, o, rng);
    REQUIRE(d.ops.size() == 2);
    flips += d.hflip;
    for (const auto& [op, v] : d.ops) {
      ++picks[op->name];
      CHECK(std::fabs(v) == pd::augment_value(*op, 5));
      if (op->geometric) ++geometric, negated += v < 0;
    }
  }
  // binomial: within 5 standard deviations
  auto near = [](double count, double trials, double p) { return std::fabs(count - trials * p) <= 5 * std::sqrt(trials * p * (1 - p)); };
  CHECK(near(flips, n, 0.5));
  CHECK(near(negated, geometric, 0.5));
  CHECK(picks.size() == pd::augment_list().size());
  for (const auto& [name, count] : picks) {
    std::cout << "    " << name << ": " << count << " of " << 2 * n << std::endl;
    CHECK_MESSAGE(near(count, 2.0 * n, 0.1), name);
  }
  // A drawn call applies (shapes only; the pixel semantics are covered by the fixture cases above).
  prismer::Image img(480, 640, 3, 100);
  pd::LabelMaps labels = {{"depth", prismer::Image(480, 640, 1, 7)}, {"seg_coco", prismer::Image(480, 640, 1, 3)}};
  const auto out = pd::apply_train_draws(img, labels, 224, pd::draw_train_params(480, 640, o, rng));
  CHECK(out.first.width == 224);
  CHECK(out.second.at(1).second.width == pd::kLabelSize);
}

TEST_CASE("train_ops: rotate shortcuts at multiples of 90 degrees (Pillow transposes)") {
  prismer::Image im(2, 2, 1);
  im.pixels = {1, 2, 3, 4};  // [[1, 2], [3, 4]]
  const std::array<std::uint8_t, 4> fill = {0, 0, 0, 0};
  CHECK(pd::rotate(im, 90, pd::AffineResample::nearest, fill).pixels == std::vector<std::uint8_t>{2, 4, 1, 3});
  CHECK(pd::rotate(im, -90, pd::AffineResample::nearest, fill).pixels == std::vector<std::uint8_t>{3, 1, 4, 2});
  CHECK(pd::rotate(im, 180, pd::AffineResample::nearest, fill).pixels == std::vector<std::uint8_t>{4, 3, 2, 1});
  CHECK(pd::rotate(im, 360, pd::AffineResample::nearest, fill).pixels == im.pixels);
}
