#include "format.hpp"

#include <cstdio>
#include <ctime>
#include <limits>

namespace caf_snapshot_tool {

std::string iso_time(uint64_t ms_since_epoch) {
  auto secs = ms_since_epoch / 1000;
  std::tm tm{};
  if (secs <= static_cast<uint64_t>(std::numeric_limits<time_t>::max())) {
    auto t = static_cast<time_t>(secs);
    if (::gmtime_r(&t, &tm) != nullptr) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                    tm.tm_min, tm.tm_sec,
                    static_cast<unsigned>(ms_since_epoch % 1000));
      return buf;
    }
  }
  return std::to_string(ms_since_epoch) + " ms since the epoch";
}

std::string human_size(uint64_t bytes) {
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  static constexpr const char* units[] = {"KiB", "MiB", "GiB",
                                          "TiB", "PiB", "EiB"};
  auto value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s", value, units[unit]);
  return buf;
}

std::string printable(std::string_view str, size_t max_len) {
  auto n = str.size();
  if (n > max_len) {
    n = max_len;
    // Do not cut a UTF-8 sequence in half.
    while (n > 0 && (static_cast<unsigned char>(str[n]) & 0xC0) == 0x80)
      --n;
  }
  std::string out;
  out.reserve(n + 16);
  auto hex = [&](unsigned char c) {
    static constexpr char digits[] = "0123456789abcdef";
    out += "\\x";
    out += digits[c >> 4];
    out += digits[c & 0x0F];
  };
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(str[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      hex(c);
    } else if (c == 0xC2 && i + 1 < n
               && static_cast<unsigned char>(str[i + 1]) >= 0x80
               && static_cast<unsigned char>(str[i + 1]) <= 0x9F) {
      // U+0080 .. U+009F: C1 controls, e.g. CSI for terminal escapes.
      hex(c);
      hex(static_cast<unsigned char>(str[++i]));
    } else {
      out += static_cast<char>(c);
    }
  }
  if (n < str.size())
    out += "... (" + std::to_string(str.size() - n)
           + " more bytes, --all shows everything)";
  return out;
}

std::string plural(uint64_t n, std::string_view noun) {
  auto result = std::to_string(n);
  result += ' ';
  result += noun;
  if (n != 1)
    result += 's';
  return result;
}

} // namespace caf_snapshot_tool
