/// @file
/// Downloading zoo files over HTTP(S) with libcurl: HEAD for sizes, resumable GET into `<file>.part`,
/// retries with exponential back-off, size and SHA-256 checks, then a rename to the final name.
#pragma once

#include <prismer/zoo/manifest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

namespace prismer::zoo {

/// How downloads behave.
struct DownloadOptions {
  std::string mirror;               ///< replaces every base URL when not empty
  bool force = false;               ///< download again even when present; drop partial files
  int retries = 5;                  ///< further attempts after a failed one (network errors, 5xx, 408, 429)
  double retry_delay_s = 1.0;       ///< first back-off; doubles each attempt, capped at 60 s
  long connect_timeout_s = 30;      ///< TCP/TLS connect limit
  long stall_timeout_s = 60;        ///< abort (and retry) when no byte arrives for this long
  bool progress = true;             ///< draw a progress bar on the output stream
};

/// What a HEAD request found.
struct RemoteInfo {
  std::optional<std::uint64_t> size;  ///< Content-Length of the final response, when sent
  bool accepts_ranges = false;        ///< `Accept-Ranges: bytes`
};

/// Initialises libcurl once per process (thread-safe; later calls do nothing).
void ensure_curl_initialised();

/// HEAD `url` (following redirects). Throws ZooError with a one-line explanation on failure.
RemoteInfo head(const std::string& url, const DownloadOptions& options);

/// Downloads `url` to `dest`: bytes go to `dest + ".part"` (resumed with a Range request when it exists
/// and `force` is off), network failures are retried with back-off (each retry resumes), then the size
/// (`expected_size`, else the server's total) and SHA-256 (`expected_sha256`, when given) are checked and
/// the part file is renamed to `dest`. On a mismatch the part file is removed and nothing is left under
/// `dest`. Progress and retry notes go to `out`; `label` names the file there. Throws ZooError.
void download_file(const std::string& url, const std::string& dest, std::optional<std::uint64_t> expected_size,
                   const std::optional<std::string>& expected_sha256, const DownloadOptions& options,
                   std::ostream& out, const std::string& label);

/// A size for people: `512 B`, `36.7 kB`, `1.23 GB` (decimal units).
std::string human_size(std::uint64_t bytes);

}  // namespace prismer::zoo
