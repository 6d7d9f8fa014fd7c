// The quickstart's synthetic scenes: deterministic, and their labels and text agree with what was drawn.
#include "scene.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

using namespace prismer::synthetic;

TEST_CASE("a scene is a pure function of seed and index") {
  const Scene a = make_scene(7, 3, 48), b = make_scene(7, 3, 48), c = make_scene(7, 4, 48), d = make_scene(8, 3, 48);
  CHECK(a.rgb.pixels == b.rgb.pixels);
  CHECK(a.captions == b.captions);
  CHECK(a.rgb.pixels != c.rgb.pixels);
  CHECK(a.rgb.pixels != d.rgb.pixels);
}

TEST_CASE("labels, captions and answers agree with the drawn shapes") {
  std::set<std::string> answers(answer_list().begin(), answer_list().end());
  for (std::uint64_t i = 0; i < 200; ++i) {
    const Scene s = make_scene(1, i, 64);
    INFO("scene " << i << ": " << s.captions.front());
    REQUIRE(!s.shapes.empty());
    REQUIRE(s.shapes.size() <= 3);
    // Every pixel a shape covers is labelled with its class, nearer than the floor; the floor is background.
    std::set<int> visible;
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x) {
        const int cls = s.segmentation.at(y, x);
        if (cls == 255) {
          CHECK(s.depth.at(y, x) < 130);
        } else {
          CHECK(cls < static_cast<int>(shape_names().size()));
          CHECK(s.depth.at(y, x) >= 130);
          visible.insert(cls);
        }
      }
    for (const Shape& shape : s.shapes) {
      CHECK(visible.count(shape.kind) == 1);  // occlusion never hides a whole shape
      const std::string words = colour_names()[shape.colour] + " " + shape_names()[shape.kind];
      CHECK(s.captions.front().find(words) != std::string::npos);
    }
    for (const QuestionAnswer& qa : s.questions) CHECK(answers.count(qa.answer) == 1);
    static const char* counts[] = {"zero", "one", "two", "three"};
    CHECK(s.questions.front().answer == counts[s.shapes.size()]);
  }
}
