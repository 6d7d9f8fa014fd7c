// Synthetic scenes for the quickstart: coloured shapes in three columns, with occlusion, their exact depth and
// segmentation maps, reference captions and question/answer pairs — a task a tiny Prismer can learn in minutes.
#pragma once

#include <prismer/image.h>

#include <cstdint>
#include <string>
#include <vector>

namespace prismer::synthetic {

/// The shape classes; their index is the class id in the segmentation label (255 = background).
const std::vector<std::string>& shape_names();
/// The colours a shape can have.
const std::vector<std::string>& colour_names();
/// Every answer a question of these scenes can have (the VQA answer list).
const std::vector<std::string>& answer_list();

/// One shape: kind and colour index, column 0 (left) .. 2 (right), centre and size in pixels, and its
/// nearness rank (a larger rank is nearer and drawn later, so it occludes its neighbours).
struct Shape {
  int kind = 0;
  int colour = 0;
  int column = 0;
  double cx = 0, cy = 0, radius = 0;
  int nearness = 0;
};

struct QuestionAnswer {
  std::string question;
  std::string answer;
  std::string answer_type;  ///< "number", "yes/no" or "other" (the VQA evaluation's types)
};

/// A scene, its rendering and its text.
struct Scene {
  std::vector<Shape> shapes;               ///< sorted left to right
  Image rgb;                               ///< 3 channels
  Image depth;                             ///< 1 channel, larger = nearer (as MiDaS' inverse depth)
  Image segmentation;                      ///< 1 channel, shape class id per pixel, 255 = background
  std::vector<std::string> captions;       ///< reference captions (the first is the canonical one)
  std::vector<QuestionAnswer> questions;
};

/// Scene `index` of the stream seeded by `seed`, rendered at `size` x `size` pixels. Deterministic on every
/// platform (own integer mapping of a std::mt19937_64, no std distributions).
Scene make_scene(std::uint64_t seed, std::uint64_t index, int size);

}  // namespace prismer::synthetic
