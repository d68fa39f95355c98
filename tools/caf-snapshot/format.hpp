// Text helpers shared by the subcommands: times, sizes, and safe rendering
// of strings read from (possibly hostile) snapshot files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace caf_snapshot_tool {

/// Formats milliseconds since the Unix epoch as UTC ISO-8601 with
/// milliseconds, e.g. "2023-11-14T22:13:20.000Z".
std::string iso_time(uint64_t ms_since_epoch);

/// Formats a byte count for humans: "812 B", "4.0 KiB", "1.5 GiB".
std::string human_size(uint64_t bytes);

/// Returns `str` safe for a terminal line: control characters (ASCII and
/// UTF-8-encoded C1) are escaped as `\n`, `\t`, `\r` or `\xNN`. Text beyond
/// `max_len` bytes is cut and replaced by a note saying how much was cut.
std::string printable(std::string_view str,
                      size_t max_len = std::string_view::npos);

/// Shorthand for singular/plural nouns: plural(3, "actor") == "3 actors".
std::string plural(uint64_t n, std::string_view noun);

} // namespace caf_snapshot_tool
