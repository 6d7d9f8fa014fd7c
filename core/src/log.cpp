// The one logger of the process, shared by the core and every plugin.
#include <prismer/log.h>
#include <prismer/core/log_file.h>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

namespace prismer::log {

namespace {
std::shared_ptr<spdlog::logger>& logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = std::make_shared<spdlog::logger>("prismer", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    l->set_pattern("[%H:%M:%S] %^%l%$ %v");
    l->set_level(spdlog::level::info);
    return l;
  }();
  return instance;
}
std::mutex sinks_mutex;
}  // namespace

void write(Level level, const std::string& message) {
  switch (level) {
    case Level::debug: logger()->debug(message); break;
    case Level::info: logger()->info(message); break;
    case Level::warn: logger()->warn(message); break;
    case Level::error: logger()->error(message); break;
  }
}

void set_level(const std::string& level) {
  if (level == "debug") logger()->set_level(spdlog::level::debug);
  else if (level == "info") logger()->set_level(spdlog::level::info);
  else if (level == "warn") logger()->set_level(spdlog::level::warn);
  else if (level == "error") logger()->set_level(spdlog::level::err);
  else throw std::invalid_argument("unknown log level '" + level + "' (debug, info, warn, error)");
}

void add_file(const std::string& path) {
  std::lock_guard<std::mutex> lock(sinks_mutex);
  auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);
  sink->set_pattern("[%Y-%m-%d %H:%M:%S] %l %v");
  logger()->sinks().push_back(sink);
}

ScopedLogFile::ScopedLogFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(sinks_mutex);
  auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);
  sink->set_pattern("[%Y-%m-%d %H:%M:%S] %l %v");
  logger()->sinks().push_back(sink);
  sink_ = sink;
}

ScopedLogFile::~ScopedLogFile() {
  std::lock_guard<std::mutex> lock(sinks_mutex);
  auto& sinks = logger()->sinks();
  sinks.erase(std::remove_if(sinks.begin(), sinks.end(), [&](const spdlog::sink_ptr& s) { return s.get() == sink_.get(); }),
              sinks.end());
}

}  // namespace prismer::log
