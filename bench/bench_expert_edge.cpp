// The edge expert's network (DexiNed) on the CPU: images/s for one 480x480 image with 1 and 2 intra-op threads
// (median of a few runs after a warm-up; seeded random weights, which cost the same as the real ones), next to the
// original Python forward time quoted in shared/notes/experts.md §3. Also the pre- and post-processing of one
// 640x480 photo (Pillow-exact resize in; sigmoid, min-max, truncation and resize out).
//
// usage: bench_expert_edge [--runs N] [--device cpu|cuda]
#include "edge_model.h"
#include "expert_bench_start.h"
#include "timing.h"

#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// The original (Python, LibTorch 1.13 CPU, fp32) forward of one 480x480 image, experts.md §3.
constexpr double kPythonSeconds = 2.4;

}  // namespace

int main(int argc, char** argv) {
  const auto options = prismer::bench::start_expert_bench(argc, argv, "bench_expert_edge");
  if (!options) return 2;
  const int runs = options->runs;
  const std::string device_name = options->device;
  namespace edge = prismer::edge;
  const torch::Device device(device_name);
  edge::DexiNed model;
  edge::init_random(model, 0);
  model->eval();
  model->to(device);
  const torch::Tensor x = (torch::rand({1, 3, 480, 480}) * 255 - 120).to(device);
  auto forward = [&] {
    c10::InferenceMode guard;
    const torch::Tensor out = model->forward(x).back();
    if (device.is_cuda()) torch::cuda::synchronize();
    (void)out;
  };
  std::printf("edge expert (DexiNed) forward, 1x3x480x480, %s, median of %d runs\n", device_name.c_str(), runs);
  std::printf("python original (experts.md): %.2f s/image = %.3f images/s\n", kPythonSeconds, 1.0 / kPythonSeconds);
  for (const int threads : {1, 2}) {
    if (device.is_cuda() && threads > 1) break;
    torch::set_num_threads(threads);
    const double s = prismer::bench::median_seconds(forward, runs, 1);
    std::printf("threads %d: %7.3f s/image = %.3f images/s   (python / C++: %.2fx)\n", threads, s, 1.0 / s,
                kPythonSeconds / s);
    std::fflush(stdout);
  }
  prismer::Image photo(640, 480, 3);
  for (std::size_t i = 0; i < photo.pixels.size(); ++i) photo.pixels[i] = static_cast<std::uint8_t>(i * 7 % 251);
  const torch::Tensor logits = torch::randn({480, 480});
  const double pre = prismer::bench::median_seconds([&] { (void)edge::preprocess(photo); }, 5, 1);
  const double post = prismer::bench::median_seconds(
      [&] { (void)edge::label_from_fuse(edge::fuse_edge(logits), 640, 480); }, 5, 1);
  std::printf("preprocess 640x480 -> 480x480: %.1f ms; label 480x480 -> 640x480: %.1f ms\n", 1e3 * pre, 1e3 * post);
  return 0;
}
