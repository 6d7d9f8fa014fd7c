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

}  // namespace prismer
