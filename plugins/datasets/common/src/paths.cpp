// os.path.join, the label-name rule of get_expert_labels and path-component helpers.
#include "prismer/datasets/paths.h"

namespace prismer::datasets {

std::string join_path(const std::string& a, const std::string& b) {
  if (!b.empty() && b.front() == '/') return b;
  if (a.empty()) return b;
  return a.back() == '/' ? a + b : a + "/" + b;
}

std::string label_name_of(const std::string& image_path) {
  const std::size_t dot = image_path.rfind('.');
  if (dot == std::string::npos) return image_path;
  const std::string from = image_path.substr(dot);  // '.' + ext
  std::string out;
  std::size_t pos = 0;
  for (std::size_t hit; (hit = image_path.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(image_path, pos, hit - pos);
    out += ".png";
  }
  out.append(image_path, pos, std::string::npos);
  return out.substr(0, out.size() - 4);  // the last occurrence is the extension itself
}

std::string last_components(const std::string& path, int n) {
  std::size_t pos = path.size();
  for (int k = 0; k < n; ++k) {
    if (pos == 0) return path;
    const std::size_t slash = path.rfind('/', pos - 1);
    if (slash == std::string::npos) return path;
    pos = slash;
  }
  return path.substr(pos + 1);
}

std::string resolve_under(const std::string& base, const std::string& path) {
  if (base.empty() || (!path.empty() && path.front() == '/')) return path;
  if (path.empty() || path == ".") return base;
  return join_path(base, path);
}

}  // namespace prismer::datasets
