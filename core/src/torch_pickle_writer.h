// The pickle half of torch.save: an OrderedDict of tensors whose storages are written as zip records.
#pragma once

#include <prismer/weights.h>

#include <string>
#include <vector>

namespace prismer::detail {

struct TorchPickle {
  std::string pickle;                  ///< data.pkl
  std::vector<torch::Tensor> storages; ///< data/0, data/1, ...: whole storages, in key order
};

/// Pickles `tensors` exactly as Python's torch.save does for a state_dict (protocol 2, OrderedDict,
/// torch._utils._rebuild_tensor_v2 with persistent storage ids). Tensors sharing a storage share a key.
TorchPickle pickle_state_dict(const TensorMap& tensors);

}  // namespace prismer::detail
