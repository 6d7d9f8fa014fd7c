#include "geometry.h"

#include <clipper.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace prismer::experts::ocr {

namespace {

struct Pt {
  double x, y;
};

// GEOS Area::ofRingSigned over a closed ring (first point repeated at the end).
double ring_signed_area(const std::vector<Pt>& open_ring) {
  std::vector<Pt> ring = open_ring;
  if (ring.size() < 3) return 0.0;
  ring.push_back(ring.front());
  const std::size_t n = ring.size();
  Pt p0{0, 0}, p1 = ring[0], p2 = ring[1];
  const double x0 = p1.x;
  p2.x -= x0;
  double sum = 0.0;
  for (std::size_t i = 1; i < n - 1; i++) {
    p0.y = p1.y;
    p1.x = p2.x;
    p1.y = p2.y;
    p2 = ring[i + 1];
    p2.x -= x0;
    sum += p1.x * (p0.y - p2.y);
  }
  return sum / 2.0;
}

std::vector<Pt> points(const Quad& q) {
  return {{q[0], q[1]}, {q[2], q[3]}, {q[4], q[5]}, {q[6], q[7]}};
}

ClipperLib::Path to_clipper(const Quad& q) {
  // pyclipper.scale_to_clipper: <cInt>(<double>x * 2**31), truncation toward zero.
  constexpr double kScale = 2147483648.0;
  ClipperLib::Path p;
  for (int k = 0; k < 4; ++k)
    p.emplace_back(static_cast<ClipperLib::cInt>(static_cast<double>(q[2 * k]) * kScale),
                   static_cast<ClipperLib::cInt>(static_cast<double>(q[2 * k + 1]) * kScale));
  return p;
}

// One Sutherland-Hodgman step: keeps the part of `in` where inside(p) holds; `cross` gives the boundary point.
template <class Inside, class Cross>
std::vector<Pt> clip(const std::vector<Pt>& in, Inside inside, Cross cross) {
  std::vector<Pt> out;
  if (in.empty()) return out;
  Pt prev = in.back();
  bool prev_in = inside(prev);
  for (const Pt& cur : in) {
    const bool cur_in = inside(cur);
    if (cur_in) {
      if (!prev_in) out.push_back(cross(prev, cur));
      out.push_back(cur);
    } else if (prev_in) {
      out.push_back(cross(prev, cur));
    }
    prev = cur;
    prev_in = cur_in;
  }
  return out;
}

}  // namespace

double polygon_area(const Quad& q) { return std::fabs(ring_signed_area(points(q))); }

double clipper_intersection_area(const Quad& a, const Quad& b) {
  try {
    ClipperLib::Clipper c;
    if (!c.AddPath(to_clipper(a), ClipperLib::ptClip, true)) return 0.0;
    if (!c.AddPaths(ClipperLib::Paths{to_clipper(b)}, ClipperLib::ptSubject, true)) return 0.0;
    ClipperLib::Paths solution;
    c.Execute(ClipperLib::ctIntersection, solution, ClipperLib::pftEvenOdd, ClipperLib::pftEvenOdd);
    if (solution.empty()) return 0.0;
    return ClipperLib::Area(solution[0]) / 2147483648.0 / 2147483648.0;
  } catch (const std::exception&) {
    return 0.0;
  }
}

double rect_intersection_area(const Quad& rect, const Quad& poly) {
  double x_lo = rect[0], x_hi = rect[0], y_lo = rect[1], y_hi = rect[1];
  for (int k = 1; k < 4; ++k) {
    x_lo = std::min<double>(x_lo, rect[2 * k]);
    x_hi = std::max<double>(x_hi, rect[2 * k]);
    y_lo = std::min<double>(y_lo, rect[2 * k + 1]);
    y_hi = std::max<double>(y_hi, rect[2 * k + 1]);
  }
  if (x_hi <= x_lo || y_hi <= y_lo) return 0.0;  // a degenerate rectangle has no area to share
  auto at_x = [](double x) {
    return [x](const Pt& p, const Pt& q) { return Pt{x, p.y + (q.y - p.y) * (x - p.x) / (q.x - p.x)}; };
  };
  auto at_y = [](double y) {
    return [y](const Pt& p, const Pt& q) { return Pt{p.x + (q.x - p.x) * (y - p.y) / (q.y - p.y), y}; };
  };
  std::vector<Pt> v = points(poly);
  v = clip(v, [&](const Pt& p) { return p.x >= x_lo; }, at_x(x_lo));
  v = clip(v, [&](const Pt& p) { return p.x <= x_hi; }, at_x(x_hi));
  v = clip(v, [&](const Pt& p) { return p.y >= y_lo; }, at_y(y_lo));
  v = clip(v, [&](const Pt& p) { return p.y <= y_hi; }, at_y(y_hi));
  return std::fabs(ring_signed_area(v));
}

}  // namespace prismer::experts::ocr
