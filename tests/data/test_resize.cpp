// Pillow-exact resize against shared/fixtures/data/resize: every case of every `X_meta.json` set
// (meta.json + inputs.pt + expected.pt, or X_meta.json + X_inputs.pt + X_expected.pt).
// Tolerance: 0 (byte equality), as the fixture README requires.
#include <nlohmann/json.hpp>
#include <prismer/weights.h>
#include <torch/torch.h>

#include <cstring>
#include <string>

#include "fixtures.h"
#include "prismer/data/resize.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

prismer::Image to_image(const torch::Tensor& t) {
  REQUIRE((t.scalar_type() == torch::kUInt8));
  REQUIRE((t.dim() == 2 || t.dim() == 3));
  const torch::Tensor c = t.contiguous();
  prismer::Image img(static_cast<int>(c.size(1)), static_cast<int>(c.size(0)), c.dim() == 3 ? static_cast<int>(c.size(2)) : 1);
  std::memcpy(img.pixels.data(), c.data_ptr<std::uint8_t>(), img.pixels.size());
  return img;
}

}  // namespace

TEST_CASE("resize: Pillow 9.4 parity on every fixture case (tolerance 0)") {
  const fs::path dir = prismer::test::fixtures_root() / "data" / "resize";
  if (!prismer::test::require_fixture(dir / "meta.json")) return;
  int total = 0, passed = 0;
  for (const std::string& prefix : prismer::test::case_prefixes(dir)) {
    const json meta = json::parse(prismer::test::read_file(dir / (prefix + "meta.json")));
    const prismer::TensorMap inputs = prismer::load_weights((dir / (prefix + "inputs.pt")).string());
    const prismer::TensorMap expected = prismer::load_weights((dir / (prefix + "expected.pt")).string());
    for (const json& c : meta.at("cases")) {
      const std::string name = prefix + c.at("name").get<std::string>();
      prismer::test::announce_case(name);
      ++total;
      const torch::Tensor* in = prismer::find_tensor(inputs, c.at("input").get<std::string>());
      const torch::Tensor* want = prismer::find_tensor(expected, c.at("name").get<std::string>());
      REQUIRE_MESSAGE(in != nullptr, name << ": input missing");
      REQUIRE_MESSAGE(want != nullptr, name << ": expected output missing");
      const prismer::Image src = to_image(*in);
      const std::string mode = c.at("mode").get<std::string>();
      CHECK_MESSAGE(src.channels == (mode == "RGB" ? 3 : 1), name << ": mode " << mode);
      const auto out_wh = c.at("out_wh");
      const prismer::Image got = prismer::data::resize(src, out_wh[0].get<int>(), out_wh[1].get<int>(),
                                                       prismer::data::parse_resample(c.at("filter").get<std::string>()));
      const prismer::Image ref = to_image(*want);
      bool ok = got.width == ref.width && got.height == ref.height && got.channels == ref.channels;
      int differing = 0, max_diff = 0;
      if (ok) {
        for (std::size_t i = 0; i < ref.pixels.size(); ++i) {
          const int d = std::abs(int(got.pixels[i]) - int(ref.pixels[i]));
          differing += d != 0;
          max_diff = std::max(max_diff, d);
        }
        ok = differing == 0;
      }
      if (ok) ++passed;
      else std::cout << "  MISMATCH " << name << ": " << differing << " bytes differ, max |diff| " << max_diff << "\n";
      CHECK_MESSAGE(ok, name << ": " << differing << " bytes differ (max |diff| " << max_diff << ")");
    }
  }
  std::cout << "resize: " << passed << "/" << total << " cases byte-exact (tolerance 0)" << std::endl;
  CHECK(total > 0);
}

TEST_CASE("resize: argument checks") {
  prismer::Image img(4, 3, 3, 7);
  CHECK_THROWS_AS(prismer::data::resize(img, 0, 3, prismer::data::Resample::bicubic), std::invalid_argument);
  CHECK_THROWS_AS(prismer::data::parse_resample("lanczos"), std::invalid_argument);
  const prismer::Image same = prismer::data::resize(img, 4, 3, prismer::data::Resample::bilinear);
  CHECK(same.pixels == img.pixels);
}
