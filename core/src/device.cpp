#include "prismer/device.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <dlfcn.h>

#include <algorithm>
#include <thread>

namespace prismer {

torch::Device parse_device(const Config& cfg, const std::string& key) {
  const std::string d = cfg.get<std::string>(key, "cpu");
  if (d == "auto") return torch::cuda::is_available() ? torch::Device("cuda") : torch::Device("cpu");
  try {
    torch::Device dev(d);
    if (dev.is_cuda() && !torch::cuda::is_available()) cfg[key].fail("CUDA is not available on this machine");
    return dev;
  } catch (const c10::Error&) {
    cfg[key].fail("unknown device '" + d + "' (cpu, cuda, cuda:N or auto)");
  }
}

int set_compute_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  // Present when the BLAS behind libblas.so.3 is OpenBLAS (Debian's libopenblas0-pthread); absent otherwise.
  using SetThreads = void (*)(int);
  if (auto* f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(threads);
  return threads;
}

}  // namespace prismer
