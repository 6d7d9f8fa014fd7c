// The edge expert (DexiNed) against the original Python code (shared/fixtures/experts/edge): seeded weights from
// weights.json, then every case folder, its kind told by its contents:
//   network case  (tensors hold `input` and `out.N`): raw outputs, named intermediates and fuse_edge;
//   pipeline case (a `labels/` folder of PNGs): the original generate_edge.py on real photos (decoded pixels from
//                 experts/images), model input, fused logits, fuse and the label files.
// Tolerances (fixture README): floats max|diff| <= 1e-4 * (1 + max|ref|); uint8 maps that truncate a min-max
// normalised float |diff| <= 1 everywhere and exact for > 99.9% of pixels.
#include "edge_model.h"
#include "fixtures.h"
#include "seeded_weights.h"

#include <prismer/data/image_tensor.h>
#include <prismer/weights.h>

#include <doctest/doctest.h>

#include <map>
#include <set>

namespace fs = std::filesystem;
using namespace prismer::test;

namespace {

using Tensors = std::map<std::string, torch::Tensor>;

Tensors read_tensors(const fs::path& case_dir) {
  fs::path file = case_dir / "tensors.safetensors";
  if (!fs::exists(file)) file = case_dir / "tensors.pt";
  Tensors out;
  if (!require_fixture(file)) return out;
  for (auto& [k, v] : prismer::load_weights(file.string())) out[k] = v;
  return out;
}

prismer::edge::DexiNed seeded_dexined() {
  prismer::edge::DexiNed net;
  const fs::path list = fixtures_root() / "experts" / "edge" / "weights.json";
  REQUIRE(require_fixture(list));
  prismer::TensorMap sd;
  for (auto& kv : seeded_weights(list)) sd.push_back(kv);
  prismer::edge::load_state_dict_strict(*net, sd, list.string());
  net->eval();
  return net;
}

/// Float comparison with the README tolerance; returns max|diff|.
double check_float(const std::string& what, const torch::Tensor& got, const torch::Tensor& ref) {
  REQUIRE_MESSAGE(got.sizes() == ref.sizes(), what << ": shape " << got.sizes() << ", reference " << ref.sizes());
  const torch::Tensor g = got.detach().to(torch::kCPU, torch::kFloat64), r = ref.to(torch::kFloat64);
  const double err = (g - r).abs().max().item<double>();
  const double tol = 1e-4 * (1.0 + r.abs().max().item<double>());
  std::cout << "    " << what << ": max|diff| " << err << " (tol " << tol << ")\n";
  CHECK_MESSAGE(err <= tol, what << ": max|diff| " << err << " > " << tol);
  return err;
}

/// uint8 map comparison: |diff| <= 1 everywhere and > 99.9% exact; returns the largest difference.
int check_u8(const std::string& what, const prismer::Image& got, const torch::Tensor& ref) {
  const torch::Tensor g = prismer::data::image_to_u8_chw(got).squeeze(0).to(torch::kInt32);
  const torch::Tensor r = ref.to(torch::kInt32).reshape(g.sizes());
  REQUIRE_MESSAGE(g.numel() == ref.numel(), what << ": " << got.width << "x" << got.height << ", reference " << ref.sizes());
  const torch::Tensor d = (g - r).abs();
  const int worst = d.max().item<int>();
  const auto differing = d.gt(0).sum().item<std::int64_t>();
  const double exact = 1.0 - static_cast<double>(differing) / static_cast<double>(d.numel());
  std::cout << "    " << what << ": max|diff| " << worst << ", " << differing << " of " << d.numel() << " differ\n";
  CHECK_MESSAGE(worst <= 1, what << ": max|diff| " << worst);
  CHECK_MESSAGE(exact > 0.999, what << ": only " << exact * 100 << "% exact");
  return worst;
}

torch::Tensor u8_of(const prismer::Image& image) { return prismer::data::image_to_u8_chw(image).squeeze(0); }

void run_network_case(const std::string& name, prismer::edge::DexiNed& net, const Tensors& t) {
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> taps;
  const std::vector<torch::Tensor> outs = net->forward(t.at("input"), &taps);
  double worst = 0;
  int compared = 0;
  for (const auto& [key, ref] : t) {
    if (key.rfind("out.", 0) == 0) {
      const auto i = static_cast<std::size_t>(std::stoul(key.substr(4)));
      REQUIRE_MESSAGE(i < outs.size(), name << ": reference has " << key << ", the network 7 outputs");
      worst = std::max(worst, check_float(key, outs[i], ref));
      ++compared;
    } else if (key.rfind("feat.", 0) == 0) {
      const std::string tap = key.substr(5);
      REQUIRE_MESSAGE(taps.count(tap) == 1, name << ": no intermediate named " << tap);
      worst = std::max(worst, check_float(key, taps.at(tap), ref));
      ++compared;
    }
  }
  int fuse_worst = 0;
  if (t.count("fuse")) fuse_worst = check_u8("fuse", prismer::edge::fuse_edge(outs.back()[0][0]), t.at("fuse"));
  CHECK(compared >= 7);
  std::cout << "  " << name << ": " << compared << " float tensors, largest error " << worst << "; fuse max|diff| "
            << fuse_worst << "\n";
}

void run_pipeline_case(const std::string& name, const fs::path& dir, prismer::edge::DexiNed& net, const Tensors& t) {
  // The label files the original wrote, by stem (labels/<expert>/<dataset>/<sub>/<stem>.png).
  std::map<std::string, fs::path> pngs;
  for (const auto& e : fs::recursive_directory_iterator(dir / "labels"))
    if (e.is_regular_file() && e.path().extension() == ".png") pngs[e.path().stem().string()] = e.path();
  REQUIRE_MESSAGE(!pngs.empty(), name << ": no label PNGs under labels/");
  const fs::path images_file = fixtures_root() / "experts" / "images" / "images.pt";
  REQUIRE(require_fixture(images_file));
  Tensors photos;
  for (auto& [k, v] : prismer::load_weights(images_file.string())) photos[k] = v;

  std::vector<std::string> stems;
  std::vector<prismer::Image> images;
  std::vector<torch::Tensor> inputs;
  double worst = 0;
  for (const auto& [stem, png] : pngs) {
    REQUIRE_MESSAGE(photos.count(stem + ".decoded") == 1, name << ": no decoded photo " << stem << " in " << images_file);
    stems.push_back(stem);
    images.push_back(prismer::data::image_from_u8_hwc(photos.at(stem + ".decoded")));
    inputs.push_back(prismer::edge::preprocess(images.back()));
    if (t.count(stem + ".input_crop")) {
      using torch::indexing::Slice;
      worst = std::max(worst, check_float(stem + ".input_crop", inputs.back().index({Slice(), Slice(200, 264), Slice(200, 264)}),
                                          t.at(stem + ".input_crop")));
    }
  }
  // One batch, as the original (batch_size 64) ran both photos.
  torch::NoGradGuard no_grad;
  const torch::Tensor fused = net->forward(torch::stack(inputs)).back();
  int worst_u8 = 0;
  for (std::size_t i = 0; i < stems.size(); ++i) {
    const std::string& stem = stems[i];
    const torch::Tensor logits = fused[static_cast<std::int64_t>(i)][0];
    if (t.count(stem + ".out6")) worst = std::max(worst, check_float(stem + ".out6", logits, t.at(stem + ".out6")));
    const prismer::Image fuse = prismer::edge::fuse_edge(logits);
    if (t.count(stem + ".fuse")) {
      worst_u8 = std::max(worst_u8, check_u8(stem + ".fuse", fuse, t.at(stem + ".fuse")));
      // The resize alone is exact: the reference fuse resized here equals the reference label file.
      const prismer::Image ref_fuse = prismer::data::image_from_u8_hwc(t.at(stem + ".fuse"));
      const prismer::Image ref_label = prismer::read_image(pngs.at(stem).string(), 1);
      const prismer::Image resized = prismer::edge::label_from_fuse(ref_fuse, ref_label.width, ref_label.height);
      CHECK_MESSAGE(resized.pixels == ref_label.pixels, stem << ": resizing the reference fuse does not give its PNG");
    }
    const prismer::Image ref_label = prismer::read_image(pngs.at(stem).string(), 1);
    CHECK(ref_label.width == images[i].width);
    CHECK(ref_label.height == images[i].height);
    const prismer::Image label = prismer::edge::label_from_fuse(fuse, images[i].width, images[i].height);
    worst_u8 = std::max(worst_u8, check_u8(stem + ".png", label, u8_of(ref_label)));
  }
  std::cout << "  " << name << ": " << stems.size() << " photos, largest float error " << worst
            << ", largest uint8 difference " << worst_u8 << "\n";
}

}  // namespace

TEST_CASE("edge: DexiNed and the label pipeline match the original on every fixture case") {
  const fs::path root = fixtures_root() / "experts" / "edge";
  if (!require_fixture(root / "weights.json")) return;
  prismer::edge::DexiNed net = seeded_dexined();
  for (const fs::path& dir : case_folders(root)) {
    const std::string name = dir.filename().string();
    announce_case("experts/edge/" + name);
    const Tensors t = read_tensors(dir);
    if (fs::is_directory(dir / "labels")) {
      run_pipeline_case(name, dir, net, t);
    } else if (t.count("input") && t.count("out.6")) {
      run_network_case(name, net, t);
    } else {
      FAIL_CHECK(name << ": unknown case layout (expected tensors with input/out.N, or a labels/ folder)");
    }
  }
}

TEST_CASE("edge: strict loading names every missing, unexpected and mis-shaped key") {
  prismer::edge::DexiNed net;
  prismer::TensorMap sd;
  for (const auto& item : net->named_parameters()) sd.emplace_back(item.key(), item.value().detach().clone());
  for (const auto& item : net->named_buffers()) sd.emplace_back(item.key(), item.value().detach().clone());
  CHECK(sd.size() == 319);  // the official state_dict's size
  CHECK_NOTHROW(prismer::edge::load_state_dict_strict(*net, sd, "good.pth"));

  prismer::TensorMap broken;
  for (const auto& [k, v] : sd) {
    if (k == "block_cat.bn.running_var") continue;  // missing
    if (k == "side_1.conv.weight") broken.emplace_back(k, torch::zeros({1, 2, 3, 4}));
    else broken.emplace_back(k, v);
  }
  broken.emplace_back("module.extra", torch::zeros({1}));
  try {
    prismer::edge::load_state_dict_strict(*net, broken, "bad.pth");
    FAIL("no error for a broken state_dict");
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    CHECK(what.find("bad.pth") != std::string::npos);
    CHECK(what.find("block_cat.bn.running_var") != std::string::npos);
    CHECK(what.find("module.extra") != std::string::npos);
    CHECK(what.find("side_1.conv.weight") != std::string::npos);
  }
}
