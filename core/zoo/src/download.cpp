// HTTP downloads with libcurl: HEAD, resumable GET into <file>.part, back-off, checks, rename.
#include <prismer/zoo/download.h>
#include <prismer/zoo/sha256.h>

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

namespace prismer::zoo {

namespace fs = std::filesystem;

namespace {

/// A failure worth another attempt (network trouble, 5xx, 408, 429).
struct Transient {
  std::string message;
};

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using Curl = std::unique_ptr<CURL, CurlDeleter>;

std::string host_of(const std::string& url) {
  const auto start = url.find("://");
  const auto from = start == std::string::npos ? 0 : start + 3;
  const auto end = url.find('/', from);
  return url.substr(from, end == std::string::npos ? std::string::npos : end - from);
}

/// One line on what went wrong at the network level, and whether trying again can help.
std::string explain_curl(CURLcode code, const char* errbuf, const std::string& url, std::uint64_t received) {
  const std::string host = host_of(url);
  const std::string detail = (errbuf != nullptr && *errbuf != '\0') ? errbuf : curl_easy_strerror(code);
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return "cannot resolve host " + host + " (no network or DNS; offline machines can use --mirror)";
    case CURLE_COULDNT_RESOLVE_PROXY:
      return "cannot resolve the proxy host (check http_proxy/https_proxy)";
    case CURLE_COULDNT_CONNECT:
      return "cannot connect to " + host + " (server down, firewall, or no network): " + detail;
    case CURLE_OPERATION_TIMEDOUT:
      return "no progress from " + host + " within the time limit (slow or stalled connection)";
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
      return "connection to " + host + " dropped after " + human_size(received) + " (" + detail + ")";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
      return "TLS failure talking to " + host + " (certificates or proxy interception): " + detail;
    case CURLE_WRITE_ERROR:
      return "cannot write the downloaded data (disk full or not writable?)";
    case CURLE_TOO_MANY_REDIRECTS:
      return "too many redirects from " + host;
    default:
      return detail + " (" + host + ")";
  }
}

bool retryable(CURLcode code) {
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_WRITE_ERROR:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_ABORTED_BY_CALLBACK:
      return false;
    default:
      return true;
  }
}

std::string explain_http(long status, const std::string& url) {
  const std::string s = "HTTP " + std::to_string(status);
  if (status == 404) return "not found (" + s + ") at " + url + ": the server has no such file (check --mirror and the manifest)";
  if (status == 401 || status == 403) return "access denied (" + s + ") at " + url + " (the file may need a login or be private)";
  if (status == 408 || status == 429) return "server busy (" + s + ") at " + url;
  if (status >= 500) return "server error (" + s + ") at " + url;
  return "unexpected answer (" + s + ") at " + url;
}

bool retryable_http(long status) { return status == 408 || status == 429 || status >= 500; }

Curl make_handle(const std::string& url, const DownloadOptions& options, char* errbuf) {
  ensure_curl_initialised();
  Curl c(curl_easy_init());
  if (!c) throw ZooError("libcurl: cannot create a transfer handle");
  errbuf[0] = '\0';
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.get(), CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c.get(), CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c.get(), CURLOPT_USERAGENT, "prismer-cpp-zoo/1");
  curl_easy_setopt(c.get(), CURLOPT_CONNECTTIMEOUT, options.connect_timeout_s);
  curl_easy_setopt(c.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c.get(), CURLOPT_LOW_SPEED_TIME, options.stall_timeout_s);
  curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
  return c;
}

/// Headers of the last response in a redirect chain.
struct Headers {
  bool accepts_ranges = false;
  std::optional<std::uint64_t> range_total;  // from Content-Range: bytes a-b/TOTAL or bytes */TOTAL
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

size_t on_header(char* data, size_t size, size_t nitems, void* user) {
  auto* h = static_cast<Headers*>(user);
  const std::string line(data, size * nitems);
  const std::string l = lower(line);
  if (l.rfind("http/", 0) == 0) *h = Headers{};  // a new response (after a redirect)
  if (l.rfind("accept-ranges:", 0) == 0 && l.find("bytes") != std::string::npos) h->accepts_ranges = true;
  if (l.rfind("content-range:", 0) == 0) {
    const auto slash = l.find('/');
    if (slash != std::string::npos) {
      try {
        h->range_total = std::stoull(l.substr(slash + 1));
      } catch (...) {
      }
    }
  }
  return size * nitems;
}

/// Sleeps the back-off before attempt `attempt` (1-based retry count).
void back_off(const DownloadOptions& options, int attempt) {
  const double delay = std::min(60.0, options.retry_delay_s * std::pow(2.0, attempt - 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long long>(delay * 1000)));
}

std::string seconds(double s) {
  std::ostringstream os;
  os.precision(s < 10 ? 2 : 3);
  os << s << " s";
  return os.str();
}

/// The state a GET transfer's callbacks share.
struct Transfer {
  std::FILE* file = nullptr;
  std::string part;
  CURL* curl = nullptr;
  std::uint64_t offset = 0;  // bytes in the part file when this attempt started
  std::uint64_t written = 0;
  bool checked_status = false;
  bool discard = false;  // an error page: do not write it
  // progress
  std::ostream* out = nullptr;
  std::string label;
  bool draw = false;
  std::optional<std::uint64_t> total;
  std::optional<std::uint64_t> expected;
  std::chrono::steady_clock::time_point start, last_draw;
};

void draw_bar(Transfer& t, bool final) {
  const std::uint64_t have = t.offset + t.written;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - t.start).count();
  const double rate = elapsed > 0 ? static_cast<double>(t.written) / elapsed : 0.0;
  std::ostringstream line;
  constexpr int width = 30;
  if (t.total && *t.total > 0) {
    const double frac = std::min(1.0, static_cast<double>(have) / static_cast<double>(*t.total));
    const int fill = static_cast<int>(frac * width);
    line << "  [" << std::string(fill, '#') << std::string(width - fill, ' ') << "] " << static_cast<int>(frac * 100)
         << "% " << human_size(have) << "/" << human_size(*t.total);
  } else {
    line << "  [" << std::string(width, '?') << "] " << human_size(have);
  }
  line << "  " << human_size(static_cast<std::uint64_t>(rate)) << "/s  " << t.label;
  *t.out << "\r" << line.str() << "\033[K";
  if (final) *t.out << "\n";
  t.out->flush();
}

size_t on_write(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * nmemb;
  if (!t->checked_status) {
    t->checked_status = true;
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300) {
      t->discard = true;
    } else if (status == 200 && t->offset > 0) {
      // The server ignored the Range request: start the part file again.
      std::fclose(t->file);
      t->file = std::fopen(t->part.c_str(), "wb");
      if (t->file == nullptr) return 0;
      t->offset = 0;
      t->total = t->expected;
    }
  }
  if (t->discard) return n;
  if (std::fwrite(data, 1, n, t->file) != n) return 0;
  t->written += n;
  return n;
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (!t->total && dltotal > 0 && !t->discard) t->total = t->offset + static_cast<std::uint64_t>(dltotal);
  if (!t->draw || t->discard) return 0;
  const auto now = std::chrono::steady_clock::now();
  if (now - t->last_draw < std::chrono::milliseconds(100)) return 0;
  t->last_draw = now;
  draw_bar(*t, false);
  return 0;
}

std::uint64_t file_size_or_zero(const std::string& path) {
  std::error_code ec;
  const auto s = fs::file_size(path, ec);
  return ec ? 0 : static_cast<std::uint64_t>(s);
}

}  // namespace

void ensure_curl_initialised() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw ZooError("libcurl: global initialisation failed");
  });
}

std::string human_size(std::uint64_t bytes) {
  static const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000.0 && u < 4) {
    v /= 1000.0;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else std::snprintf(buf, sizeof buf, v < 10 ? "%.2f %s" : (v < 100 ? "%.1f %s" : "%.0f %s"), v, units[u]);
  return buf;
}

RemoteInfo head(const std::string& url, const DownloadOptions& options) {
  for (int attempt = 0;; ++attempt) {
    char errbuf[CURL_ERROR_SIZE];
    Curl c = make_handle(url, options, errbuf);
    Headers headers;
    curl_easy_setopt(c.get(), CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c.get(), CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(c.get(), CURLOPT_HEADERDATA, &headers);
    const CURLcode res = curl_easy_perform(c.get());
    std::string problem;
    bool again = false;
    if (res != CURLE_OK) {
      problem = explain_curl(res, errbuf, url, 0);
      again = retryable(res);
    } else {
      long status = 0;
      curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
      if (status >= 400) {
        problem = explain_http(status, url);
        again = retryable_http(status);
      } else {
        RemoteInfo info;
        curl_off_t length = -1;
        curl_easy_getinfo(c.get(), CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
        if (length >= 0) info.size = static_cast<std::uint64_t>(length);
        info.accepts_ranges = headers.accepts_ranges;
        return info;
      }
    }
    if (!again || attempt >= options.retries) throw ZooError(problem);
    back_off(options, attempt + 1);
  }
}

void download_file(const std::string& url, const std::string& dest, std::optional<std::uint64_t> expected_size,
                   const std::optional<std::string>& expected_sha256, const DownloadOptions& options,
                   std::ostream& out, const std::string& label) {
  const std::string part = dest + ".part";
  std::error_code ec;
  if (const fs::path parent = fs::path(dest).parent_path(); !parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) throw ZooError("cannot create folder " + parent.string() + ": " + ec.message());
  }
  if (options.force) fs::remove(part, ec);

  std::optional<std::uint64_t> server_total;  // what the server says the whole file is
  const auto started = std::chrono::steady_clock::now();
  for (int attempt = 0;; ++attempt) {
    std::uint64_t offset = file_size_or_zero(part);
    if (expected_size && offset > *expected_size) {
      fs::remove(part, ec);
      offset = 0;
    }
    if (expected_size && offset == *expected_size && offset > 0) break;  // already whole: check it
    if (offset > 0 && attempt == 0) out << "  resuming " << label << " at " << human_size(offset) << "\n";

    char errbuf[CURL_ERROR_SIZE];
    Curl c = make_handle(url, options, errbuf);
    Transfer t;
    t.part = part;
    t.curl = c.get();
    t.offset = offset;
    t.out = &out;
    t.label = label;
    t.draw = options.progress;
    t.total = expected_size;
    t.expected = expected_size;
    t.start = t.last_draw = std::chrono::steady_clock::now();
    t.file = std::fopen(part.c_str(), "ab");
    if (t.file == nullptr) throw ZooError("cannot write " + part);
    Headers headers;
    const std::string range = std::to_string(offset) + "-";
    if (offset > 0) curl_easy_setopt(c.get(), CURLOPT_RANGE, range.c_str());
    curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, &on_write);
    curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c.get(), CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(c.get(), CURLOPT_HEADERDATA, &headers);
    curl_easy_setopt(c.get(), CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c.get(), CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(c.get(), CURLOPT_XFERINFODATA, &t);
    const CURLcode res = curl_easy_perform(c.get());
    if (t.file != nullptr && std::fclose(t.file) != 0 && res == CURLE_OK) throw ZooError("cannot write " + part);
    t.file = nullptr;
    long status = 0;
    curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);

    std::string problem;
    bool again = false;
    if (res == CURLE_OK && status == 416) {
      // Nothing left after `offset`: the part is whole if the server's total says so, else start over.
      if (headers.range_total && *headers.range_total == offset) {
        server_total = offset;
        break;
      }
      fs::remove(part, ec);
      problem = "the partial file did not match the server's copy; starting again";
      again = true;
    } else if (res == CURLE_OK && status < 300) {
      if (t.draw) draw_bar(t, true);
      if (status == 206 && headers.range_total) server_total = headers.range_total;
      else if (status == 200) server_total = t.total;
      break;
    } else if (res == CURLE_OK) {
      problem = explain_http(status, url);
      again = retryable_http(status);
    } else {
      if (t.draw && t.written > 0) *t.out << "\n";
      problem = explain_curl(res, errbuf, url, t.offset + t.written);
      again = retryable(res);
    }
    if (!again || attempt >= options.retries) {
      const std::uint64_t kept = file_size_or_zero(part);
      if (kept == 0) fs::remove(part, ec);
      throw ZooError(label + ": " + problem +
                     (kept > 0 ? "; " + human_size(kept) + " kept in " + part + ", run again to resume" : ""));
    }
    const double delay = std::min(60.0, options.retry_delay_s * std::pow(2.0, attempt));
    out << "  " << label << ": " << problem << "; retrying in " << seconds(delay) << " (" << (attempt + 1) << "/"
        << options.retries << ")\n";
    out.flush();
    back_off(options, attempt + 1);
  }

  const std::uint64_t got = file_size_or_zero(part);
  const std::optional<std::uint64_t> want = expected_size ? expected_size : server_total;
  if (want && got != *want) {
    fs::remove(part, ec);
    throw ZooError(label + ": size mismatch: expected " + std::to_string(*want) + " bytes, got " + std::to_string(got) +
                   "; the download was removed, run again");
  }
  if (expected_sha256) {
    const std::string sum = sha256_file(part);
    if (sum != *expected_sha256) {
      fs::remove(part, ec);
      throw ZooError(label + ": checksum mismatch: expected sha256 " + *expected_sha256 + ", got " + sum +
                     "; the download was removed (corrupt transfer or a mirror serving another file)");
    }
  }
  fs::rename(part, dest, ec);
  if (ec) throw ZooError("cannot rename " + part + " to " + dest + ": " + ec.message());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out << "  ok " << label << " (" << human_size(got) << " in " << seconds(secs)
      << (expected_sha256 ? ", sha256 verified" : ", no published checksum: run 'prismer zoo verify'") << ")\n";
}

}  // namespace prismer::zoo
