/// \file json_io.h
/// Reading JSON input files and writing output files atomically, with errors that name the file.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace prismer::metrics {

/// Parses a JSON file. Throws std::runtime_error("<path>: ...") when it cannot be read or parsed.
nlohmann::json read_json_file(const std::filesystem::path& path);

/// Writes `content` to `path` atomically: a temporary file in the same folder, then rename().
/// Throws std::runtime_error naming the path on failure (the temporary file is removed).
void write_text_file_atomic(const std::filesystem::path& path, const std::string& content);

/// Builds the message "<path>: <problem>" used by every input error of this library.
std::string file_error(const std::filesystem::path& path, const std::string& problem);

}  // namespace prismer::metrics
