// Weight-file readers and writers against the Python-written fixtures (../shared/fixtures/pickles and
// prismer/*/state_dict.pt). Tolerance: exact — every tensor must be bit-identical to the expected one.
#include <prismer/weights.h>

#include "fixtures.h"

#include <doctest/doctest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

namespace fs = std::filesystem;
using namespace prismer;
using prismer::test::announce_case;
using prismer::test::fixtures_root;
using prismer::test::require_fixture;

namespace {

std::map<std::string, torch::Tensor> as_map(const TensorMap& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

// Every expected tensor present with the same dtype, shape and bits; no extra tensors.
void check_same_tensors(const TensorMap& got_list, const TensorMap& expected_list, const std::string& what) {
  const auto got = as_map(got_list);
  const auto expected = as_map(expected_list);
  CHECK_MESSAGE(got.size() == expected.size(), what << ": " << got.size() << " tensors, expected " << expected.size());
  for (const auto& [name, e] : expected) {
    auto it = got.find(name);
    if (it == got.end()) {
      FAIL_CHECK(what << ": missing tensor " << name);
      continue;
    }
    torch::Tensor g = it->second;
    if (g.dim() == 0 && e.dim() == 1 && e.numel() == 1) {
      // expected_numpy.pt stores the pickle's 0-d numpy arrays (shape () in the file) as [1]; we keep the
      // file's shape, like detectron2's torch.as_tensor, and compare the value.
      MESSAGE(what << ": " << name << " is 0-d in the file, [1] in the expected tensors: values compared");
      g = g.reshape({1});
    }
    CHECK_MESSAGE((g.scalar_type() == e.scalar_type()), what << ": " << name << " dtype " << g.scalar_type() << " vs " << e.scalar_type());
    CHECK_MESSAGE((g.sizes() == e.sizes()), what << ": " << name << " shape " << g.sizes() << " vs " << e.sizes());
    if (g.scalar_type() == e.scalar_type() && g.sizes() == e.sizes())
      CHECK_MESSAGE(torch::equal(g, e), what << ": " << name << " values differ");
  }
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const WeightFileError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("pickle fixtures load as the expected tensors; truncated files are refused") {
  const fs::path dir = fixtures_root() / "pickles";
  if (!require_fixture(dir)) return;
  int cases = 0;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    const std::string name = file.filename().string();
    const std::string ext = file.extension().string();
    if (name.find("expected") != std::string::npos || (ext != ".pt" && ext != ".pth" && ext != ".pkl")) continue;
    announce_case("pickles/" + name);
    ++cases;
    if (name.rfind("truncated", 0) == 0) {
      const std::string msg = error_of([&] { load_weights(file.string()); });
      CHECK_MESSAGE(msg.find(file.string()) == 0, name << " was not refused with its name: '" << msg << "'");
      continue;
    }
    if (name.rfind("sklearn", 0) == 0) {
      const fs::path expected_file = dir / (file.stem().string() + "_expected.pt");
      if (!require_fixture(expected_file)) continue;
      const auto expected = as_map(load_weights(expected_file.string()));
      const PcaParams pca = load_sklearn_pca(file.string());
      CHECK(torch::equal(pca.mean, expected.at("mean_")));
      CHECK(torch::equal(pca.components, expected.at("components_")));
      const torch::Tensor got = pca.transform(expected.at("input"));
      const double err = (got - expected.at("transform")).abs().max().item<double>();
      MESSAGE(name << ": PCA transform largest error " << err << " (tolerance 1e-12, float64)");
      CHECK(err < 1e-12);
      continue;
    }
    const fs::path expected_file = dir / (ext == ".pkl" ? "expected_numpy.pt" : "expected.pt");
    if (!require_fixture(expected_file)) continue;
    LoadWeightsOptions options;
    options.strip_prefix = "module.";
    check_same_tensors(load_weights(file.string(), options), load_weights(expected_file.string()), name);
  }
  CHECK(cases >= 7);
}

TEST_CASE("the legacy container keeps views: shared storage, offsets and strides") {
  const fs::path file = fixtures_root() / "pickles" / "legacy_state_dict.pth";
  if (!require_fixture(file)) return;
  const TensorMap tensors = load_weights(file.string());
  std::map<const void*, int> storages;
  bool non_contiguous = false;
  for (const auto& [name, t] : tensors) {
    ++storages[t.storage().unsafeGetStorageImpl()];
    non_contiguous = non_contiguous || !t.is_contiguous();
  }
  CHECK(storages.size() < tensors.size());  // two views share one storage
  CHECK(non_contiguous);                    // the transposed view stays a view
}

TEST_CASE("Prismer state_dict.pt (OrderedDict) equals its safetensors twin, tied weights shared") {
  for (const fs::path& dir : prismer::test::case_folders(fixtures_root() / "prismer")) {
    const fs::path pt = dir / "state_dict.pt";
    const fs::path st = dir / "state_dict.safetensors";
    if (!fs::exists(pt) && !fs::exists(st)) continue;  // case folders without a model (pos_embed_interp)
    announce_case("prismer/" + dir.filename().string() + "/state_dict.pt");
    if (!require_fixture(pt) || !require_fixture(st)) continue;
    const TensorMap from_pt = load_weights(pt.string());
    check_same_tensors(from_pt, load_safetensors(st.string()), dir.filename().string());
    const torch::Tensor* word = find_tensor(from_pt, "text_decoder.roberta.embeddings.word_embeddings.weight");
    const torch::Tensor* head = find_tensor(from_pt, "text_decoder.lm_head.decoder.weight");
    if (word != nullptr && head != nullptr) CHECK((word->data_ptr() == head->data_ptr()));
  }
}

TEST_CASE("torch.save and safetensors writers round-trip, keeping shared storage") {
  torch::manual_seed(3);
  const torch::Tensor base = torch::randn({4, 6});
  TensorMap tensors = {{"a.weight", base},
                       {"a.tied", base},
                       {"a.transposed", base.t()},
                       {"b.half", torch::randn({3}).to(torch::kHalf)},
                       {"b.bf16", torch::randn({2, 2}).to(torch::kBFloat16)},
                       {"c.long", torch::arange(5)},
                       {"c.bool", torch::tensor({true, false})},
                       {"c.scalar", torch::tensor(3.5)},
                       {"c.big", torch::tensor(std::int64_t{1} << 40)},
                       {"c.empty", torch::empty({0, 3})}};
  const fs::path dir = fs::temp_directory_path() / "prismer-test-weights";
  fs::create_directories(dir);

  const std::string pt = (dir / "roundtrip.pt").string();
  save_torch(tensors, pt);
  CHECK((detect_weight_format(pt) == WeightFormat::torch_zip));
  const TensorMap back = load_weights(pt);
  check_same_tensors(back, tensors, "torch zip round trip");
  CHECK(back[0].first == "a.weight");  // order kept
  CHECK((find_tensor(back, "a.weight")->data_ptr() == find_tensor(back, "a.tied")->data_ptr()));
  CHECK(!find_tensor(back, "a.transposed")->is_contiguous());
  CHECK(!fs::exists(pt + ".tmp"));

  const std::string st = (dir / "roundtrip.safetensors").string();
  save_safetensors(tensors, st, {{"format", "pt"}});
  CHECK((detect_weight_format(st) == WeightFormat::safetensors));
  check_same_tensors(load_safetensors(st), tensors, "safetensors round trip");
}

TEST_CASE("foreign, empty and missing files get errors naming the file") {
  const fs::path dir = fs::temp_directory_path() / "prismer-test-weights";
  fs::create_directories(dir);
  const std::string text = (dir / "notes.txt").string();
  std::ofstream(text) << "hello, this is not a checkpoint\n";
  CHECK(error_of([&] { load_weights(text); }) == text + ": is not a weight file (neither a torch zip archive, a pickle nor safetensors)");
  const std::string empty = (dir / "empty.bin").string();
  std::ofstream(empty).close();
  CHECK(error_of([&] { load_weights(empty); }) == empty + ": is empty");
  CHECK(error_of([&] { load_weights((dir / "absent.pt").string()); }).find("no such file") != std::string::npos);
  // A pickle with an opcode no pickle has.
  const std::string bad = (dir / "bad.pkl").string();
  std::ofstream(bad, std::ios::binary) << std::string("\x80\x02\xff", 3);
  CHECK(error_of([&] { load_weights(bad); }).find("unknown opcode 0xff") != std::string::npos);
  // A truncated safetensors header.
  const std::string st = (dir / "cut.safetensors").string();
  std::ofstream(st, std::ios::binary) << std::string("\x40\x00\x00\x00\x00\x00\x00\x00{\"a\":", 13);
  CHECK(error_of([&] { load_weights(st); }).find("past the end") != std::string::npos);
}
