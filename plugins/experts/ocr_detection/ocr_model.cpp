#include "ocr_model.h"

#include <prismer/data/image_tensor.h>
#include <prismer/data/resize.h>

#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <cctype>
#include <stdexcept>

namespace prismer::experts::ocr {

torch::Tensor preprocess(const Image& rgb, int size) {
  if (rgb.empty() || rgb.channels != 3)
    throw std::invalid_argument("ocr_detection: expected a non-empty RGB image, got " + std::to_string(rgb.width) +
                                "x" + std::to_string(rgb.height) + " with " + std::to_string(rgb.channels) +
                                " channels");
  const Image resized = data::resize(rgb, size, size, data::Resample::bilinear);
  const torch::Tensor mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({3, 1, 1});
  const torch::Tensor std = torch::tensor({0.229f, 0.224f, 0.225f}).view({3, 1, 1});
  return data::to_tensor(resized).sub(mean).div(std);
}

CharNetMaps soft_maps(const CharNetOutputs& out) {
  auto cpu = [](const torch::Tensor& t) { return t.to(torch::kCPU, torch::kFloat32).contiguous(); };
  CharNetMaps m;
  m.word_fg = cpu(torch::softmax(out.word_fg_logits, 1).select(1, 1));
  m.word_tblr = cpu(out.word_tblr);
  m.word_orient = cpu(out.word_orient.select(1, 0));
  m.char_fg = cpu(torch::softmax(out.char_fg_logits, 1).select(1, 1));
  m.char_tblr = cpu(out.char_tblr);
  m.char_cls = cpu(torch::softmax(out.char_logits, 1));
  return m;
}

Image word_label(const std::vector<WordInstance>& words, int width, int height) {
  cv::Mat label(height, width, CV_8UC1, cv::Scalar(255));
  std::uint8_t counter = 0;
  for (auto it = words.rbegin(); it != words.rend(); ++it, ++counter) {
    cv::Mat mask = cv::Mat::zeros(height, width, CV_8UC1);
    std::vector<cv::Point> quad;
    // np.int32(word_bbox): truncation toward zero (the values are already whole numbers).
    for (int k = 0; k < 4; ++k)
      quad.emplace_back(static_cast<int>(it->quad[2 * k]), static_cast<int>(it->quad[2 * k + 1]));
    cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{quad}, cv::Scalar(1));
    label.setTo(cv::Scalar(counter), mask);
  }
  Image out(width, height, 1);
  for (int y = 0; y < height; ++y)
    std::copy(label.ptr<std::uint8_t>(y), label.ptr<std::uint8_t>(y) + width,
              out.pixels.begin() + static_cast<std::ptrdiff_t>(y) * width);
  return out;
}

std::vector<std::string> label_texts(const std::vector<WordInstance>& words) {
  std::vector<std::string> texts;
  for (auto it = words.rbegin(); it != words.rend(); ++it) {
    std::string t = it->text;
    for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    texts.push_back(std::move(t));
  }
  return texts;
}

std::string word_features_file(const std::vector<std::string>& texts, const torch::Tensor& features) {
  TORCH_CHECK(features.dim() == 2 && features.size(0) == static_cast<int64_t>(texts.size()),
              "word_features_file: one feature row per text expected, got ", features.sizes(), " for ", texts.size(),
              " texts");
  const torch::Tensor f = features.to(torch::kCPU, torch::kFloat32);
  c10::impl::GenericDict words(c10::IntType::get(),
                               c10::DictType::create(c10::StringType::get(), c10::AnyType::get()));
  for (std::size_t j = 0; j < texts.size(); ++j) {
    c10::impl::GenericDict entry(c10::StringType::get(), c10::AnyType::get());
    entry.insert("features", f[static_cast<int64_t>(j)].clone());  // its own storage, as .float() makes
    entry.insert("text", texts[j]);
    words.insert(static_cast<int64_t>(j), entry);
  }
  const std::vector<char> bytes = torch::pickle_save(words);
  return std::string(bytes.begin(), bytes.end());
}

WordEmbedder::WordEmbedder(std::shared_ptr<const text::ClipTokenizer> tokenizer, ClipText clip, PcaParams pca)
    : tokenizer_(std::move(tokenizer)), clip_(std::move(clip)), pca_(std::move(pca)) {}

torch::Tensor WordEmbedder::tokenize(const std::vector<std::string>& texts) const {
  const auto rows = tokenizer_->tokenize(texts, static_cast<int>(clip_->options().context_length));
  torch::Tensor t = torch::zeros({static_cast<int64_t>(rows.size()), clip_->options().context_length}, torch::kLong);
  auto acc = t.accessor<int64_t, 2>();
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < rows[i].size(); ++j) acc[static_cast<int64_t>(i)][static_cast<int64_t>(j)] = rows[i][j];
  return t;
}

torch::Tensor WordEmbedder::clip_features(const torch::Tensor& tokens) const {
  torch::InferenceMode guard;
  return clip_->encode_text(tokens).to(torch::kCPU, torch::kFloat32);
}

torch::Tensor WordEmbedder::pca(const torch::Tensor& clip_features) const { return pca_.transform(clip_features); }

torch::Device WordEmbedder::device() const { return clip_->device(); }

PcaParams read_pca(const std::string& path) {
  if (detect_weight_format(path) == WeightFormat::pickle) return load_sklearn_pca(path);
  const TensorMap t = load_weights(path);
  const torch::Tensor* mean = find_tensor(t, "mean_");
  const torch::Tensor* components = find_tensor(t, "components_");
  if (mean == nullptr || components == nullptr)
    throw WeightFileError(path + ": a PCA file needs tensors 'mean_' and 'components_' (or a scikit-learn pickle)");
  if (mean->dim() != 1 || components->dim() != 2 || components->size(1) != mean->size(0))
    throw WeightFileError(path + ": PCA shapes do not fit: mean_ " + std::to_string(mean->dim()) + "-d, components_ " +
                          std::to_string(components->dim()) + "-d");
  PcaParams p;
  p.mean = mean->to(torch::kDouble);
  p.components = components->to(torch::kDouble);
  return p;
}

}  // namespace prismer::experts::ocr
