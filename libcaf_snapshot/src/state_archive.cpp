#include "caf/snapshot/state_archive.hpp"

#include <algorithm>

namespace caf::snapshot {

std::string describe_archive(const std::vector<char>& bytes) {
  // A Boost binary archive opens with the same ~40-byte header for every
  // state; the values come last. Show the tail: it tells states apart.
  // Built in one buffer: this runs at every cut of such a state.
  constexpr size_t max_shown = 24;
  static constexpr char digits[] = "0123456789abcdef";
  auto n = std::min(bytes.size(), max_shown);
  std::string result;
  result.reserve(64 + 3 * n);
  result += '<';
  result += std::to_string(bytes.size());
  result += " bytes of Boost archive";
  if (bytes.empty()) {
    result += '>';
    return result;
  }
  result += bytes.size() > max_shown ? ", ends with: ..." : ":";
  for (size_t i = bytes.size() - n; i < bytes.size(); ++i) {
    auto byte = static_cast<unsigned char>(bytes[i]);
    char hex[3] = {' ', digits[byte >> 4], digits[byte & 0x0F]};
    result.append(hex, 3);
  }
  result += '>';
  return result;
}

} // namespace caf::snapshot
