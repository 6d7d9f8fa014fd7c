// The polygon arithmetic of CharNet's post-processing, computed the way the original's libraries do it:
// Clipper 6.4.2 (the engine pyclipper wraps) for NMS intersections, GEOS's shoelace for shapely areas.
#pragma once

#include <array>

namespace prismer::experts::ocr {

/// A quadrilateral x1, y1, ..., x4, y4 (float32, as the original's numpy arrays hold it).
using Quad = std::array<float, 8>;

/// shapely `Polygon(quad).area` (GEOS Area::ofRingSigned on the closed ring, absolute value), in double.
double polygon_area(const Quad& q);

/// rotated_nms.py's intersection: both quads scaled by 2^31 and truncated to integers (pyclipper.scale_to_clipper),
/// Clipper intersection (even-odd fill, `b` the subject, `a` the clip), area of the first output polygon scaled back
/// by 2^31 twice. 0 when there is no intersection or Clipper rejects a path (the original's `except: inter = 0`).
double clipper_intersection_area(const Quad& a, const Quad& b);

/// shapely `rect.intersection(poly).area` for an axis-parallel rectangle `rect` (a character box) and a simple
/// quadrilateral `poly` (a word box): the quad clipped by the rectangle's four half-planes.
double rect_intersection_area(const Quad& rect, const Quad& poly);

}  // namespace prismer::experts::ocr
