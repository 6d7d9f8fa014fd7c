// The caching CPU allocator keeps freed big blocks and hands them out again; small ones go to the default.
#include <prismer/core/cpu_allocator.h>

#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cstring>

TEST_CASE("freed big tensors are reused, small ones are not cached, values are intact") {
  REQUIRE(prismer::install_caching_cpu_allocator(std::size_t{1} << 30));
  CHECK(prismer::install_caching_cpu_allocator());  // idempotent
  const std::size_t before = prismer::cached_cpu_bytes();
  void* first = nullptr;
  {
    torch::Tensor big = torch::full({1024, 1024}, 3.0f);  // 4 MiB
    first = big.data_ptr();
  }
  CHECK(prismer::cached_cpu_bytes() == before + (std::size_t{4} << 20));
  torch::Tensor again = torch::empty({1024, 1000});  // a little smaller: fits the cached block
  CHECK(again.data_ptr() == first);
  CHECK(prismer::cached_cpu_bytes() == before);
  again.fill_(2.0f);
  CHECK(again.sum().item<double>() == doctest::Approx(2.0 * 1024 * 1000));
  {
    torch::Tensor small = torch::ones({16});
    CHECK(small.sum().item<float>() == 16.0f);
  }
  CHECK(prismer::cached_cpu_bytes() == before);
  // A much smaller request does not take a big block (no 4x waste).
  again = torch::Tensor();
  torch::Tensor quarter = torch::empty({256, 1024});
  CHECK(quarter.data_ptr() != first);
}

TEST_CASE("raw allocations of any size round-trip through the installed allocator") {
  REQUIRE(prismer::install_caching_cpu_allocator());
  c10::Allocator* allocator = c10::GetAllocator(c10::DeviceType::CPU);
  for (std::size_t n : {std::size_t{64}, std::size_t{1} << 20}) {
    void* p = allocator->raw_allocate(n);
    REQUIRE(p != nullptr);
    std::memset(p, 1, n);
    allocator->raw_deallocate(p);
  }
}
