// Tracks the largest heap allocation made through global `operator new`
// while an `allocation_scope` is alive, so that tests can check that input
// claiming a huge length is refused before anything that size is allocated.
//
// Usage:
//   {
//     test::allocation_scope guard;
//     auto res = decode(hostile_bytes);
//     EXPECT_FALSE(res);
//   }
//   EXPECT_LT(test::largest_allocation.load(), 1024u * 1024u);
//
// This header *defines* the replacement `operator new` and `operator delete`
// (replaceable allocation functions may not be declared inline), so include
// it from exactly one translation unit per executable. Each test here is an
// executable built from a single .cpp file, which satisfies that.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace test {

/// Whether `operator new` currently records allocation sizes.
inline std::atomic<bool> track_allocations{false};

/// The largest size requested from `operator new` while tracking was on.
inline std::atomic<size_t> largest_allocation{0};

/// Resets `largest_allocation` and turns tracking on for its lifetime.
struct allocation_scope {
  allocation_scope() {
    largest_allocation = 0;
    track_allocations = true;
  }
  ~allocation_scope() {
    track_allocations = false;
  }
  allocation_scope(const allocation_scope&) = delete;
  allocation_scope& operator=(const allocation_scope&) = delete;
};

} // namespace test

/// Allocates with `malloc`, recording `n` in `test::largest_allocation`
/// while tracking is on.
void* operator new(std::size_t n) {
  if (test::track_allocations.load(std::memory_order_relaxed)) {
    auto prev = test::largest_allocation.load();
    while (n > prev
           && !test::largest_allocation.compare_exchange_weak(prev, n)) {
      // retry
    }
  }
  if (auto ptr = std::malloc(n > 0 ? n : 1))
    return ptr;
  throw std::bad_alloc{};
}

/// Frees memory from the `operator new` above.
void operator delete(void* ptr) noexcept {
  std::free(ptr);
}

/// Frees memory from the `operator new` above (sized variant).
void operator delete(void* ptr, std::size_t) noexcept {
  std::free(ptr);
}
