#include "bpe.h"

#include <algorithm>
#include <climits>
#include <queue>

namespace prismer::text::detail {

int BpeModel::intern(std::string_view s) {
  const std::string key(s);
  const auto it = ids_.find(key);
  if (it != ids_.end()) return it->second;
  const int id = static_cast<int>(symbols_.size());
  symbols_.push_back(key);
  ids_.emplace(key, id);
  return id;
}

int BpeModel::find(std::string_view s) const {
  const auto it = ids_.find(std::string(s));
  return it == ids_.end() ? -1 : it->second;
}

void BpeModel::add_merge(std::string_view first, std::string_view second, int rank) {
  const int a = intern(first);
  const int b = intern(second);
  std::string joined;
  joined.reserve(first.size() + second.size());
  joined.append(first).append(second);
  const int r = intern(joined);
  merges_[key(a, b)] = Merge{rank, r};
  ++num_merges_;
}

void BpeModel::finalize() {
  // Highest rank of any merge producing each symbol (-1: not produced by a merge).
  std::vector<int> max_producer(symbols_.size(), -1);
  for (const auto& [k, m] : merges_) max_producer[static_cast<size_t>(m.result)] = std::max(max_producer[static_cast<size_t>(m.result)], m.rank);
  heap_safe_ = true;
  for (const auto& [k, m] : merges_) {
    const int a = static_cast<int>(k >> 32);
    const int b = static_cast<int>(k & 0xFFFFFFFFu);
    if (max_producer[static_cast<size_t>(a)] >= m.rank || max_producer[static_cast<size_t>(b)] >= m.rank) {
      heap_safe_ = false;
      break;
    }
  }
}

std::vector<int> BpeModel::apply(std::vector<int> word) const {
  if (word.size() < 2) return word;
  return heap_safe_ ? apply_heap(word) : apply_reference(std::move(word));
}

std::vector<int> BpeModel::apply_reference(std::vector<int> word) const {
  std::vector<int> next;
  while (word.size() > 1) {
    int best_rank = INT_MAX;
    int first = -1, second = -1, result = -1;
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      const Merge* m = lookup(word[i], word[i + 1]);
      if (m != nullptr && m->rank < best_rank) {
        best_rank = m->rank;
        first = word[i];
        second = word[i + 1];
        result = m->result;
      }
    }
    if (result < 0) break;
    next.clear();
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
        next.push_back(result);
        i += 2;
      } else {
        next.push_back(word[i]);
        ++i;
      }
    }
    word.swap(next);
  }
  return word;
}

std::vector<int> BpeModel::apply_heap(const std::vector<int>& word) const {
  const int n = static_cast<int>(word.size());
  std::vector<int> sym(word);
  std::vector<int> prev(static_cast<size_t>(n)), nxt(static_cast<size_t>(n));
  std::vector<char> dead(static_cast<size_t>(n), 0);
  for (int i = 0; i < n; ++i) {
    prev[static_cast<size_t>(i)] = i - 1;
    nxt[static_cast<size_t>(i)] = i + 1;
  }
  struct Entry {
    int rank, left, right, ls, rs;
    bool operator>(const Entry& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
  auto push = [&](int l, int r) {
    const Merge* m = lookup(sym[static_cast<size_t>(l)], sym[static_cast<size_t>(r)]);
    if (m != nullptr) heap.push(Entry{m->rank, l, r, sym[static_cast<size_t>(l)], sym[static_cast<size_t>(r)]});
  };
  for (int i = 0; i + 1 < n; ++i) push(i, i + 1);
  while (!heap.empty()) {
    const Entry e = heap.top();
    heap.pop();
    const auto l = static_cast<size_t>(e.left), r = static_cast<size_t>(e.right);
    if (dead[l] || dead[r] || nxt[l] != e.right || sym[l] != e.ls || sym[r] != e.rs) continue;
    sym[l] = lookup(e.ls, e.rs)->result;
    dead[r] = 1;
    nxt[l] = nxt[r];
    if (nxt[r] < n) prev[static_cast<size_t>(nxt[r])] = e.left;
    if (prev[l] >= 0) push(prev[l], e.left);
    if (nxt[l] < n) push(e.left, nxt[l]);
  }
  std::vector<int> out;
  for (int i = 0; i < n; i = nxt[static_cast<size_t>(i)]) out.push_back(sym[static_cast<size_t>(i)]);
  return out;
}

bool BpeCache::get(const std::string& word, std::vector<int>& out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = map_.find(word);
  if (it == map_.end()) return false;
  out = it->second;
  return true;
}

void BpeCache::put(const std::string& word, const std::vector<int>& ids) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (map_.size() >= max_entries_) map_.clear();
  map_.emplace(word, ids);
}

}  // namespace prismer::text::detail
