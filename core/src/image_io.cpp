// Image and file I/O: decoding through OpenCV (when built with it) and atomic writes.
#include <prismer/image.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

#ifdef PRISMER_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace prismer {

namespace fs = std::filesystem;

void write_file_atomic(const std::string& path, const std::string& bytes) {
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  // Unique per process and call, so concurrent writers never share a temporary.
  static std::atomic<unsigned> counter{0};
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(path + ": cannot create the file");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      out.close();
      fs::remove(tmp);
      throw std::runtime_error(path + ": write failed (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp);
    throw std::runtime_error(path + ": cannot rename into place: " + ec.message());
  }
}

#ifdef PRISMER_HAVE_OPENCV

namespace {

// OpenCV decodes a truncated JPEG with only a warning; the original (Pillow) refuses it, and so do we.
bool jpeg_is_truncated(const std::string& bytes) {
  if (bytes.size() < 4 || static_cast<unsigned char>(bytes[0]) != 0xFF || static_cast<unsigned char>(bytes[1]) != 0xD8)
    return false;
  const std::size_t tail = std::min<std::size_t>(bytes.size(), 1024);
  return bytes.find("\xFF\xD9", bytes.size() - tail) == std::string::npos;  // no end-of-image marker near the end
}

Image from_mat(const cv::Mat& mat) {
  cv::Mat m = mat;
  if (m.depth() != CV_8U) throw std::runtime_error("not an 8-bit image");
  if (m.channels() == 3) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  if (!m.isContinuous()) m = m.clone();
  Image img;
  img.width = m.cols;
  img.height = m.rows;
  img.channels = m.channels();
  img.pixels.assign(m.data, m.data + m.total() * m.elemSize());
  return img;
}

}  // namespace

Image decode_image(const std::string& bytes, const std::string& name, int channels) {
  if (bytes.empty()) throw std::runtime_error(name + ": empty file, not an image");
  if (jpeg_is_truncated(bytes)) throw std::runtime_error(name + ": corrupt image (truncated JPEG)");
  const int flags = (channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR) | cv::IMREAD_IGNORE_ORIENTATION;
  cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
  cv::Mat mat;
  try {
    mat = cv::imdecode(buffer, flags);
  } catch (const cv::Exception& e) {
    throw std::runtime_error(name + ": corrupt image (" + e.msg + ")");
  }
  if (mat.empty()) throw std::runtime_error(name + ": not a decodable image (corrupt or unknown format)");
  try {
    return from_mat(mat);
  } catch (const std::exception& e) {
    throw std::runtime_error(name + ": " + e.what());
  }
}

Image read_image(const std::string& path, int channels) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + (fs::exists(path) ? ": cannot be opened" : ": no such file"));
  std::stringstream ss;
  ss << in.rdbuf();
  return decode_image(ss.str(), path, channels);
}

void write_png(const std::string& path, const Image& image) { write_image(path, image); }

void write_image(const std::string& path, const Image& image) {
  if (image.empty()) throw std::runtime_error(path + ": refusing to write an empty image");
  const int type = image.channels == 1 ? CV_8UC1 : image.channels == 3 ? CV_8UC3 : -1;
  if (type < 0) throw std::runtime_error(path + ": cannot write an image with " + std::to_string(image.channels) + " channels");
  cv::Mat mat(image.height, image.width, type, const_cast<std::uint8_t*>(image.pixels.data()));
  if (image.channels == 3) {
    cv::Mat bgr;  // a new buffer: the caller's image must stay RGB
    cv::cvtColor(mat, bgr, cv::COLOR_RGB2BGR);
    mat = bgr;
  }
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext != ".png" && ext != ".jpg" && ext != ".jpeg") throw std::runtime_error(path + ": can only write .png, .jpg or .jpeg");
  std::vector<unsigned char> encoded;
  std::vector<int> params;
  if (ext != ".png") params = {cv::IMWRITE_JPEG_QUALITY, 95};
  if (!cv::imencode(ext, mat, encoded, params)) throw std::runtime_error(path + ": image encoding failed");
  write_file_atomic(path, std::string(encoded.begin(), encoded.end()));
}

#else

Image decode_image(const std::string&, const std::string& name, int) {
  throw std::runtime_error(name + ": this build has no image codecs (configured with PRISMER_WITH_OPENCV=OFF)");
}
Image read_image(const std::string& path, int channels) { return decode_image({}, path, channels); }
void write_png(const std::string& path, const Image& image) { write_image(path, image); }
void write_image(const std::string& path, const Image&) {
  throw std::runtime_error(path + ": this build has no image codecs (configured with PRISMER_WITH_OPENCV=OFF)");
}

#endif

}  // namespace prismer
