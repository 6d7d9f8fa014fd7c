// Weight files without Python: torch.save (zip and legacy), plain pickles of numpy arrays, safetensors.
//
// Example:
// \code
//   prismer::TensorMap sd = prismer::load_weights("pytorch_model.bin");      // any supported container
//   prismer::save_safetensors(sd, "model.safetensors");
//   prismer::save_torch(sd, "copy.pt");                                     // Python torch.load reads it
// \endcode
#pragma once

#include <prismer/export.h>
#include <prismer/pickle.h>

#include <torch/types.h>

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace prismer {

/// Named tensors in file order (a state_dict).
using TensorMap = std::vector<std::pair<std::string, torch::Tensor>>;

/// A weight file that cannot be read: what() names the file and the problem.
class PRISMER_API WeightFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  ~WeightFileError() override;
};

/// The containers load_weights() recognises.
enum class WeightFormat { torch_zip, torch_legacy, pickle, safetensors };

/// Detects the container from the file's first bytes; throws WeightFileError for anything else.
PRISMER_API WeightFormat detect_weight_format(const std::string& path);

/// Options for load_weights().
struct LoadWeightsOptions {
  /// Removed from the start of every key that has it (e.g. "module.").
  std::string strip_prefix;
  /// Take the state_dict under this top-level key. Empty: "model", "state_dict" or "module" when the
  /// top level holds one of them as a dict, else the top level itself.
  std::string entry;
};

/// Reads every tensor of a weight file into a name -> tensor map. Nested dicts are flattened with
/// dots; non-tensor leaves (epochs, notes, optimiser scalars) are skipped; numpy arrays become tensors.
/// Tensors keep the sharing, offsets and strides of the file (views of one storage stay views).
PRISMER_API TensorMap load_weights(const std::string& path, const LoadWeightsOptions& options = {});

/// The whole unpickled object of a torch.save or pickle file (for non-state-dict contents).
PRISMER_API PickleValue load_pickle_file(const std::string& path);

/// Writes a torch.save zip archive holding an OrderedDict of the tensors, readable by Python's
/// torch.load; written to a temporary name and renamed. Tensors sharing a storage keep sharing it.
PRISMER_API void save_torch(const TensorMap& tensors, const std::string& path);

/// Reads a safetensors file.
PRISMER_API TensorMap load_safetensors(const std::string& path);
/// Writes a safetensors file atomically, with optional string metadata.
PRISMER_API void save_safetensors(const TensorMap& tensors, const std::string& path,
                                  const std::map<std::string, std::string>& metadata = {});

/// A fitted scikit-learn PCA read from its pickle (float64 tensors).
struct PRISMER_API PcaParams {
  torch::Tensor mean;        ///< [features]
  torch::Tensor components;  ///< [components, features]
  /// (x - mean) @ components.T, computed in float64, as sklearn's transform (whiten=False).
  torch::Tensor transform(const torch::Tensor& x) const;
};
PRISMER_API PcaParams load_sklearn_pca(const std::string& path);

/// Looks a tensor up by name; nullptr when absent.
PRISMER_API const torch::Tensor* find_tensor(const TensorMap& tensors, const std::string& name);

}  // namespace prismer
