// The segmentation expert's network (Mask2Former Swin-L, 200 queries, 133 classes) on the CPU: images/s for one
// 480x480 input (the original's Resize(479, max_size=480) gives at most 480 on the long side; 480x480 padded is the
// largest input it sees) with 1 and 2 intra-op threads (median of a few runs after a warm-up; seeded random
// weights, which cost the same as the real ones), next to the original Python forward time quoted in
// shared/notes/experts.md §4 (5.7 s for a 360x480 input). Also the semantic inference + resize to 640x480 + argmax.
//
// usage: bench_expert_seg [--runs N] [--device cpu|cuda]
#include "seg/mask2former.h"
#include "seg/processing.h"
#include "expert_bench_start.h"
#include "timing.h"


#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// The original (Python, LibTorch 1.13 CPU, fp32) forward of one 360x480 input, experts.md §4.
constexpr double kPythonSeconds = 5.7;

}  // namespace

int main(int argc, char** argv) {
  const auto options = prismer::bench::start_expert_bench(argc, argv, "bench_expert_seg");
  if (!options) return 2;
  const int runs = options->runs;
  const std::string device_name = options->device;
  namespace seg = prismer::experts::seg;
  const torch::Device device(device_name);
  torch::manual_seed(0);
  seg::Mask2Former model(seg::Mask2FormerConfig::coco());
  model->eval();
  model->to(device);
  const torch::Tensor image = (torch::rand({3, 480, 480}) * 255).to(device);
  auto forward = [&] {
    c10::InferenceMode guard;
    const torch::Tensor out = seg::semantic_segmentation(*model, image, 480, 480);
    if (device.is_cuda()) torch::cuda::synchronize();
    (void)out;
  };
  std::printf("seg_coco expert (Mask2Former Swin-L) forward + semantic inference, 3x480x480, %s, median of %d runs\n",
              device_name.c_str(), runs);
  std::printf("python original (experts.md, 360x480): %.2f s/image = %.3f images/s\n", kPythonSeconds,
              1.0 / kPythonSeconds);
  for (const int threads : {1, 2}) {
    if (device.is_cuda() && threads > 1) break;
    torch::set_num_threads(threads);
    const double s = prismer::bench::median_seconds(forward, runs, 1);
    std::printf("threads %d: %7.3f s/image = %.3f images/s   (python / C++: %.2fx)\n", threads, s, 1.0 / s,
                kPythonSeconds / s);
    std::fflush(stdout);
  }
  // Where the time goes (2 threads, one run each): Swin, + pixel decoder, the whole forward.
  {
    c10::InferenceMode guard;
    const torch::Tensor x = seg::normalize_and_pad(image, 32);
    const double swin = prismer::bench::median_seconds([&] { (void)model->backbone(x); }, 1);
    const double pixel = prismer::bench::median_seconds([&] { (void)model->pixel_decoder(model->backbone(x)); }, 1);
    const double all = prismer::bench::median_seconds([&] { (void)model->forward_all(x, false); }, 1);
    std::printf("breakdown: Swin-L %.2f s, pixel decoder %.2f s, transformer decoder %.2f s\n", swin, pixel - swin,
                all - pixel);
  }
  const torch::Tensor scores = torch::rand({133, 480, 640});
  const double post = prismer::bench::median_seconds([&] { (void)seg::argmax_label(scores); }, 3, 1);
  std::printf("argmax label 133x480x640: %.1f ms\n", 1e3 * post);
  return 0;
}
