// A progress line for long jobs: count, rate, ETA.
#pragma once

#include <prismer/export.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>

namespace prismer {

/// Prints "label  done/total  rate/s  ETA" to stderr: redrawn in place on a terminal, one line every few
/// seconds otherwise (logs stay readable).
class PRISMER_API Progress {
 public:
  Progress(std::string label, std::size_t total, std::string unit = "images");
  /// Records `n` more items done (`skipped` ones are counted but excluded from the rate).
  void advance(std::size_t n = 1, bool skipped = false);
  /// Prints the final line.
  void finish();
  /// Extra text shown after the ETA (e.g. "loss 2.31  lr 5e-05"), kept until replaced.
  void set_note(std::string note) { note_ = std::move(note); }
  double rate() const;

 private:
  void draw(bool final_line);
  std::string label_;
  std::string unit_;
  std::string note_;
  std::size_t total_;
  std::size_t done_ = 0;
  std::size_t measured_ = 0;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace prismer
