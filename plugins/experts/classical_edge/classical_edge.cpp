// classical_edge: an edge expert that needs no downloaded weights (Canny or Sobel through OpenCV).
// It writes labels in the layout and encoding of Prismer's edge expert (a 1-channel uint8 PNG at the
// image's size, brighter = stronger edge), so it can stand in for DexiNed in demos and tests.
#include <prismer/config.h>
#include <prismer/expert.h>
#include <prismer/plugin.h>

#include <opencv2/imgproc.hpp>

namespace {

class ClassicalEdge final : public prismer::Expert {
 public:
  explicit ClassicalEdge(const prismer::Config& config)
      : label_name_(config.get<std::string>("label_name")),
        method_(config.get<std::string>("method")),
        low_(config.get<double>("low_threshold")),
        high_(config.get<double>("high_threshold")),
        blur_(config.get<int>("blur")) {
    if (method_ != "canny" && method_ != "sobel") config["method"].fail("expected 'canny' or 'sobel', got '" + method_ + "'");
    if (blur_ < 0 || (blur_ > 0 && blur_ % 2 == 0)) config["blur"].fail("must be 0 (off) or an odd kernel size");
    if (low_ < 0 || high_ < low_) config["high_threshold"].fail("thresholds must satisfy 0 <= low_threshold <= high_threshold");
    if (label_name_.empty()) config["label_name"].fail("must not be empty");
  }

  prismer::LabelSpec spec() const override {
    prismer::LabelSpec s;
    s.name = label_name_;
    s.channels = 1;
    s.kind = prismer::LabelKind::dense;
    s.stem = "edge";
    s.map_channels = 1;
    return s;
  }

  std::vector<prismer::Label> predict(const std::vector<prismer::Image>& images,
                                      const std::vector<prismer::ExpertContext>&) override {
    std::vector<prismer::Label> out;
    out.reserve(images.size());
    for (const prismer::Image& image : images) out.push_back(edges(image));
    return out;
  }

  torch::Tensor encode(const prismer::Label& label) const override { return prismer::dense_encode(label); }

 private:
  prismer::Label edges(const prismer::Image& image) const {
    if (image.channels != 3) throw std::runtime_error("classical_edge: expected an RGB image");
    cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<std::uint8_t*>(image.pixels.data()));
    cv::Mat grey, result;
    cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
    if (blur_ > 0) cv::GaussianBlur(grey, grey, cv::Size(blur_, blur_), 0);
    if (method_ == "canny") {
      cv::Canny(grey, result, low_, high_);
    } else {
      cv::Mat gx, gy, magnitude;
      cv::Sobel(grey, gx, CV_32F, 1, 0);
      cv::Sobel(grey, gy, CV_32F, 0, 1);
      cv::magnitude(gx, gy, magnitude);
      double max_value = 0;
      cv::minMaxLoc(magnitude, nullptr, &max_value);
      magnitude.convertTo(result, CV_8U, max_value > 0 ? 255.0 / max_value : 0.0);
    }
    prismer::Label label;
    label.map = prismer::Image(image.width, image.height, 1);
    for (int y = 0; y < image.height; ++y)
      std::copy(result.ptr<std::uint8_t>(y), result.ptr<std::uint8_t>(y) + image.width, &label.map.at(y, 0));
    return label;
  }

  std::string label_name_;
  std::string method_;
  double low_;
  double high_;
  int blur_;
};

}  // namespace

PRISMER_PLUGIN(ClassicalEdge, "classical_edge", expert, "1.0.0",
               "Canny or Sobel edges with OpenCV: an edge expert that needs no downloaded weights",
               "label_name: edge       # label folder, and the backbone input it feeds\n"
               "method: canny          # canny | sobel\n"
               "low_threshold: 50.0    # Canny hysteresis thresholds\n"
               "high_threshold: 150.0\n"
               "blur: 3                # Gaussian blur kernel before the gradients (0 = off)\n")
