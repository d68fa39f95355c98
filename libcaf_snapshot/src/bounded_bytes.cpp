#include "caf/snapshot/detail/bounded_bytes.hpp"

#include <algorithm>
#include <atomic>

#include "caf/binary_deserializer.hpp"
#include "caf/sec.hpp"

namespace caf::snapshot::detail {

namespace {

constexpr uint64_t default_limit = uint64_t{256} << 20;
constexpr uint64_t hard_limit = uint64_t{1} << 30;

std::atomic<uint64_t> configured_limit{default_limit};

} // namespace

size_t max_deserialized_bytes() noexcept {
  return static_cast<size_t>(configured_limit.load(std::memory_order_relaxed));
}

void set_max_deserialized_bytes(uint64_t x) noexcept {
  configured_limit.store(x == 0 ? default_limit : std::min(x, hard_limit),
              std::memory_order_relaxed);
}

caf::error load_bounded(caf::deserializer& source, std::vector<char>& xs) {
  size_t size = 0;
  if (auto err = source.begin_sequence(size))
    return err;
  auto limit = max_deserialized_bytes();
  if (auto binary = dynamic_cast<caf::binary_deserializer*>(&source))
    limit = std::min(limit, binary->remaining());
  if (size > limit)
    return caf::make_error(caf::sec::end_of_stream);
  xs.resize(size);
  if (size > 0)
    if (auto err = source.apply_raw(size, xs.data()))
      return err;
  return source.end_sequence();
}

} // namespace caf::snapshot::detail
