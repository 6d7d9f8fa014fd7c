// Loader throughput: samples/s at 480 px with all six experts' labels, eval and train transforms, 1 and 2 worker
// threads (median of 3 epochs). Synthetic 640x480 JPEGs and labels are written to a temporary folder (OCR words are
// absent, as for most images); the CLIP feature files come from the fixtures unless --features says otherwise.
// Target: at least 2x the ~0.7 samples/s a BASE training step consumes on this machine.
//
// usage: bench_loader [--samples N] [--batch B] [--features DIR] [--quick]
#include "timing.h"
#include <prismer/core/cpu_allocator.h>
#include <prismer/core/openmp_policy.h>

#include <prismer/data/loader.h>
#include <prismer/image.h>

#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

/// CPU seconds (user + system) this process has used: the cost per sample regardless of other load on the machine.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

const std::vector<std::string> kExperts = {"depth", "normal", "seg_coco", "edge", "obj_detection", "ocr_detection"};

/// `n` synthetic photos with every expert's label file.
class SyntheticSet final : public prismer::Dataset {
 public:
  SyntheticSet(const fs::path& dir, std::size_t n) : dir_(dir), n_(n) {
    const int w = 640, h = 480;
    for (std::size_t i = 0; i < n; ++i) {
      prismer::Image img(w, h, 3), grey(w, h, 1), normal(w, h, 3), seg(w, h, 1), det(w, h, 1, 255);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const auto v = static_cast<std::uint8_t>((x * 3 + y * 5 + static_cast<int>(i) * 17 + (x * y) % 23) & 255);
          for (int c = 0; c < 3; ++c) img.at(y, x, c) = static_cast<std::uint8_t>(v + 60 * c), normal.at(y, x, c) = static_cast<std::uint8_t>(v ^ (40 * c));
          grey.at(y, x) = v;
          seg.at(y, x) = static_cast<std::uint8_t>((x / 80 + y / 60) % 20);
          if (x > w / 4 && x < w / 2 && y > h / 4 && y < h / 2) det.at(y, x) = 0;
          if (x > w / 2 && y > h / 2) det.at(y, x) = 1;
        }
      const std::string name = "img" + std::to_string(i);
      prismer::write_image((dir / "images" / (name + ".jpg")).string(), img);
      auto label = [&](const std::string& e) { return (dir / "labels" / e / "synthetic" / (name + ".png")).string(); };
      prismer::write_png(label("depth"), grey);
      prismer::write_png(label("edge"), grey);
      prismer::write_png(label("normal"), normal);
      prismer::write_png(label("seg_coco"), seg);
      prismer::write_png(label("obj_detection"), det);
      prismer::write_file_atomic((dir / "labels" / "obj_detection" / "synthetic" / (name + ".json")).string(),
                                 R"({"0": 3, "1": 17})");
      prismer::write_png(label("ocr_detection"), prismer::Image(w, h, 1, 255));  // no .pt: no words
    }
  }
  std::size_t size() const override { return n_; }
  prismer::Sample sample(std::size_t i) const override {
    prismer::Sample s;
    s.id = "img" + std::to_string(i);
    s.image_path = (dir_ / "images" / (s.id + ".jpg")).string();
    s.label_name = s.id;
    return s;
  }
  std::string label_subdir() const override { return "synthetic"; }

 private:
  fs::path dir_;
  std::size_t n_;
};

}  // namespace

int main(int argc, char** argv) {
  prismer::use_passive_openmp(argv);  // before any torch work: see openmp_policy.h
  // Freed activations reused, not page-faulted in again (PRISMER_CPU_ALLOCATOR=system measures without).
  prismer::install_caching_cpu_allocator();
  std::size_t samples = 24, batch = 4;
  std::string features = (fs::path(PRISMER_SOURCE_DIR) / ".." / "shared" / "fixtures" / "data" / "transform_eval" / "features").string();
  if (const char* f = std::getenv("PRISMER_FIXTURES")) features = (fs::path(f) / "data" / "transform_eval" / "features").string();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--samples" && i + 1 < argc) samples = std::stoul(argv[++i]);
    else if (a == "--batch" && i + 1 < argc) batch = std::stoul(argv[++i]);
    else if (a == "--features" && i + 1 < argc) features = argv[++i];
    else if (a == "--quick") samples = 8;
    else {
      std::fprintf(stderr, "usage: bench_loader [--samples N] [--batch B] [--features DIR] [--quick]\n");
      return 2;
    }
  }
  torch::set_num_threads(1);  // the loader's parallelism is its workers
  const fs::path dir = fs::temp_directory_path() / ("prismer-bench-loader-" + std::to_string(::getpid()));
  const SyntheticSet ds(dir, samples);
  std::printf("loader: %zu synthetic 640x480 JPEGs, 6 experts (OCR words absent), 480 px, batch %zu, median of 3 epochs\n",
              samples, batch);
  for (const bool train : {false, true}) {
    for (const int threads : {1, 2}) {
      prismer::data::LoaderOptions o;
      o.item.experts = kExperts;
      o.item.label_root = (dir / "labels").string();
      o.item.resolution = 480;
      o.item.train = train;
      o.features_dir = features;
      o.batch_size = batch;
      o.threads = threads;
      o.shuffle = train;
      o.drop_last = false;
      prismer::data::Loader loader(ds, o);
      std::int64_t epoch = 0;
      const double cpu0 = cpu_seconds();
      const double s = prismer::bench::median_seconds(
          [&] {
            loader.start_epoch(epoch++);
            while (loader.next()) {
            }
          },
          3);
      const double cpu = (cpu_seconds() - cpu0) / (3.0 * static_cast<double>(samples));
      std::printf("  %-5s transform, %d thread%s  %7.2f samples/s  (%.3f CPU s per sample: %.2f samples/s per free core)\n",
                  train ? "train" : "eval", threads, threads > 1 ? "s" : " ", static_cast<double>(samples) / s, cpu,
                  1.0 / cpu);
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
