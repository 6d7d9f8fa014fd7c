// CharNet's OrientedTextPostProcessing (experts/ocr_detection/charnet/modeling/{postprocessing,rotated_nms}.py)
// with the original's default thresholds (charnet/config/defaults.py; the yaml is never merged), reproducing its
// float32 numpy arithmetic, numpy's argsort tie order, Clipper intersections and shapely areas.
#pragma once

#include "geometry.h"

#include <torch/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace prismer::experts::ocr {

/// A box row of the original: quad x1, y1, ..., x4, y4 and a score.
using Box = std::array<float, 9>;

/// defaults.py values.
struct PostprocessParams {
  float word_min_score = 0.5f;
  int word_stride = 4;
  double word_nms_iou = 0.15;
  float char_min_score = 0.25f;
  int char_stride = 4;
  double char_nms_iou = 0.3;
};

/// rotated_nms.py nms / nms_with_char_cls: what they return.
struct NmsResult {
  std::vector<std::int64_t> keep;               ///< `pick`, in pick order
  std::vector<Box> new_boxes;                   ///< every row; only kept rows are filled (score-weighted means)
  std::vector<std::vector<float>> new_scores;   ///< nms_with_char_cls: the merged class probabilities, every row
};

/// rotated_nms.py `nms(boxes, thresh, neighbourThresh=0.5, minScore=0, num_neig)`; with `char_scores`,
/// `nms_with_char_cls` (the class probabilities of the neighbours are averaged too).
NmsResult rotated_nms(const std::vector<Box>& boxes, double overlap_thresh, int num_neig,
                      const std::vector<std::vector<float>>* char_scores = nullptr,
                      double neighbour_thresh = 0.5);

/// One recognised word (postprocessing.py WordInstance).
struct WordInstance {
  Quad quad{};                    ///< rounded, clipped to the image
  float bbox_score = 0;
  std::string text;               ///< upper case (the lexicon's spelling when corrected)
  float text_score = 0;
  std::optional<int> edit_distance;  ///< `text_edst`, set when the lexicon was consulted
  int num_chars = 0;
};

/// The char dictionary (char_dict.txt: `char \x1f index` per line, characters upper-cased).
using CharDict = std::map<int, std::string>;
/// The original's char_dict.txt (68 classes: a-z, 0-9, punctuation), built in.
CharDict default_char_dict();
/// Reads a char_dict.txt; throws std::runtime_error naming the file and line when malformed.
CharDict load_char_dict(const std::string& path);
/// load_lexicon: every line stripped, lines starting with '#' skipped. Throws when unreadable.
std::vector<std::string> load_lexicon(const std::string& path);

/// Levenshtein distance with unit costs (editdistance.eval).
int edit_distance(const std::string& a, const std::string& b);

/// match_lexicon: (0, text) for the first exact (case-insensitive) match, else the first word of minimal distance.
/// An empty lexicon gives (INT_MAX, "") (the original would fail).
std::pair<int, std::string> match_lexicon(const std::string& text, const std::vector<std::string>& lexicon);

/// Every intermediate of one image's post-processing (the parity tests compare them).
struct PostprocessTrace {
  std::vector<Box> nms_word_input;
  NmsResult nms_word;
  std::vector<Box> word_bboxes;                   ///< parse_word_bboxes
  std::vector<std::array<std::int64_t, 2>> char_cand_rc;
  std::vector<std::vector<float>> char_cand_cls;
  std::vector<Box> nms_char_input;
  NmsResult nms_char;
  std::vector<Box> char_bboxes;                   ///< parse_char
  std::vector<std::vector<float>> char_scores;
  std::vector<WordInstance> words_before_filter;  ///< parse_words
  std::vector<WordInstance> words;                ///< filter_word_instances
};

/// OrientedTextPostProcessing.forward for one image. Maps (CPU float32, already soft-maxed, stride-4 grid):
/// word_fg [h, w] (foreground probability), word_tblr [4, h, w], word_orient [h, w] (radians), char_fg [h, w],
/// char_tblr [4, h, w], char_cls [C, h, w]. `scale_w`/`scale_h` = original size / network input size,
/// `width`/`height` the original image size.
class Postprocessor {
 public:
  Postprocessor(CharDict char_dict, std::vector<std::string> lexicon, PostprocessParams params = {});
  PostprocessTrace run(const torch::Tensor& word_fg, const torch::Tensor& word_tblr, const torch::Tensor& word_orient,
                       const torch::Tensor& char_fg, const torch::Tensor& char_tblr, const torch::Tensor& char_cls,
                       double scale_w, double scale_h, int width, int height) const;
  /// filter_word_instances on its own.
  std::vector<WordInstance> filter(const std::vector<WordInstance>& words) const;

 private:
  CharDict char_dict_;
  std::vector<std::string> lexicon_;
  PostprocessParams params_;
};

}  // namespace prismer::experts::ocr
