// Constants and byte-order helpers for the caf-snapshot file format. The
// format itself is described in docs/format.md.
//
// Usage:
//   using namespace caf::snapshot::detail;
//   uint8_t buf[4];
//   file_format::store_u32(buf, file_format::version);
//   uint32_t v = file_format::load_u32(buf);
#pragma once

#include <cstddef>
#include <cstdint>

namespace caf::snapshot::detail::file_format {

// -- file identification ------------------------------------------------------

/// Size of the magic number that opens every snapshot file.
constexpr size_t magic_size = 8;

/// The magic number: the ASCII text `CAFSNAP` followed by a NUL byte.
constexpr char magic[magic_size] = {'C', 'A', 'F', 'S', 'N', 'A', 'P', '\0'};

/// The format version written by this library. Readers accept every version
/// from `min_version` to `version`.
constexpr uint32_t version = 2;

/// The oldest format version this library still reads.
constexpr uint32_t min_version = 1;

/// Extension of committed snapshot files.
constexpr const char* file_extension = ".cafsnap";

// -- records ------------------------------------------------------------------

/// Tags of the records that follow the magic number.
enum class record_tag : uint8_t {
  /// First record: version, snapshot ID, coordinator, request time.
  header = 1,
  /// One `actor_record`.
  actor = 2,
  /// One `message_record`.
  message = 3,
  /// Last record: counts, completion, checksum over the whole file.
  footer = 4,
};

/// Bytes in front of a record payload: tag (u8) and payload length (u32).
constexpr size_t frame_prefix_size = 5;

/// Bytes after a record payload: the record checksum (u32), a CRC-32 over
/// tag, length and payload that continues from the previous record's
/// checksum (0 for the header).
constexpr size_t frame_suffix_size = 4;

/// Offset of the version field: magic, header tag, header payload length.
constexpr size_t version_offset = magic_size + frame_prefix_size;

/// Largest payload of one record (1 GiB). Writers refuse larger records,
/// readers treat them as damage.
constexpr uint32_t max_record_size = uint32_t{1} << 30;

/// Size of the writer's output buffer.
constexpr size_t write_buffer_size = 64 * 1024;

/// Size of the reader's input buffer.
constexpr size_t read_buffer_size = 64 * 1024;

// -- little-endian helpers ----------------------------------------------------

/// Stores `x` at `dst` in little-endian byte order.
inline void store_u16(uint8_t* dst, uint16_t x) noexcept {
  for (size_t i = 0; i < 2; ++i)
    dst[i] = static_cast<uint8_t>(x >> (8 * i));
}

/// Stores `x` at `dst` in little-endian byte order.
inline void store_u32(uint8_t* dst, uint32_t x) noexcept {
  for (size_t i = 0; i < 4; ++i)
    dst[i] = static_cast<uint8_t>(x >> (8 * i));
}

/// Stores `x` at `dst` in little-endian byte order.
inline void store_u64(uint8_t* dst, uint64_t x) noexcept {
  for (size_t i = 0; i < 8; ++i)
    dst[i] = static_cast<uint8_t>(x >> (8 * i));
}

/// Loads a little-endian integer from `src`.
inline uint16_t load_u16(const uint8_t* src) noexcept {
  return static_cast<uint16_t>(src[0] | (src[1] << 8));
}

/// Loads a little-endian integer from `src`.
inline uint32_t load_u32(const uint8_t* src) noexcept {
  uint32_t result = 0;
  for (size_t i = 0; i < 4; ++i)
    result |= static_cast<uint32_t>(src[i]) << (8 * i);
  return result;
}

/// Loads a little-endian integer from `src`.
inline uint64_t load_u64(const uint8_t* src) noexcept {
  uint64_t result = 0;
  for (size_t i = 0; i < 8; ++i)
    result |= static_cast<uint64_t>(src[i]) << (8 * i);
  return result;
}

} // namespace caf::snapshot::detail::file_format
