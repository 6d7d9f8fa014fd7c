// The obj_detection expert's network (UniDet RS200 cascade) on the CPU: images/s for one 480x360 image (a 640x480
// photo after Resize(479, max_size=480)) with 1 and 2 intra-op threads (median of a few runs after a warm-up;
// seeded random weights, which cost the same as the real ones: the RPN always keeps 1000 proposals), next to the
// original Python forward time quoted in shared/notes/experts.md §5. Also the label step (get_mask_labels + PNG).
//
// usage: bench_expert_obj_detection [--runs N] [--device cpu|cuda]
#include "obj_detection/labels.h"
#include "obj_detection/unidet.h"
#include "expert_bench_start.h"
#include "timing.h"


#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// The original (Python, LibTorch 1.13 CPU, fp32) forward of one 360x480 image, experts.md §5.
constexpr double kPythonSeconds = 4.2;

}  // namespace

int main(int argc, char** argv) {
  const auto options = prismer::bench::start_expert_bench(argc, argv, "bench_expert_obj_detection");
  if (!options) return 2;
  const int runs = options->runs;
  const std::string device_name = options->device;
  namespace od = prismer::experts::obj_detection;
  const torch::Device device(device_name);
  torch::manual_seed(0);
  od::UniDet model;
  model->eval();
  model->to(device);
  const torch::Tensor x = (torch::rand({3, 480, 360}) * 255).to(device);
  od::Detections last;
  auto forward = [&] {
    c10::InferenceMode guard;
    last = model->detect(x);
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  std::printf("obj_detection expert (UniDet RS200 cascade) forward, 3x480x360, %s, median of %d runs\n",
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
  // The label step on 60 overlapping boxes (the fixtures' photos get ~60 detections).
  const torch::Tensor xy = torch::rand({60, 2}) * 300, wh = torch::rand({60, 2}) * 200 + 10;
  const torch::Tensor boxes = torch::cat({xy, (xy + wh).clamp_max(359)}, 1);
  const torch::Tensor classes = torch::randint(722, {60}, torch::kInt64);
  const torch::Tensor depth = torch::rand({480, 360});
  const double post = prismer::bench::median_seconds(
      [&] {
        const auto [mask, ids] = od::mask_labels(depth, boxes, classes);
        (void)od::make_label(mask, ids, 480, 640);
      },
      3, 1);
  std::printf("labels (60 boxes, depth ordering, 480x360 -> 480x640): %.1f ms\n", 1e3 * post);
  return 0;
}
