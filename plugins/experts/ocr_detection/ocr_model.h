// The OCR expert end to end, as experts/generate_ocrdet.py runs it: pre-processing, CharNet, soft-max, the
// post-processing, the label map (get_label) and the word-feature file (CLIP text features reduced by the PCA).
#pragma once

#include "charnet.h"
#include "clip_text.h"
#include "postprocess.h"

#include <prismer/image.h>
#include <prismer/text/clip_tokenizer.h>
#include <prismer/weights.h>

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace prismer::experts::ocr {

/// generate_dataset.py resize + `Compose([ToTensor(), Normalize(ImageNet mean, std)])`: Pillow-exact bilinear
/// resize to size x size (no aspect ratio), byte / 255, (x - mean) / std in float32. Returns [3, size, size].
torch::Tensor preprocess(const Image& rgb, int size = 480);

/// What CharNet.forward hands the post-processing for a batch (soft-maxed, CPU float32, contiguous).
struct CharNetMaps {
  torch::Tensor word_fg;      ///< [B, h, w] softmax(word_fg_logits)[:, 1]
  torch::Tensor word_tblr;    ///< [B, 4, h, w]
  torch::Tensor word_orient;  ///< [B, h, w]
  torch::Tensor char_fg;      ///< [B, h, w]
  torch::Tensor char_tblr;    ///< [B, 4, h, w]
  torch::Tensor char_cls;     ///< [B, C, h, w] softmax over classes
};
CharNetMaps soft_maps(const CharNetOutputs& out);

/// get_label: an 'L' map at the image size, 255 = background; the words in reverse order get ids 0, 1, ...
/// (later ones overwrite earlier), each filled with cv::fillPoly of its int32 quad.
Image word_label(const std::vector<WordInstance>& words, int width, int height);
/// The texts in the label's id order: reversed, lower-case.
std::vector<std::string> label_texts(const std::vector<WordInstance>& words);

/// The word-feature file: torch.save({j: {'features': FloatTensor[64], 'text': str}}) bytes, j = label id.
/// `features` [N, 64] (any float dtype; stored as float32).
std::string word_features_file(const std::vector<std::string>& texts, const torch::Tensor& features);

/// CLIP ViT-L/14 text features reduced by the 64-component PCA (generate_ocrdet.py).
class WordEmbedder {
 public:
  WordEmbedder(std::shared_ptr<const text::ClipTokenizer> tokenizer, ClipText clip, PcaParams pca);
  /// clip.tokenize(texts): [N, 77] int64.
  torch::Tensor tokenize(const std::vector<std::string>& texts) const;
  /// encode_text(tokens).float(): [N, 768] float32 on the CPU.
  torch::Tensor clip_features(const torch::Tensor& tokens) const;
  /// pca.transform (float64): [N, 64].
  torch::Tensor pca(const torch::Tensor& clip_features) const;
  torch::Device device() const;

 private:
  std::shared_ptr<const text::ClipTokenizer> tokenizer_;
  mutable ClipText clip_;  // encode_text is not const (a module forward)
  PcaParams pca_;
};

/// Reads the PCA: a scikit-learn pickle (clip_pca.pkl), or a tensor file holding `mean_` and `components_`.
PcaParams read_pca(const std::string& path);

}  // namespace prismer::experts::ocr
