// The `device:` key every torch plugin understands.
#pragma once

#include <prismer/config.h>
#include <prismer/export.h>

#include <torch/types.h>

namespace prismer {

/// Reads `cfg[key]` ("cpu", "cuda", "cuda:N" or "auto"; absent = "cpu"). "auto" picks CUDA when available.
/// Throws ConfigError naming the key for an unknown device or CUDA on a machine without it.
///
/// \code
///   explicit MyExpert(const prismer::Config& cfg) : device_(prismer::parse_device(cfg)) {}
/// \endcode
PRISMER_API torch::Device parse_device(const Config& cfg, const std::string& key = "device");

/// Sets the CPU threads of torch's operators and of the BLAS library under them (OpenBLAS keeps its own pool,
/// which at::set_num_threads leaves alone: one process limited to 1 torch thread still ran 2 spinning BLAS threads).
/// `threads` 0 = every core. Returns the count set.
PRISMER_API int set_compute_threads(int threads);

}  // namespace prismer
