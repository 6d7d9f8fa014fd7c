// The OCR expert's networks on the CPU: CharNet (Hourglass-88) images/s for one 480x480 image with 1 and 2
// intra-op threads (median of a few runs after a warm-up; seeded random weights, which cost the same as the real
// ones), next to the original Python backbone forward time quoted in shared/notes/experts.md §6; and the CLIP
// ViT-L/14 text tower on a batch of 10 words (what one image's word features cost).
//
// usage: bench_expert_ocr_detection [--runs N] [--device cpu|cuda]
#include "ocr_detection/charnet.h"
#include "ocr_detection/clip_text.h"
#include "expert_bench_start.h"
#include "timing.h"

#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// The original (Python, LibTorch 1.13 CPU, fp32) backbone forward of one 480x480 image, experts.md §6.
constexpr double kPythonSeconds = 2.1;

}  // namespace

int main(int argc, char** argv) {
  const auto options = prismer::bench::start_expert_bench(argc, argv, "bench_expert_ocr_detection");
  if (!options) return 2;
  const int runs = options->runs;
  const std::string device_name = options->device;
  namespace ocr = prismer::experts::ocr;
  const torch::Device device(device_name);
  torch::manual_seed(0);
  ocr::CharNet model;
  model->eval();
  model->to(device);
  const torch::Tensor x = (torch::rand({1, 3, 480, 480}) * 2 - 1).to(device);
  auto forward = [&] {
    c10::InferenceMode guard;
    const ocr::CharNetOutputs out = model->forward_all(x);
    if (device.is_cuda()) torch::cuda::synchronize();
    (void)out;
  };
  std::printf("ocr_detection expert (CharNet hourglass88) forward, 1x3x480x480, %s, median of %d runs\n",
              device_name.c_str(), runs);
  std::printf("python original (experts.md): %.2f s/image = %.3f images/s\n", kPythonSeconds, 1.0 / kPythonSeconds);
  for (const int threads : {1, 2}) {
    if (device.is_cuda() && threads > 1) break;
    torch::set_num_threads(threads);
    const double s = prismer::bench::median_seconds(forward, runs, 1);
    std::printf("threads %d: %7.3f s/image = %.3f images/s   (python / C++: %.2fx)\n", threads, s, 1.0 / s,
                kPythonSeconds / s);
    std::fflush(stdout);
  }
  // The word features of one image: CLIP text tower on 10 words (77 tokens each).
  ocr::ClipText clip;
  clip->eval();
  clip->to(device);
  torch::Tensor tokens = torch::zeros({10, 77}, torch::kLong);
  tokens.select(1, 0).fill_(49406);
  tokens.select(1, 1).fill_(320);
  tokens.select(1, 2).fill_(49407);
  const double text = prismer::bench::median_seconds(
      [&] {
        c10::InferenceMode guard;
        (void)clip->encode_text(tokens.to(device));
        if (device.is_cuda()) torch::cuda::synchronize();
      },
      runs, 1);
  std::printf("CLIP ViT-L/14 text tower, 10 words: %.1f ms (threads %d)\n", 1e3 * text, torch::get_num_threads());
  return 0;
}
