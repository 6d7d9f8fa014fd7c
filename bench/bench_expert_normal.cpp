// The normal expert's network (NLL-AngMF, EfficientNet-B5-AP) on the CPU: images/s for one 480x480 image with 1
// and 2 intra-op threads (median of a few runs after a warm-up; seeded random weights, which cost the same as the
// real ones), next to the original Python forward time quoted in shared/notes/experts.md §2. The process CPU time
// per image is printed too: on a shared, overloaded machine it is the steadier number (with 1 thread it is what the
// wall time would be on an idle core).
//
// usage: bench_expert_normal [--runs N] [--device cpu|cuda]
#include "nnet.h"
#include "normal_checkpoint.h"
#include "expert_bench_start.h"
#include "timing.h"

#include <torch/torch.h>

#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// The original (Python, LibTorch 1.13 CPU, fp32) forward of one 480x480 image, experts.md §2.
constexpr double kPythonSeconds = 3.6;

}  // namespace

int main(int argc, char** argv) {
  const auto options = prismer::bench::start_expert_bench(argc, argv, "bench_expert_normal");
  if (!options) return 2;
  const int runs = options->runs;
  const std::string device_name = options->device;
  const torch::Device device(device_name);
  prismer::normal::NNet model;
  prismer::normal::random_init(model, 0);
  model->eval();
  model->to(device);
  const torch::Tensor x = torch::randn({1, 3, 480, 480}).to(device);
  auto forward = [&] {
    c10::InferenceMode guard;
    const torch::Tensor res1 = model->forward(x).back();
    if (device.is_cuda()) torch::cuda::synchronize();
    (void)res1;
  };
  std::printf("normal expert (NLL-AngMF) forward, 1x3x480x480, %s, median of %d runs\n", device_name.c_str(), runs);
  std::printf("python original (experts.md): %.2f s/image = %.3f images/s\n", kPythonSeconds, 1.0 / kPythonSeconds);
  for (const int threads : {1, 2}) {
    if (device.is_cuda() && threads > 1) break;
    torch::set_num_threads(threads);
    const std::clock_t cpu0 = std::clock();
    const double s = prismer::bench::median_seconds(forward, runs, 1);
    const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC / (runs + 1);
    std::printf("threads %d: %7.3f s/image = %.3f images/s   (python / C++: %.2fx)   cpu %.3f s/image\n", threads, s,
                1.0 / s, kPythonSeconds / s, cpu);
    std::fflush(stdout);
  }
  return 0;
}
