// A streaming JSON writer for the machine-readable output of the tool.
// Strings may hold any bytes: the writer escapes control characters and
// replaces bytes that are not well-formed UTF-8 with U+FFFD, so every
// document it writes is valid JSON (RFC 8259) in UTF-8.
//
// Usage:
//   json_writer w{std::cout};
//   w.begin_object();
//   w.key("schema").string("caf-snapshot/show");
//   w.key("actors").begin_array();
//   w.number(42);
//   w.end_array();
//   w.end_object(); // writes the final newline
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace caf_snapshot_tool {

/// Writes one JSON document to a stream, indented by two spaces per level.
/// Callers must nest `begin_*`/`end_*` properly and precede every value in
/// an object by `key`; violations are programming errors (asserted). Not
/// thread-safe.
class json_writer {
public:
  explicit json_writer(std::ostream& out);

  json_writer(const json_writer&) = delete;

  json_writer& operator=(const json_writer&) = delete;

  // -- containers -------------------------------------------------------------

  json_writer& begin_object();

  /// Ends the innermost object; ending the outermost value ends the line.
  json_writer& end_object();

  json_writer& begin_array();

  /// Ends the innermost array; ending the outermost value ends the line.
  json_writer& end_array();

  /// Writes the name of the next member of the current object.
  json_writer& key(std::string_view name);

  // -- values -----------------------------------------------------------------

  /// Writes `str` as a JSON string (see `escape`).
  json_writer& string(std::string_view str);

  /// Writes `x` in decimal. Values above 2^53 are written exactly, but
  /// readers that use doubles (JavaScript, jq 1.6) round them.
  json_writer& number(uint64_t x);

  json_writer& boolean(bool x);

  json_writer& null();

  // -- escaping ---------------------------------------------------------------

  /// Appends `str` to `out` as the content of a JSON string (without
  /// quotes): `"` and `\` are escaped; control characters (C0, DEL, C1) and
  /// U+2028/U+2029 become `\uXXXX` (or `\n`, `\t`, ...); each byte that is
  /// not part of well-formed UTF-8 becomes `\ufffd`.
  static void escape(std::string_view str, std::string& out);

private:
  struct level {
    bool is_object;
    size_t members;
  };

  // Writes the separator and indentation that precede a value or key.
  void before_value();

  void newline_and_indent(size_t depth);

  json_writer& end(bool is_object, char closing);

  std::ostream& out_;
  std::vector<level> stack_;
  bool after_key_ = false;
  std::string buf_;
};

} // namespace caf_snapshot_tool
