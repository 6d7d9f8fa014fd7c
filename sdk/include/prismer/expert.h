// The Expert interface: one modality end to end (prediction, label files, backbone encoding).
#pragma once

#include <prismer/component.h>
#include <prismer/image.h>
#include <prismer/sample.h>

#include <torch/types.h>

#include <map>
#include <string>
#include <vector>

namespace prismer {

/// How the backbone reads an expert's labels.
enum class LabelKind {
  dense,     ///< continuous maps (depth, edge: 1 channel; surface normal: 3), rescaled to [-1, 1]
  semantic,  ///< class / instance maps in-painted with 64-d CLIP text features (segmentation, detection, OCR)
};

/// What an expert declares about its labels; the backbone builds an input stem from it.
struct LabelSpec {
  std::string name;            ///< the modality name, also the label folder ("depth", "seg_coco", ...)
  int channels = 1;            ///< channels of encode()'s output
  LabelKind kind = LabelKind::dense;
  std::string stem;            ///< stem shared by several experts (e.g. "seg"); empty means `name`
  int map_channels = 1;        ///< channels of the stored PNG map
  std::vector<std::string> depends_on;  ///< experts whose labels predict() reads (e.g. detection reads "depth")
};

/// What predict() may read besides the image: the sample and the labels earlier experts produced.
struct ExpertContext {
  const Sample* sample = nullptr;
  std::map<std::string, const Label*> previous;
};

/// An expert plugin.
///
/// Example (in a plugin):
/// \code
///   class Edges : public prismer::Expert {
///    public:
///     explicit Edges(const prismer::Config& cfg) : threshold_(cfg.get<int>("threshold")) {}
///     prismer::LabelSpec spec() const override { return {"edge", 1, prismer::LabelKind::dense}; }
///     std::vector<prismer::Label> predict(const std::vector<prismer::Image>& images,
///                                         const std::vector<prismer::ExpertContext>&) override;
///     torch::Tensor encode(const prismer::Label& label) const override { return dense_encode(label); }
///   };
///   PRISMER_PLUGIN(Edges, "my_edges", expert, "1.0", "Edges by thresholding", "threshold: 100\n")
/// \endcode
class PRISMER_API Expert : public Component {
 public:
  ~Expert() override;
  /// The label specification; must not change over the expert's life.
  virtual LabelSpec spec() const = 0;
  /// Labels for a batch of RGB images, one per image, in order.
  virtual std::vector<Label> predict(const std::vector<Image>& images, const std::vector<ExpertContext>& context) = 0;
  /// The files save() writes for `stem` (path without extension). Default: `stem + ".png"`.
  virtual std::vector<std::string> label_files(const std::string& stem) const;
  /// Writes a label under `stem` atomically: `stem.png` and `stem<ext>` for each side file.
  virtual void save(const Label& label, const std::string& stem) const;
  /// Reads a label written by save() (or by the original Python code).
  virtual Label load(const std::string& stem) const;
  /// The backbone input for one label: a float tensor [channels, H, W].
  virtual torch::Tensor encode(const Label& label) const = 0;
};

/// The original's dense encoding: uint8 map -> float [C, H, W], min-max rescaled to [-1, 1]
/// (a constant map becomes all zeros).
PRISMER_API torch::Tensor dense_encode(const Label& label);

}  // namespace prismer
