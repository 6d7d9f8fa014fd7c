#include "prismer/device.h"

#include <torch/cuda.h>

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

}  // namespace prismer
