// UTF-8 decoding for the renderers that must emit well-formed text whatever
// bytes a snapshot file holds (JSON strings, Graphviz labels).
//
// Usage:
//   for (size_t i = 0; i < str.size();) {
//     char32_t cp = 0;
//     auto n = utf8_length(str, i, cp);
//     if (n == 0) { /* str[i] is not valid UTF-8: replace it */ ++i; }
//     else        { /* str.substr(i, n) encodes cp */ i += n; }
//   }
#pragma once

#include <cstddef>
#include <string_view>

namespace caf_snapshot_tool {

/// Returns the length (1 to 4) of the well-formed UTF-8 sequence that starts
/// at `str[pos]` and stores its code point in `code_point`. Returns 0 if the
/// bytes at `pos` are no well-formed sequence: a stray continuation byte, an
/// overlong form, a surrogate, a value above U+10FFFF or a sequence cut off
/// by the end of `str`.
size_t utf8_length(std::string_view str, size_t pos, char32_t& code_point);

/// Returns the longest prefix of `str` of at most `max_len` bytes that does
/// not end inside a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view str, size_t max_len);

} // namespace caf_snapshot_tool
