#include "postprocess.h"

#include "numpy_ops.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <fstream>
#include <stdexcept>
#include <utility>

namespace prismer::experts::ocr {

namespace {

Quad quad_of(const Box& b) {
  Quad q;
  std::copy(b.begin(), b.begin() + 8, q.begin());
  return q;
}

// utils.py rotate_rect with the caller's arguments, in Python (double) arithmetic; numpy then stores float32.
void rotated_box(double x1, double y1, double x2, double y2, double angle, double cx, double cy, float score,
                 Box& out) {
  const double c = std::cos(angle), s = std::sin(angle);
  const double px[4] = {x1, x2, x2, x1}, py[4] = {y1, y1, y2, y2};
  for (int k = 0; k < 4; ++k) {
    const double dx = px[k] - cx, dy = py[k] - cy;
    const double nx = cx + dx * c - dy * s;
    const double ny = cy + dx * s + dy * c;
    out[2 * k] = static_cast<float>(nx);
    out[2 * k + 1] = static_cast<float>(ny);
  }
  out[8] = score;
}

// `.round()` (half to even, float32) and the clip to [0, W-1] x [0, H-1].
void round_and_clip(Box& b, int width, int height) {
  for (int k = 0; k < 8; ++k) {
    const float r = std::nearbyint(b[k]);
    const float hi = static_cast<float>((k % 2 == 0 ? width : height) - 1);
    b[k] = std::max(0.0f, std::min(hi, r));
  }
}

struct Maps {
  const float* p;
  std::int64_t h, w;
  float at(std::int64_t c, std::int64_t y, std::int64_t x) const { return p[(c * h + y) * w + x]; }
};

Maps map_of(const torch::Tensor& t, std::int64_t channels, std::int64_t h, std::int64_t w, const char* name) {
  TORCH_CHECK(t.device().is_cpu() && t.scalar_type() == torch::kFloat32 && t.is_contiguous(), "ocr postprocess: ",
              name, " must be a contiguous float32 CPU tensor");
  TORCH_CHECK(t.numel() == channels * h * w, "ocr postprocess: ", name, " has shape ", t.sizes(), ", expected [",
              channels, ", ", h, ", ", w, "]");
  return {t.data_ptr<float>(), h, w};
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool is_alpha(const std::string& s) {
  if (s.empty()) return false;
  for (const char c : s)
    if (!std::isalpha(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

NmsResult rotated_nms(const std::vector<Box>& boxes, double overlap_thresh, int num_neig,
                      const std::vector<std::vector<float>>* char_scores, double neighbour_thresh) {
  const std::size_t n = boxes.size();
  NmsResult r;
  r.new_boxes.assign(n, Box{});
  if (char_scores != nullptr) {
    if (char_scores->size() != n) throw std::invalid_argument("rotated_nms: one score row per box expected");
    r.new_scores.assign(n, std::vector<float>(n ? (*char_scores)[0].size() : 0, 0.0f));
  }
  std::vector<bool> suppressed(n, false);
  std::vector<double> areas(n);
  std::vector<float> scores(n);
  for (std::size_t i = 0; i < n; ++i) {
    areas[i] = polygon_area(quad_of(boxes[i]));
    scores[i] = boxes[i][8];
  }
  std::vector<std::int64_t> order = numpy_argsort(scores);
  std::reverse(order.begin(), order.end());  // argsort()[::-1]
  for (std::size_t oi = 0; oi < n; ++oi) {
    const auto i = static_cast<std::size_t>(order[oi]);
    if (suppressed[i]) continue;
    r.keep.push_back(static_cast<std::int64_t>(i));
    std::vector<std::size_t> neighbours;
    for (std::size_t oj = oi + 1; oj < n; ++oj) {
      const auto j = static_cast<std::size_t>(order[oj]);
      if (suppressed[j]) continue;
      // pc.AddPath(polygons[i], PT_CLIP); pc.AddPaths([polygons[j]], PT_SUBJECT)
      const double inter = clipper_intersection_area(quad_of(boxes[i]), quad_of(boxes[j]));
      const double uni = areas[i] + areas[j] - inter;
      const double iou = uni > 0 ? inter / uni : 0.0;
      if (uni > 0 && iou > overlap_thresh) suppressed[j] = true;
      if (iou > neighbour_thresh) neighbours.push_back(j);
    }
    if (static_cast<int>(neighbours.size()) >= num_neig) {
      neighbours.push_back(i);
      // (boxes[neighbours, :8] * s).sum(axis=0) / s.sum(): float32, rows summed in order (axis 0 is not pairwise).
      std::vector<float> s(neighbours.size());
      for (std::size_t k = 0; k < neighbours.size(); ++k) s[k] = boxes[neighbours[k]][8] - 0.0f;  // minScore 0
      const float total = 0.0f + numpy_sum(s.data(), static_cast<std::int64_t>(s.size()));
      for (int c = 0; c < 8; ++c) {
        float acc = 0.0f;
        for (std::size_t k = 0; k < neighbours.size(); ++k) acc += boxes[neighbours[k]][c] * s[k];
        r.new_boxes[i][c] = acc / total;
      }
      r.new_boxes[i][8] = boxes[i][8];
      if (char_scores != nullptr) {
        const std::size_t classes = (*char_scores)[i].size();
        for (std::size_t c = 0; c < classes; ++c) {
          float acc = 0.0f;
          for (std::size_t k = 0; k < neighbours.size(); ++k) acc += (*char_scores)[neighbours[k]][c] * s[k];
          r.new_scores[i][c] = acc / total;
        }
      }
    } else {
      for (const std::size_t ni : neighbours) suppressed[ni] = false;
      r.keep.pop_back();
    }
  }
  return r;
}

CharDict default_char_dict() {
  // char_dict.txt of the original, in its index order (letters are upper-cased by load_char_dict).
  static const char* const kChars = "abcdefghijklmnopqrstuvwxyz0123456789!#\"%$'&)(+*-,/.;:=<?>@[]\\_^`{}|~";
  CharDict d;
  for (int i = 0; kChars[i] != '\0'; ++i) d[i] = upper(std::string(1, kChars[i]));
  return d;
}

CharDict load_char_dict(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the OCR char dictionary");
  CharDict d;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    // line.strip('\n').split(chr(31)): the character, then its index.
    const std::size_t sep = line.find('\x1f');
    if (sep == std::string::npos)
      throw std::runtime_error(path + ":" + std::to_string(number) + ": expected 'char<0x1f>index'");
    try {
      std::size_t used = 0;
      const std::string idx = line.substr(sep + 1);
      const int v = std::stoi(idx, &used);
      d[v] = upper(line.substr(0, sep));
    } catch (const std::exception&) {
      throw std::runtime_error(path + ":" + std::to_string(number) + ": bad class index in '" + line + "'");
    }
  }
  if (d.empty()) throw std::runtime_error(path + ": the OCR char dictionary is empty");
  return d;
}

std::vector<std::string> load_lexicon(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the OCR lexicon");
  std::vector<std::string> words;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind('#', 0) == 0) continue;
    // str.strip(): ASCII whitespace at both ends.
    const auto space = [](unsigned char c) { return std::isspace(c) != 0; };
    auto b = std::find_if_not(line.begin(), line.end(), space);
    auto e = std::find_if_not(line.rbegin(), line.rend(), space).base();
    words.emplace_back(b < e ? std::string(b, e) : std::string());
  }
  return words;
}

int edit_distance(const std::string& a, const std::string& b) {
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::pair<int, std::string> match_lexicon(const std::string& text, const std::vector<std::string>& lexicon) {
  const std::string t = upper(text);
  int best = INT_MAX;
  std::size_t best_idx = lexicon.size();
  for (std::size_t idx = 0; idx < lexicon.size(); ++idx) {
    const std::string& voc = lexicon[idx];
    // The distance is at least the length difference: such words cannot be strictly closer (nor exact).
    const std::size_t diff = voc.size() > t.size() ? voc.size() - t.size() : t.size() - voc.size();
    if (best != INT_MAX && diff >= static_cast<std::size_t>(best)) continue;
    const int dist = edit_distance(t, upper(voc));
    if (dist == 0) return {0, text};
    if (dist < best) {
      best = dist;
      best_idx = idx;
    }
  }
  if (best_idx == lexicon.size()) return {INT_MAX, std::string()};
  return {best, lexicon[best_idx]};
}

Postprocessor::Postprocessor(CharDict char_dict, std::vector<std::string> lexicon, PostprocessParams params)
    : char_dict_(std::move(char_dict)), lexicon_(std::move(lexicon)), params_(params) {}

std::vector<WordInstance> Postprocessor::filter(const std::vector<WordInstance>& words) const {
  std::vector<WordInstance> out;
  for (WordInstance w : words) {
    if (w.text_score < 0.80f) continue;
    if ((!is_alpha(w.text) && w.text_score >= 0.9f) || w.text_score >= 0.98f) {
      out.push_back(std::move(w));
      continue;
    }
    auto [dist, voc] = match_lexicon(w.text, lexicon_);
    if (dist == INT_MAX) continue;  // no lexicon: nothing to correct against
    w.text = voc;
    w.edit_distance = dist;
    const int allowed = voc.size() <= 2 ? 0 : voc.size() <= 5 ? 1 : 2;
    if (dist <= allowed) out.push_back(std::move(w));
  }
  return out;
}

PostprocessTrace Postprocessor::run(const torch::Tensor& word_fg_t, const torch::Tensor& word_tblr_t,
                                    const torch::Tensor& word_orient_t, const torch::Tensor& char_fg_t,
                                    const torch::Tensor& char_tblr_t, const torch::Tensor& char_cls_t, double scale_w,
                                    double scale_h, int width, int height) const {
  TORCH_CHECK(word_fg_t.dim() == 2, "ocr postprocess: word_fg must be [h, w], got ", word_fg_t.sizes());
  const std::int64_t h = word_fg_t.size(0), w = word_fg_t.size(1);
  const std::int64_t classes = char_cls_t.size(0);
  const Maps word_fg = map_of(word_fg_t, 1, h, w, "word_fg"), word_tblr = map_of(word_tblr_t, 4, h, w, "word_tblr"),
             orient = map_of(word_orient_t, 1, h, w, "word_orient"), char_fg = map_of(char_fg_t, 1, h, w, "char_fg"),
             char_tblr = map_of(char_tblr_t, 4, h, w, "char_tblr"),
             char_cls = map_of(char_cls_t, classes, h, w, "char_cls");
  PostprocessTrace tr;

  // parse_word_bboxes: every pixel with fg > 0.5, row-major (np.where), a rotated box from t, b, l, r, angle.
  const double ws = static_cast<double>(params_.word_stride);
  const double sw = scale_w * ws, sh = scale_h * ws;
  for (std::int64_t y = 0; y < h; ++y)
    for (std::int64_t x = 0; x < w; ++x) {
      const float score = word_fg.at(0, y, x);
      if (!(score > params_.word_min_score)) continue;
      const double t = word_tblr.at(0, y, x), b = word_tblr.at(1, y, x), l = word_tblr.at(2, y, x),
                   r = word_tblr.at(3, y, x);
      const double xd = static_cast<double>(x), yd = static_cast<double>(y);
      Box box;
      rotated_box(sw * (xd - l), sh * (yd - t), sw * (xd + r), sh * (yd + b), orient.at(0, y, x), sw * xd, sh * yd,
                  score, box);
      tr.nms_word_input.push_back(box);
    }
  tr.nms_word = rotated_nms(tr.nms_word_input, params_.word_nms_iou, 1);
  for (const std::int64_t k : tr.nms_word.keep) {
    Box b = tr.nms_word.new_boxes[static_cast<std::size_t>(k)];
    round_and_clip(b, width, height);
    tr.word_bboxes.push_back(b);
  }

  // parse_char: pixels with word fg > 0.5 and char fg > 0.25, axis-parallel boxes (angle 0.0), class probabilities.
  const double cs = static_cast<double>(params_.char_stride);
  const double csw = scale_w * cs, csh = scale_h * cs;
  for (std::int64_t y = 0; y < h; ++y)
    for (std::int64_t x = 0; x < w; ++x) {
      if (!(word_fg.at(0, y, x) > params_.word_min_score && char_fg.at(0, y, x) > params_.char_min_score)) continue;
      const double t = char_tblr.at(0, y, x), b = char_tblr.at(1, y, x), l = char_tblr.at(2, y, x),
                   r = char_tblr.at(3, y, x);
      const double xd = static_cast<double>(x), yd = static_cast<double>(y);
      Box box;
      rotated_box(csw * (xd - l), csh * (yd - t), csw * (xd + r), csh * (yd + b), 0.0, csw * xd, csh * yd,
                  char_fg.at(0, y, x), box);
      tr.nms_char_input.push_back(box);
      tr.char_cand_rc.push_back({y, x});
      std::vector<float> cls(static_cast<std::size_t>(classes));
      for (std::int64_t c = 0; c < classes; ++c) cls[static_cast<std::size_t>(c)] = char_cls.at(c, y, x);
      tr.char_cand_cls.push_back(std::move(cls));
    }
  tr.nms_char = rotated_nms(tr.nms_char_input, params_.char_nms_iou, 1, &tr.char_cand_cls);
  for (const std::int64_t k : tr.nms_char.keep) {
    Box b = tr.nms_char.new_boxes[static_cast<std::size_t>(k)];
    round_and_clip(b, width, height);
    tr.char_bboxes.push_back(b);
    tr.char_scores.push_back(tr.nms_char.new_scores[static_cast<std::size_t>(k)]);
  }

  // parse_words: each character goes to the word of highest IoU (if > 0); a word's characters are read left to
  // right along x of (mean corner - word corner 0).
  const std::size_t num_word = tr.word_bboxes.size(), num_char = tr.char_bboxes.size();
  if (num_word > 0) {
    std::vector<double> word_area(num_word), char_area(num_char);
    for (std::size_t j = 0; j < num_word; ++j) word_area[j] = polygon_area(quad_of(tr.word_bboxes[j]));
    for (std::size_t i = 0; i < num_char; ++i) char_area[i] = polygon_area(quad_of(tr.char_bboxes[i]));
    std::vector<std::vector<std::size_t>> word_chars(num_word);
    for (std::size_t i = 0; i < num_char; ++i) {
      const Box& cb = tr.char_bboxes[i];
      std::vector<float> match(num_word, 0.0f);
      for (std::size_t j = 0; j < num_word; ++j) {
        const Box& wb = tr.word_bboxes[j];
        float cx_min = cb[0], cx_max = cb[0], cy_min = cb[1], cy_max = cb[1];
        float wx_min = wb[0], wx_max = wb[0], wy_min = wb[1], wy_max = wb[1];
        for (int k = 1; k < 4; ++k) {
          cx_min = std::min(cx_min, cb[2 * k]);
          cx_max = std::max(cx_max, cb[2 * k]);
          cy_min = std::min(cy_min, cb[2 * k + 1]);
          cy_max = std::max(cy_max, cb[2 * k + 1]);
          wx_min = std::min(wx_min, wb[2 * k]);
          wx_max = std::max(wx_max, wb[2 * k]);
          wy_min = std::min(wy_min, wb[2 * k + 1]);
          wy_max = std::max(wy_max, wb[2 * k + 1]);
        }
        if (cx_min > wx_max || cx_max < wx_min || cy_min > wy_max || cy_max < wy_min) continue;
        const double inter = rect_intersection_area(quad_of(cb), quad_of(wb));
        const double uni = char_area[i] + word_area[j] - inter;
        match[j] = uni > 0 ? static_cast<float>(inter / uni) : 0.0f;
      }
      const auto best = static_cast<std::size_t>(std::max_element(match.begin(), match.end()) - match.begin());
      if (match[best] > 0) word_chars[best].push_back(i);
    }
    for (std::size_t j = 0; j < num_word; ++j) {
      const std::vector<std::size_t>& chars = word_chars[j];
      if (chars.empty()) continue;
      const Box& wb = tr.word_bboxes[j];
      std::vector<float> proj(chars.size());
      for (std::size_t k = 0; k < chars.size(); ++k) {
        const Box& cb = tr.char_bboxes[chars[k]];
        float sum = 0.0f;
        for (int p = 0; p < 4; ++p) sum += cb[2 * p] - wb[0];
        proj[k] = sum / 4.0f;  // .mean(axis=1) then the dot with [1, 0]
      }
      const std::vector<std::int64_t> order = numpy_argsort(proj);
      WordInstance wi;
      wi.quad = quad_of(wb);
      wi.bbox_score = wb[8];
      std::vector<float> maxima;
      for (const std::int64_t o : order) {
        const std::vector<float>& s = tr.char_scores[chars[static_cast<std::size_t>(o)]];
        const auto arg = static_cast<int>(std::max_element(s.begin(), s.end()) - s.begin());
        const auto it = char_dict_.find(arg);
        if (it == char_dict_.end())
          throw std::runtime_error("ocr postprocess: class " + std::to_string(arg) + " is not in the char dictionary");
        wi.text += it->second;
        maxima.push_back(s[static_cast<std::size_t>(arg)]);
      }
      wi.text_score = numpy_mean(maxima);
      wi.num_chars = static_cast<int>(chars.size());
      tr.words_before_filter.push_back(std::move(wi));
    }
  }
  tr.words = filter(tr.words_before_filter);
  return tr;
}

}  // namespace prismer::experts::ocr
