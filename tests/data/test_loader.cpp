// The threaded loader: DistributedSampler sharding and padding, drop_last, a fixed order (and fixed train-time
// draws) for a seed whatever the thread count, and bad samples reported by file and skipped.
#include <prismer/dataset.h>
#include <prismer/image.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

#include "fixtures.h"
#include "prismer/data/distributed_sampler.h"
#include "prismer/data/loader.h"

namespace {

namespace fs = std::filesystem;
namespace pd = prismer::data;

/// A folder of n small synthetic JPEGs with a depth label each; `corrupt` names samples whose JPEG is cut short.
class TinySet final : public prismer::Dataset {
 public:
  TinySet(const fs::path& dir, std::size_t n, const std::set<std::size_t>& corrupt = {}) : dir_(dir), n_(n) {
    for (std::size_t i = 0; i < n; ++i) {
      prismer::Image img(24 + static_cast<int>(i % 5), 20, 3);
      for (std::size_t k = 0; k < img.pixels.size(); ++k) img.pixels[k] = static_cast<std::uint8_t>(k * 7 + i * 31);
      const fs::path jpg = dir / "images" / (name(i) + ".jpg");
      prismer::write_image(jpg.string(), img);
      prismer::Image depth(img.width, img.height, 1);
      for (std::size_t k = 0; k < depth.pixels.size(); ++k) depth.pixels[k] = static_cast<std::uint8_t>(k + i);
      prismer::write_png((dir / "labels" / "depth" / "tiny" / (name(i) + ".png")).string(), depth);
      if (corrupt.count(i)) fs::resize_file(jpg, fs::file_size(jpg) / 3);
    }
  }
  std::size_t size() const override { return n_; }
  prismer::Sample sample(std::size_t i) const override {
    prismer::Sample s;
    s.id = name(i);
    s.image_path = (dir_ / "images" / (name(i) + ".jpg")).string();
    s.label_name = name(i);
    return s;
  }
  std::string label_subdir() const override { return "tiny"; }

 private:
  static std::string name(std::size_t i) { return "img" + std::to_string(100 + i); }
  fs::path dir_;
  std::size_t n_;
};

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("prismer_loader_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

pd::LoaderOptions options(const fs::path& dir, int threads) {
  pd::LoaderOptions o;
  o.item.experts = {"depth"};
  o.item.label_root = (dir / "labels").string();
  o.item.resolution = 32;
  o.batch_size = 3;
  o.threads = threads;
  o.shuffle = true;
  o.seed = 11;
  return o;
}

/// Every batch of one epoch: sample ids, and the rgb / depth tensors.
struct Epoch {
  std::vector<std::string> ids;
  std::vector<torch::Tensor> rgb, depth;
};

Epoch run_epoch(pd::Loader& loader, std::int64_t epoch) {
  Epoch e;
  loader.start_epoch(epoch);
  while (auto b = loader.next()) {
    for (const auto& s : b->samples) e.ids.push_back(s.id);
    e.rgb.push_back(b->inputs.rgb);
    e.depth.push_back(b->inputs.experts.at("depth"));
  }
  return e;
}

}  // namespace

TEST_CASE("shard_indices: DistributedSampler padding and striding cover every index") {
  for (const bool shuffle : {false, true})
    for (const std::size_t n : {1u, 7u, 10u, 12u})
      for (const int world : {1, 2, 3, 4}) {
        std::multiset<std::size_t> all;
        std::size_t per_rank = 0;
        for (int r = 0; r < world; ++r) {
          const auto mine = pd::shard_indices(n, shuffle, 5, 2, r, world);
          if (r == 0) per_rank = mine.size();
          CHECK(mine.size() == per_rank);
          all.insert(mine.begin(), mine.end());
        }
        CHECK(per_rank == (n + world - 1) / world);
        for (std::size_t i = 0; i < n; ++i) CHECK(all.count(i) >= 1);
        CHECK(all.size() == per_rank * static_cast<std::size_t>(world));
      }
  // Unshuffled: 0..9 padded with 0, 1 to 12 for world 4; rank 1 takes 1, 5, 9.
  CHECK(pd::shard_indices(10, false, 0, 0, 1, 4) == std::vector<std::size_t>{1, 5, 9});
  CHECK(pd::shard_indices(10, false, 0, 0, 2, 4) == std::vector<std::size_t>{2, 6, 0});
  CHECK(pd::shard_indices(10, true, 3, 0, 0, 1) != pd::shard_indices(10, true, 3, 1, 0, 1));  // set_epoch reshuffles
  CHECK(pd::shard_indices(10, true, 3, 4, 0, 1) == pd::shard_indices(10, true, 3, 4, 0, 1));
  CHECK_THROWS_AS(pd::shard_indices(10, false, 0, 0, 4, 4), std::invalid_argument);
}

TEST_CASE("make_batches: drop_last drops only the short last batch") {
  std::vector<std::size_t> idx(10);
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  CHECK(pd::make_batches(idx, 4, true).size() == 2);
  const auto kept = pd::make_batches(idx, 4, false);
  REQUIRE(kept.size() == 3);
  CHECK(kept[2] == std::vector<std::size_t>{8, 9});
  CHECK(pd::make_batches(idx, 5, true).size() == 2);
}

TEST_CASE("loader: the same batches for a seed with 0, 1 or 2 threads, train draws included") {
  TempDir tmp;
  TinySet ds(tmp.path, 8);
  std::vector<Epoch> runs;
  for (const int threads : {0, 1, 2}) {
    pd::LoaderOptions o = options(tmp.path, threads);
    o.item.train = true;
    pd::Loader loader(ds, o);
    CHECK(loader.batches_per_epoch() == 3);
    runs.push_back(run_epoch(loader, 1));
    const auto p = loader.progress();
    CHECK(p.samples_done == 8);
    CHECK(p.batches_done == 3);
    CHECK(p.skipped == 0);
  }
  for (std::size_t r = 1; r < runs.size(); ++r) {
    CHECK(runs[r].ids == runs[0].ids);
    REQUIRE(runs[r].rgb.size() == runs[0].rgb.size());
    for (std::size_t b = 0; b < runs[0].rgb.size(); ++b) {
      CHECK(torch::equal(runs[r].rgb[b], runs[0].rgb[b]));
      CHECK(torch::equal(runs[r].depth[b], runs[0].depth[b]));
    }
  }
  std::vector<std::string> sorted = runs[0].ids;
  std::sort(sorted.begin(), sorted.end());
  CHECK(std::unique(sorted.begin(), sorted.end()) == sorted.end());
  CHECK(sorted.size() == 8);
  CHECK(runs[0].rgb[0].sizes() == torch::IntArrayRef({3, 3, 32, 32}));
  CHECK(runs[0].depth[0].sizes() == torch::IntArrayRef({3, 1, 224, 224}));
  // another epoch reshuffles; another seed too
  pd::Loader again(ds, options(tmp.path, 2));
  const Epoch e1 = run_epoch(again, 1), e2 = run_epoch(again, 2);
  CHECK(e1.ids == runs[0].ids);
  CHECK(e2.ids != e1.ids);
}

TEST_CASE("loader: ranks split an epoch; drop_last and the progress count") {
  TempDir tmp;
  TinySet ds(tmp.path, 7);
  std::multiset<std::string> seen;
  for (int rank = 0; rank < 2; ++rank) {
    pd::LoaderOptions o = options(tmp.path, 1);
    o.rank = rank;
    o.world_size = 2;
    pd::Loader loader(ds, o);
    const Epoch e = run_epoch(loader, 0);
    CHECK(e.ids.size() == 4);  // 7 padded to 8, 4 per rank, batches of 3 + 1
    CHECK(loader.progress().batches_total == 2);
    seen.insert(e.ids.begin(), e.ids.end());
    o.drop_last = true;
    pd::Loader dropping(ds, o);
    CHECK(dropping.batches_per_epoch() == 1);
    CHECK(run_epoch(dropping, 0).ids.size() == 3);
  }
  std::set<std::string> distinct(seen.begin(), seen.end());
  CHECK(distinct.size() == 7);
  CHECK(seen.size() == 8);
}

TEST_CASE("loader: a corrupt JPEG and a missing label are reported by file, counted and skipped") {
  TempDir tmp;
  TinySet ds(tmp.path, 6, {2});
  fs::remove(tmp.path / "labels" / "depth" / "tiny" / "img104.png");
  pd::LoaderOptions o = options(tmp.path, 2);
  o.shuffle = false;
  pd::Loader loader(ds, o);
  const Epoch e = run_epoch(loader, 0);
  CHECK(e.ids == std::vector<std::string>{"img100", "img101", "img103", "img105"});
  CHECK(e.rgb[0].size(0) == 2);  // the batch that lost a sample is shorter
  const auto skipped = loader.skipped();
  REQUIRE(skipped.size() == 2);
  CHECK(loader.progress().skipped == 2);
  std::set<std::size_t> which{skipped[0].index, skipped[1].index};
  CHECK(which == std::set<std::size_t>{2, 4});
  for (const auto& s : skipped) {
    std::cout << "  skipped sample " << s.index << ": " << s.reason << std::endl;
    CHECK(s.reason.find(s.index == 2 ? "img102.jpg" : "img104.png") != std::string::npos);
  }
}
