// The COCO image id train_caption.py writes into the result file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace prismer::datasets {

/// `int(os.path.basename(path).strip('.jpg').split('_')[-1])`: note that `strip('.jpg')` removes the
/// *characters* '.', 'j', 'p', 'g' from both ends, as the original does. nullopt when the rest is not an integer.
std::optional<std::int64_t> coco_image_id(const std::string& image_path);

}  // namespace prismer::datasets
