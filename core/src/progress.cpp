// Progress line: rate over the items actually processed, ETA over what is left.
#include <prismer/core/progress.h>

#include <cstdio>
#include <unistd.h>

namespace prismer {

Progress::Progress(std::string label, std::size_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), tty_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

double Progress::rate() const {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return secs > 0 ? static_cast<double>(measured_) / secs : 0.0;
}

void Progress::advance(std::size_t n, bool skipped) {
  done_ += n;
  if (!skipped) measured_ += n;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (since >= (tty_ ? 0.2 : 5.0)) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::finish() { draw(true); }

void Progress::draw(bool final_line) {
  const double r = rate();
  const std::size_t left = total_ > done_ ? total_ - done_ : 0;
  char eta[32] = "--:--";
  if (r > 0 && left > 0) {
    const auto s = static_cast<long>(static_cast<double>(left) / r);
    std::snprintf(eta, sizeof eta, "%02ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else if (left == 0) {
    std::snprintf(eta, sizeof eta, "done");
  }
  const double pct = total_ ? 100.0 * static_cast<double>(done_) / static_cast<double>(total_) : 100.0;
  std::fprintf(stderr, "%s%s %zu/%zu %s (%.0f%%)  %.2f %s/s  ETA %s%s%s%s", tty_ ? "\r" : "", label_.c_str(), done_,
               total_, unit_.c_str(), pct, r, unit_.c_str(), eta, note_.empty() ? "" : "  ", note_.c_str(),
               (tty_ && !final_line) ? "   " : "\n");
  std::fflush(stderr);
}

}  // namespace prismer
