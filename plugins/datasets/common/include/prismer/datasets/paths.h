// Path rules of the original data code (os.path.join, the label file of an image path).
#pragma once

#include <string>

namespace prismer::datasets {

/// Python `os.path.join(a, b)` for two components: an absolute `b` wins, an empty `a` gives `b`.
std::string join_path(const std::string& a, const std::string& b);

/// The label name (label file without ".png") of an image path as `get_expert_labels` derives it:
/// `image_path.replace('.' + ext, '.png')` with `ext` after the last dot (every occurrence, as Python's
/// str.replace), minus the final ".png". A path without a dot is its own label name.
std::string label_name_of(const std::string& image_path);

/// The last `n` '/'-separated components of `path` joined by '/' (the original's `split('/')[-2] + '/' +
/// split('/')[-1]` for n = 2). Fewer components: the whole path.
std::string last_components(const std::string& path, int n);

/// `path` when absolute or `base` is empty, else `base/path` (config paths relative to a dataset root).
std::string resolve_under(const std::string& base, const std::string& path);

}  // namespace prismer::datasets
