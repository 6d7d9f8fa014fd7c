// JSON file input and atomic text file output.
#include "prismer/metrics/json_io.h"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <unistd.h>

namespace prismer::metrics {

std::string file_error(const std::filesystem::path& path, const std::string& problem) {
  return path.string() + ": " + problem;
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw std::runtime_error(file_error(path, "file not found"));
  if (std::filesystem::is_directory(path, ec)) throw std::runtime_error(file_error(path, "is a directory"));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(file_error(path, "cannot open file for reading"));
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(file_error(path, std::string("malformed JSON: ") + e.what()));
  }
}

void write_text_file_atomic(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::path tmp = path;
  tmp += ".tmp." + std::to_string(static_cast<long long>(::getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(file_error(path, "cannot open temporary file " + tmp.string() + " for writing"));
    out << content;
    out.flush();
    if (!out) {
      out.close();
      std::error_code ignore;
      std::filesystem::remove(tmp, ignore);
      throw std::runtime_error(file_error(path, "write failed"));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignore;
    std::filesystem::remove(tmp, ignore);
    throw std::runtime_error(file_error(path, "cannot rename temporary file into place: " + ec.message()));
  }
}

}  // namespace prismer::metrics
