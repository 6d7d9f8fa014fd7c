// The Task interface: training loss, inference and evaluation for captioning or VQA.
#pragma once

#include <prismer/backbone.h>
#include <prismer/component.h>
#include <prismer/dataset.h>
#include <prismer/sample.h>

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace prismer {

/// A collated batch.
struct Batch {
  ExpertInputs inputs;
  std::vector<Sample> samples;
};

/// One output of Task::predict.
struct Prediction {
  std::string id;
  std::int64_t numeric_id = -1;  ///< image_id or question_id for the result file
  std::string text;
  double score = 0.0;
};

/// Named metric values, e.g. {"CIDEr": 1.21, "BLEU_4": 0.39}.
using Metrics = std::map<std::string, double>;

/// A task plugin.
class PRISMER_API Task : public Component {
 public:
  ~Task() override;
  /// The training loss of a batch (a scalar tensor with a graph).
  virtual torch::Tensor loss(Backbone& backbone, const Batch& batch) = 0;
  /// Called once before predict() runs over the batches of `dataset` (evaluation, result files): the task takes
  /// what the data provides beside its samples, e.g. VQA's candidate answers from Dataset::answer_list().
  /// The default does nothing.
  virtual void prepare_predictions(const Dataset& dataset) { (void)dataset; }
  /// Inference on a batch (beam search, answer ranking...).
  virtual std::vector<Prediction> predict(Backbone& backbone, const Batch& batch) = 0;
  /// Metrics of predictions against a dataset's ground truth.
  virtual Metrics evaluate(const std::vector<Prediction>& predictions, const Dataset& dataset) = 0;
  /// Writes predictions in the official result format, atomically.
  virtual void write_results(const std::vector<Prediction>& predictions, const std::string& path) const = 0;
};

}  // namespace prismer
