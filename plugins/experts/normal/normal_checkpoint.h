// Loading NLL-AngMF weights the way the original's utils.load_checkpoint does: the state_dict under 'model'
// (torch.load(path)['model']), a leading 'module.' removed from every key, then a strict load_state_dict.
#pragma once

#include "nnet.h"

#include <prismer/weights.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace prismer::normal {

/// A weight file or state dict that does not match the network: what() names every missing, unexpected and
/// mis-shaped key.
class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Copies `weights` (official key names, no 'module.' prefix) into `model`, strictly: any missing, unexpected or
/// mis-shaped key throws CheckpointError listing all of them, and then nothing is copied. `source` names the
/// origin in the message.
void load_state_dict(NNet& model, const TensorMap& weights, const std::string& source = "state dict");

/// Reads `path` (scannet.pt: {'model': state_dict, ...}, or any container prismer::load_weights reads, e.g. a
/// safetensors file from `prismer convert`), strips 'module.' and loads it strictly. Errors name the file.
void load_checkpoint(NNet& model, const std::string& path);

/// Seeded random weights for runs without the official file (conformance checks, benchmarks): convolutions
/// N(0, 1/sqrt(fan_in)), biases N(0, 0.02), BatchNorm weight N(1, 0.1), bias N(0, 0.05), running mean
/// N(0, 0.1), running var U(0.5, 1.5) - the rules of the reference fixtures, from one generator seeded with `seed`.
void random_init(NNet& model, std::uint64_t seed);

}  // namespace prismer::normal
