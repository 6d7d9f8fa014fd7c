// A run's log file: every message goes to it while the guard lives.
#pragma once

#include <prismer/export.h>

#include <memory>
#include <string>

namespace prismer::log {

/// Appends every log message to `path` until destroyed. Unlike log::add_file the file is closed at the end of
/// the run, so several runs in one process (the quickstart's stages) each keep their own log.
class PRISMER_API ScopedLogFile {
 public:
  explicit ScopedLogFile(const std::string& path);
  ~ScopedLogFile();
  ScopedLogFile(const ScopedLogFile&) = delete;
  ScopedLogFile& operator=(const ScopedLogFile&) = delete;

 private:
  std::shared_ptr<void> sink_;
};

}  // namespace prismer::log
