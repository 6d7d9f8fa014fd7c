// The seeded expert weights regenerate bit for bit: every weights.json under experts/ (and nested, e.g. ocr's clip/)
// against its weights_sample.pt (first and last three tensors as Python generated them).
#include "fixtures.h"
#include "seeded_weights.h"

#include <prismer/weights.h>

#include <map>

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using namespace prismer::test;

namespace {

std::vector<fs::path> weight_lists(const fs::path& root) {
  std::vector<fs::path> out;
  if (!require_fixture(root)) return out;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.path().filename() == "weights.json") out.push_back(entry.path().parent_path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("seeded expert weights equal the Python-generated samples bit for bit") {
  const fs::path root = fixtures_root() / "experts";
  const auto lists = weight_lists(root);
  if (running_in_ci()) CHECK_FALSE(lists.empty());
  for (const fs::path& dir : lists) {
    const std::string name = fs::relative(dir, root).string();
    announce_case("experts/" + name);
    const nlohmann::json doc = read_weights_json(dir / "weights.json");
    if (!require_fixture(dir / "weights_sample.pt")) continue;
    const prismer::TensorMap sample = prismer::load_weights((dir / "weights_sample.pt").string());
    REQUIRE(sample.size() > 0);
    // Index the json entries by key (sample keys may carry a "[:N]" suffix for truncated big tensors).
    std::map<std::string, const nlohmann::json*> by_key;
    for (const auto& entry : doc.at("tensors")) by_key[entry.at("key").get<std::string>()] = &entry;
    for (const auto& [key, expected] : sample) {
      std::string base = key;
      int64_t limit = -1;
      if (const auto pos = key.find("[:"); pos != std::string::npos) {
        base = key.substr(0, pos);
        limit = std::stoll(key.substr(pos + 2));
      }
      INFO(name << ": " << key);
      REQUIRE(by_key.count(base) == 1);
      torch::Tensor got = seeded_tensor(*by_key[base]);
      if (limit >= 0) got = got.flatten().slice(0, 0, limit);
      CHECK(std::string(c10::toString(got.scalar_type())) == c10::toString(expected.scalar_type()));
      CHECK(got.sizes().vec() == expected.sizes().vec());
      CHECK(torch::equal(got, expected));
    }
    std::cout << "  " << sample.size() << " sample tensors identical (of " << doc.at("tensors").size() << ")\n";
  }
}
