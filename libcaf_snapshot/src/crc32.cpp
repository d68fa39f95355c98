#include "caf/snapshot/detail/crc32.hpp"

#include <array>

namespace caf::snapshot::detail {

namespace {

constexpr std::array<uint32_t, 256> make_crc32_table() {
  std::array<uint32_t, 256> result{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1u) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    result[i] = c;
  }
  return result;
}

constexpr std::array<uint32_t, 256> crc32_table = make_crc32_table();

} // namespace

uint32_t crc32_update(uint32_t crc, const void* data, size_t size) noexcept {
  auto bytes = static_cast<const unsigned char*>(data);
  uint32_t c = crc ^ 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i)
    c = crc32_table[(c ^ bytes[i]) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

} // namespace caf::snapshot::detail
