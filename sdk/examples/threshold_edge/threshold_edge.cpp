// threshold_edge: an example expert plugin written against the Prismer SDK alone.
//
// It marks a pixel as an edge when the grey-level gradient there exceeds `threshold`, and stores the
// result like Prismer's edge expert: a 1-channel PNG at the image's size (255 = edge).
#include <prismer/config.h>
#include <prismer/expert.h>
#include <prismer/plugin.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace {

class ThresholdEdge final : public prismer::Expert {
 public:
  explicit ThresholdEdge(const prismer::Config& config) : threshold_(config.get<double>("threshold")) {
    if (threshold_ <= 0) config["threshold"].fail("must be positive");
  }

  prismer::LabelSpec spec() const override {
    prismer::LabelSpec s;
    s.name = "threshold_edge";
    s.channels = 1;
    s.kind = prismer::LabelKind::dense;
    s.stem = "edge";  // feeds the backbone's edge stem
    return s;
  }

  std::vector<prismer::Label> predict(const std::vector<prismer::Image>& images,
                                      const std::vector<prismer::ExpertContext>&) override {
    std::vector<prismer::Label> labels;
    for (const prismer::Image& img : images) {
      prismer::Label label;
      label.map = prismer::Image(img.width, img.height, 1);
      auto grey = [&](int y, int x) {
        y = std::clamp(y, 0, img.height - 1);
        x = std::clamp(x, 0, img.width - 1);
        return 0.299 * img.at(y, x, 0) + 0.587 * img.at(y, x, 1) + 0.114 * img.at(y, x, 2);
      };
      for (int y = 0; y < img.height; ++y)
        for (int x = 0; x < img.width; ++x) {
          const double gx = grey(y, x + 1) - grey(y, x - 1);
          const double gy = grey(y + 1, x) - grey(y - 1, x);
          label.map.at(y, x) = std::hypot(gx, gy) > threshold_ ? 255 : 0;
        }
      labels.push_back(std::move(label));
    }
    return labels;
  }

  torch::Tensor encode(const prismer::Label& label) const override { return prismer::dense_encode(label); }

 private:
  double threshold_;
};

}  // namespace

PRISMER_PLUGIN(ThresholdEdge, "threshold_edge", expert, "0.1.0",
               "Example: edges where the grey-level gradient exceeds a threshold",
               "threshold: 24.0   # gradient magnitude (0-255 scale) that counts as an edge\n")
