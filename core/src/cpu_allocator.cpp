#include "prismer/core/cpu_allocator.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>

namespace prismer {

namespace {

constexpr std::size_t kCachedMin = 128 << 10;   // glibc's default mmap threshold
constexpr std::size_t kSmallStep = 64 << 10;
constexpr std::size_t kHugePage = 2 << 20;

std::size_t round_up(std::size_t n, std::size_t step) { return (n + step - 1) / step * step; }

class CachingCpuAllocator final : public c10::Allocator {
 public:
  explicit CachingCpuAllocator(std::size_t limit) : limit_(limit), fallback_(c10::GetDefaultCPUAllocator()) {}

  c10::DataPtr allocate(std::size_t nbytes) const override {
    if (nbytes < kCachedMin) return fallback_->allocate(nbytes);
    const std::size_t size = nbytes >= kHugePage ? round_up(nbytes, kHugePage) : round_up(nbytes, kSmallStep);
    void* p = take(size);
    if (p == nullptr) {
      const std::size_t alignment = size >= kHugePage ? kHugePage : 64;
      if (posix_memalign(&p, alignment, size) != 0) throw std::bad_alloc();
      if (size >= kHugePage) madvise(p, size, MADV_HUGEPAGE);  // fewer faults where the kernel allows it
      std::lock_guard<std::mutex> lock(mutex_);
      sizes_[p] = size;
    }
    return {p, p, &CachingCpuAllocator::release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &CachingCpuAllocator::release; }

  std::size_t cached() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_;
  }

  static CachingCpuAllocator* instance;

 private:
  void* take(std::size_t size) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.lower_bound(size);
    if (it == free_.end() || it->first > size + size / 4) return nullptr;
    void* p = it->second;
    cached_ -= it->first;
    free_.erase(it);
    return p;
  }

  static void release(void* p) {
    if (p == nullptr) return;
    CachingCpuAllocator& self = *instance;
    std::unique_lock<std::mutex> lock(self.mutex_);
    const auto known = self.sizes_.find(p);
    if (known == self.sizes_.end()) {  // a small block from raw_allocate(): the default allocator's
      lock.unlock();
      self.fallback_->raw_deleter()(p);
      return;
    }
    const std::size_t size = known->second;
    if (self.cached_ + size > self.limit_) {
      self.sizes_.erase(known);
      std::free(p);
      return;
    }
    self.free_.emplace(size, p);
    self.cached_ += size;
  }

  const std::size_t limit_;
  c10::Allocator* const fallback_;
  mutable std::mutex mutex_;
  mutable std::multimap<std::size_t, void*> free_;
  mutable std::unordered_map<void*, std::size_t> sizes_;
  mutable std::size_t cached_ = 0;
};

CachingCpuAllocator* CachingCpuAllocator::instance = nullptr;

}  // namespace

bool install_caching_cpu_allocator(std::size_t max_cached_bytes) {
  static std::once_flag once;
  static bool installed = false;
  std::call_once(once, [&] {
    if (const char* env = std::getenv("PRISMER_CPU_ALLOCATOR"); env != nullptr && std::strcmp(env, "system") == 0) return;
    if (max_cached_bytes == 0) {
      const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
      max_cached_bytes = pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) / 4
                                               : std::size_t{4} << 30;
    }
    // Never destroyed: tensors may be freed during static destruction, after main returns.
    CachingCpuAllocator::instance = new CachingCpuAllocator(max_cached_bytes);
    c10::SetAllocator(c10::DeviceType::CPU, CachingCpuAllocator::instance, /*priority=*/1);
    installed = true;
  });
  return installed;
}

std::size_t cached_cpu_bytes() {
  return CachingCpuAllocator::instance == nullptr ? 0 : CachingCpuAllocator::instance->cached();
}

}  // namespace prismer
