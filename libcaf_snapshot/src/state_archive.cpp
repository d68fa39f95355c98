#include "caf/snapshot/state_archive.hpp"

#include <algorithm>

namespace caf::snapshot {

std::string describe_archive(const std::vector<char>& bytes) {
  // A Boost binary archive opens with the same ~40-byte header for every
  // state; the values come last. Show the tail: it tells states apart.
  constexpr size_t max_shown = 24;
  static constexpr char digits[] = "0123456789abcdef";
  std::string result = "<" + std::to_string(bytes.size())
                       + " bytes of Boost archive";
  if (bytes.empty())
    return result + '>';
  auto n = std::min(bytes.size(), max_shown);
  result += bytes.size() > max_shown ? ", ends with: ..." : ":";
  for (size_t i = bytes.size() - n; i < bytes.size(); ++i) {
    auto byte = static_cast<unsigned char>(bytes[i]);
    result += ' ';
    result += digits[byte >> 4];
    result += digits[byte & 0x0F];
  }
  result += '>';
  return result;
}

} // namespace caf::snapshot
