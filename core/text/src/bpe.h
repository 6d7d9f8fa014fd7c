// Internal byte-pair-encoding engine shared by the RoBERTa (GPT-2) and CLIP tokenizers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace prismer::text::detail {

/// Symbols (interned strings) and ranked merges; applies BPE exactly like the reference Python loop
/// (repeatedly merge every occurrence of the lowest-ranked adjacent pair, left to right).
class BpeModel {
 public:
  /// The id of `s`, interning it when new.
  int intern(std::string_view s);
  /// The id of `s`, or -1.
  int find(std::string_view s) const;
  const std::string& symbol(int id) const { return symbols_[static_cast<size_t>(id)]; }
  size_t num_symbols() const { return symbols_.size(); }

  /// Adds a merge with its rank (its line index in the merges file). A repeated pair takes the rank given
  /// last, as the reference `dict(zip(merges, range(len(merges))))` does.
  void add_merge(std::string_view first, std::string_view second, int rank);
  size_t num_merges() const { return num_merges_; }

  /// Must be called after the last add_merge: checks whether the O(n log n) heap algorithm is exactly
  /// equivalent to the reference loop for these merges (true when every merge ranks after the merges
  /// that produce its parts); otherwise the plain loop is used.
  void finalize();
  bool uses_heap() const { return heap_safe_; }

  /// BPE of one word given as initial symbol ids; returns the final symbol ids.
  std::vector<int> apply(std::vector<int> word) const;
  /// The reference loop (used when the heap shortcut is not provably equivalent).
  std::vector<int> apply_reference(std::vector<int> word) const;

 private:
  struct Merge {
    int rank;
    int result;
  };
  static uint64_t key(int a, int b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  const Merge* lookup(int a, int b) const {
    const auto it = merges_.find(key(a, b));
    return it == merges_.end() ? nullptr : &it->second;
  }
  std::vector<int> apply_heap(const std::vector<int>& word) const;

  std::vector<std::string> symbols_;
  std::unordered_map<std::string, int> ids_;
  std::unordered_map<uint64_t, Merge> merges_;
  size_t num_merges_ = 0;
  bool heap_safe_ = false;
};

/// A thread-safe word -> symbol ids cache (the reference tokenizers cache BPE results per word too).
/// Cleared when it exceeds `max_entries` so memory stays bounded on endless streams of captions.
class BpeCache {
 public:
  explicit BpeCache(size_t max_entries = 1u << 20) : max_entries_(max_entries) {}
  bool get(const std::string& word, std::vector<int>& out) const;
  void put(const std::string& word, const std::vector<int>& ids);

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<int>> map_;
  size_t max_entries_;
};

}  // namespace prismer::text::detail
