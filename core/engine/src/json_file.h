// JSON results of the engine's pipelines, written atomically (a temporary name, then a rename).
#pragma once

#include <prismer/image.h>

#include <nlohmann/json.hpp>

#include <filesystem>

namespace prismer::engine {

/// `doc` pretty-printed to `path`; invalid UTF-8 in strings is replaced rather than thrown on.
inline void write_json(const std::filesystem::path& path, const nlohmann::json& doc) {
  write_file_atomic(path.string(), doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace prismer::engine
