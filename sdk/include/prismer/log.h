// Logging shared by the core and every plugin (one spdlog logger lives in libprismer_core).
//
// Example:
// \code
//   prismer::log::info("loaded {} images from {}", count, root);
// \endcode
#pragma once

#include <prismer/export.h>

#include <fmt/format.h>

#include <string>
#include <utility>

namespace prismer::log {

enum class Level { debug, info, warn, error };

PRISMER_API void write(Level level, const std::string& message);
/// Sets the threshold ("debug", "info", "warn", "error"); unknown names throw std::invalid_argument.
PRISMER_API void set_level(const std::string& level);
/// Also writes every message to `path` (appending).
PRISMER_API void add_file(const std::string& path);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) { write(Level::debug, fmt::format(f, std::forward<Args>(args)...)); }
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) { write(Level::info, fmt::format(f, std::forward<Args>(args)...)); }
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) { write(Level::warn, fmt::format(f, std::forward<Args>(args)...)); }
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) { write(Level::error, fmt::format(f, std::forward<Args>(args)...)); }

}  // namespace prismer::log
