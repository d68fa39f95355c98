// CRC-32 (IEEE 802.3, polynomial 0xEDB88320, as used by zlib and PNG) for
// checksumming the records of snapshot files.
//
// Usage:
//   uint32_t crc = caf::snapshot::detail::crc32(data, size);
//   // or incrementally:
//   caf::snapshot::detail::crc32_state st;
//   st.update(part1, n1);
//   st.update(part2, n2);
//   uint32_t same = st.value();
#pragma once

#include <cstddef>
#include <cstdint>

namespace caf::snapshot::detail {

/// Continues a CRC-32 computation. `crc` is the result of a previous call
/// (or 0 for the first block); the result is the CRC-32 of the
/// concatenation of all blocks.
uint32_t crc32_update(uint32_t crc, const void* data, size_t size) noexcept;

/// Same as `crc32_update`, always with the table-driven code (which
/// `crc32_update` uses for short inputs and on CPUs without carry-less
/// multiplication). For tests.
uint32_t crc32_update_portable(uint32_t crc, const void* data,
                               size_t size) noexcept;

/// Returns the CRC-32 of `size` bytes at `data`.
inline uint32_t crc32(const void* data, size_t size) noexcept {
  return crc32_update(0, data, size);
}

/// Incrementally computes a CRC-32 over several blocks.
class crc32_state {
public:
  /// Adds `size` bytes at `data` to the checksum.
  void update(const void* data, size_t size) noexcept {
    value_ = crc32_update(value_, data, size);
  }

  /// Returns the CRC-32 of all bytes added so far.
  uint32_t value() const noexcept {
    return value_;
  }

  /// Starts over, continuing from `seed` (the CRC-32 of preceding data).
  void reset(uint32_t seed = 0) noexcept {
    value_ = seed;
  }

private:
  uint32_t value_ = 0;
};

} // namespace caf::snapshot::detail
