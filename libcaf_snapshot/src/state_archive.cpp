#include "caf/snapshot/state_archive.hpp"

#include <algorithm>

namespace caf::snapshot {

std::string describe_archive(const std::vector<char>& bytes) {
  constexpr size_t max_shown = 32;
  static constexpr char digits[] = "0123456789abcdef";
  std::string result = "<" + std::to_string(bytes.size())
                       + " bytes of Boost archive";
  if (!bytes.empty())
    result += ":";
  auto n = std::min(bytes.size(), max_shown);
  for (size_t i = 0; i < n; ++i) {
    auto byte = static_cast<unsigned char>(bytes[i]);
    result += ' ';
    result += digits[byte >> 4];
    result += digits[byte & 0x0F];
  }
  if (bytes.size() > max_shown)
    result += " ...";
  result += '>';
  return result;
}

} // namespace caf::snapshot
