// One picture per image: the photo and every expert label found for it side by side, in the spirit of the original's
// demo_vis.py (depth and edge through colour maps, normals as RGB, segmentation and detection as palette overlays,
// OCR words boxed with their text). Used by `prismer visualize` and the demo pipeline.
#pragma once

#include <filesystem>

namespace prismer::cli {

/// Draws the picture of `image`'s labels found under `label_root` (`<expert>/<dataset>/<relative path>.png`) and
/// writes it to `target` (PNG, atomically). Returns how many expert labels were found. Throws std::runtime_error
/// when the image cannot be read or the picture cannot be written.
int write_label_picture(const std::filesystem::path& label_root, const std::filesystem::path& image,
                        const std::filesystem::path& target);

}  // namespace prismer::cli
