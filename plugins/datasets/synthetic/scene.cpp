#include "scene.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace prismer::synthetic {

namespace {

const std::vector<std::string> kShapes = {"circle", "square", "triangle"};
const std::vector<std::string> kColours = {"red", "green", "blue", "yellow", "white"};
const std::uint8_t kRgb[5][3] = {{220, 40, 40}, {40, 190, 60}, {50, 80, 230}, {235, 215, 40}, {235, 235, 235}};
const std::vector<std::string> kPositions = {"on the left", "in the middle", "on the right"};
const std::vector<std::string> kNumbers = {"zero", "one", "two", "three"};

// Platform-independent draws (std::uniform_*_distribution differ between standard libraries).
struct Draw {
  std::mt19937_64 engine;
  int below(int n) { return static_cast<int>(engine() % static_cast<std::uint64_t>(n)); }
  double unit() { return static_cast<double>(engine() >> 11) * (1.0 / 9007199254740992.0); }
  double between(double lo, double hi) { return lo + (hi - lo) * unit(); }
};

bool inside(const Shape& s, double x, double y) {
  const double dx = x - s.cx, dy = y - s.cy, r = s.radius;
  switch (s.kind) {
    case 0: return dx * dx + dy * dy <= r * r;
    case 1: return std::abs(dx) <= r * 0.85 && std::abs(dy) <= r * 0.85;
    default: {  // upward triangle inscribed in the circle of radius r
      const double top = -r, bottom = r * 0.6;
      if (dy < top || dy > bottom) return false;
      const double half = (dy - top) / (bottom - top) * r * 0.95;
      return std::abs(dx) <= half;
    }
  }
}

std::string phrase(const Shape& s) {
  return "a " + kColours[s.colour] + " " + kShapes[s.kind] + " " + kPositions[s.column];
}

std::string join_phrases(const std::vector<Shape>& shapes) {
  std::string out;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    if (i > 0) out += (i + 1 == shapes.size()) ? " and " : ", ";
    out += phrase(shapes[i]);
  }
  return out;
}

void render(Scene& scene, int size) {
  scene.rgb = Image(size, size, 3);
  scene.depth = Image(size, size, 1);
  scene.segmentation = Image(size, size, 1, 255);
  // Background: a grey floor whose depth recedes towards the top, like a photographed table.
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      const auto shade = static_cast<std::uint8_t>(70 + 40 * y / size);
      for (int c = 0; c < 3; ++c) scene.rgb.at(y, x, c) = shade;
      scene.depth.at(y, x) = static_cast<std::uint8_t>(20 + 60 * y / size);
    }
  std::vector<const Shape*> order;
  for (const Shape& s : scene.shapes) order.push_back(&s);
  std::sort(order.begin(), order.end(), [](const Shape* a, const Shape* b) { return a->nearness < b->nearness; });
  for (const Shape* s : order) {
    const auto depth = static_cast<std::uint8_t>(130 + 40 * s->nearness);
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x) {
        if (!inside(*s, x + 0.5, y + 0.5)) continue;
        for (int c = 0; c < 3; ++c) scene.rgb.at(y, x, c) = kRgb[s->colour][c];
        scene.depth.at(y, x) = depth;
        scene.segmentation.at(y, x) = static_cast<std::uint8_t>(s->kind);
      }
  }
}

void ask(Scene& scene, Draw& draw) {
  const auto& shapes = scene.shapes;
  std::vector<QuestionAnswer> pool;
  pool.push_back({"how many shapes are there?", kNumbers[shapes.size()], "number"});
  const Shape& pick = shapes[draw.below(static_cast<int>(shapes.size()))];
  pool.push_back({"what shape is " + kPositions[pick.column] + "?", kShapes[pick.kind], "other"});
  pool.push_back({"what color is the shape " + kPositions[pick.column] + "?", kColours[pick.colour], "other"});
  const int kind = draw.below(static_cast<int>(kShapes.size()));
  const bool present = std::any_of(shapes.begin(), shapes.end(), [&](const Shape& s) { return s.kind == kind; });
  pool.push_back({"is there a " + kShapes[kind] + "?", present ? "yes" : "no", "yes/no"});
  const int colour = draw.below(static_cast<int>(kColours.size()));
  const bool has_colour = std::any_of(shapes.begin(), shapes.end(), [&](const Shape& s) { return s.colour == colour; });
  pool.push_back({"is there anything " + kColours[colour] + "?", has_colour ? "yes" : "no", "yes/no"});
  scene.questions = pool;
}

}  // namespace

const std::vector<std::string>& shape_names() { return kShapes; }
const std::vector<std::string>& colour_names() { return kColours; }

const std::vector<std::string>& answer_list() {
  static const std::vector<std::string> answers = [] {
    std::vector<std::string> a = {"one", "two", "three", "yes", "no"};
    a.insert(a.end(), kShapes.begin(), kShapes.end());
    a.insert(a.end(), kColours.begin(), kColours.end());
    return a;
  }();
  return answers;
}

Scene make_scene(std::uint64_t seed, std::uint64_t index, int size) {
  Draw draw{std::mt19937_64(seed * 0x9E3779B97F4A7C15ULL + index)};
  Scene scene;
  const int count = 1 + draw.below(3);
  std::vector<int> columns = {0, 1, 2};
  for (int i = 2; i > 0; --i) std::swap(columns[i], columns[draw.below(i + 1)]);  // Fisher-Yates
  std::vector<int> nearness(count);
  for (int i = 0; i < count; ++i) nearness[i] = i;
  for (int i = count - 1; i > 0; --i) std::swap(nearness[i], nearness[draw.below(i + 1)]);
  const double cell = size / 3.0;
  for (int i = 0; i < count; ++i) {
    Shape s;
    s.kind = draw.below(static_cast<int>(kShapes.size()));
    s.colour = draw.below(static_cast<int>(kColours.size()));
    s.column = columns[i];
    s.radius = draw.between(0.36, 0.62) * cell;  // big ones reach into the next column: occlusion
    s.cx = (s.column + 0.5) * cell + draw.between(-0.12, 0.12) * cell;
    s.cy = size * draw.between(0.35, 0.65);
    s.nearness = nearness[i];
    scene.shapes.push_back(s);
  }
  std::sort(scene.shapes.begin(), scene.shapes.end(), [](const Shape& a, const Shape& b) { return a.column < b.column; });
  render(scene, size);
  const std::string text = join_phrases(scene.shapes);
  scene.captions = {text, "there is " + text, text + " on a grey table"};
  ask(scene, draw);
  return scene;
}

}  // namespace prismer::synthetic
