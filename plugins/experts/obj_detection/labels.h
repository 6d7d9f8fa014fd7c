// The obj_detection expert's image -> network input and detections -> label steps, as the original
// (experts/obj_detection/generate_dataset.py, experts/generate_objdet.py) does them.
#pragma once

#include <prismer/image.h>

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace prismer::experts::obj_detection {

/// torchvision 0.14 `Resize(size, max_size=max_size)` output size (width, height) for a width x height image: the
/// short side becomes `size`, the long side int(size * long / short); when that exceeds max_size the long side
/// becomes max_size and the short side int(max_size * short' / long') (Python float arithmetic).
std::pair<int, int> resized_size(int width, int height, int size = 479, int max_size = 480);

/// generate_dataset.py's image: Pillow-exact bilinear resize to resized_size(), then `np.array(img)[:, :, ::-1]`:
/// float32 [3, h, w] in **BGR** order, 0..255. Throws std::invalid_argument unless `rgb` is a non-empty RGB image.
torch::Tensor preprocess(const Image& rgb);

/// generate_dataset.py's depth: the depth label ('L') resized with the same transform, / 255: float32 [h, w].
/// Throws std::invalid_argument unless `depth` is a non-empty 1-channel image.
torch::Tensor depth_input(const Image& depth);

/// get_mask_labels of generate_objdet.py at the resized size: box masks `[int(y1):int(y2), int(x1):int(x2)]` in
/// score order, near-duplicates (mask IoU > 0.95) dropped, overlaps resolved by containment and mean depth
/// (`depth` [h, w]); returns the float map (255 = background, else the instance index) and each kept instance's
/// class.
std::pair<torch::Tensor, std::vector<std::int64_t>> mask_labels(const torch::Tensor& depth, const torch::Tensor& boxes,
                                                                const torch::Tensor& classes);

/// The files generate_objdet.py writes for one image: the float map through `convert('L')` (truncation), NEAREST-
/// resized to width x height, and the `{"<instance>": class}` JSON (json.dump's default separators).
Label make_label(const torch::Tensor& mask, const std::vector<std::int64_t>& classes, int width, int height);

/// json.dump({0: c0, 1: c1, ...}) as Python writes it, e.g. `{"0": 34, "1": 709}`; `{}` when empty.
std::string instance_json(const std::vector<std::int64_t>& classes);

}  // namespace prismer::experts::obj_detection
