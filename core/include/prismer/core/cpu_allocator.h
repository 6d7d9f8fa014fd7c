// A caching CPU allocator for LibTorch tensors.
//
// Why: glibc serves every block over its mmap threshold (128 KiB and up: most activations) with a fresh mmap and
// gives it back with munmap on free, so each new activation is page-faulted in again. On virtual machines a fault
// can cost tens of microseconds: an elementwise op on a 40 MB tensor then takes 0.5 s instead of 3 ms. Keeping
// freed big blocks for reuse (as PyTorch's CUDA allocator does on GPUs) removes that cost.
#pragma once

#include <prismer/export.h>

#include <cstddef>

namespace prismer {

/// Installs the caching allocator as LibTorch's CPU allocator (idempotent; tensors allocated before keep their
/// own deleters). Blocks of at least 128 KiB are kept after free, up to `max_cached_bytes` in total (0: a quarter
/// of physical memory), and reused for requests of up to 25% less. Smaller blocks use the default allocator.
/// The environment variable PRISMER_CPU_ALLOCATOR=system turns it off. Returns true when installed.
PRISMER_API bool install_caching_cpu_allocator(std::size_t max_cached_bytes = 0);

/// Bytes currently held in the cache (freed blocks awaiting reuse), for diagnostics and tests.
PRISMER_API std::size_t cached_cpu_bytes();

}  // namespace prismer
