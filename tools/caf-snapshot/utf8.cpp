#include "utf8.hpp"

namespace caf_snapshot_tool {

size_t utf8_length(std::string_view str, size_t pos, char32_t& code_point) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(str[i]); };
  auto lead = byte(pos);
  if (lead < 0x80) {
    code_point = lead;
    return 1;
  }
  // Lengths and the smallest code point of each length (no overlong forms).
  size_t len = 0;
  char32_t min = 0;
  char32_t cp = 0;
  if ((lead & 0xE0) == 0xC0) {
    len = 2;
    min = 0x80;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    len = 3;
    min = 0x800;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    len = 4;
    min = 0x10000;
    cp = lead & 0x07;
  } else {
    return 0; // continuation byte or 0xF8 .. 0xFF
  }
  if (str.size() - pos < len)
    return 0;
  for (size_t i = 1; i < len; ++i) {
    auto c = byte(pos + i);
    if ((c & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  code_point = cp;
  return len;
}

std::string_view utf8_prefix(std::string_view str, size_t max_len) {
  if (str.size() <= max_len)
    return str;
  auto continuation = [&](size_t i) {
    return (static_cast<unsigned char>(str[i]) & 0xC0) == 0x80;
  };
  // A sequence has at most three continuation bytes; longer runs are not
  // UTF-8 and may be cut anywhere.
  auto n = max_len;
  while (n > 0 && max_len - n < 3 && continuation(n))
    --n;
  return str.substr(0, continuation(n) ? max_len : n);
}

} // namespace caf_snapshot_tool
