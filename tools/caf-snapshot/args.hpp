// A small command-line parser shared by the subcommands: long options with
// or without a value (`--limit 5`, `--limit=5`, `--all`), positional
// arguments, `--` to end options, and `-h`/`--help` anywhere.
//
// Usage:
//   auto parsed = parse_args(args, {{"limit", true}, {"all", false}});
//   if (parsed.help) { std::cout << cmd.help; return exit_ok; }
//   auto limit = parse_uint(*parsed.last("limit"), "--limit");
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace caf_snapshot_tool {

/// Declares one long option, named without the leading dashes.
struct option_spec {
  std::string name;
  bool takes_value = false;
};

/// The result of `parse_args`.
struct parsed_args {
  /// Whether `-h` or `--help` was given (everything else is then unchecked).
  bool help = false;
  /// Options in command-line order; flags have an empty value.
  std::vector<std::pair<std::string, std::string>> options;
  /// Arguments that are not options.
  std::vector<std::string> positionals;

  /// Whether option `name` was given at least once.
  bool has(const std::string& name) const;

  /// All values of option `name` in command-line order.
  std::vector<std::string> values(const std::string& name) const;

  /// The last value of option `name`, if given.
  std::optional<std::string> last(const std::string& name) const;
};

/// Parses `args` against `specs`.
/// @throws usage_error for unknown options, missing or unexpected values.
parsed_args parse_args(const std::vector<std::string>& args,
                       const std::vector<option_spec>& specs);

/// Parses a non-negative decimal integer; `what` names the argument in the
/// error message.
/// @throws usage_error if `str` is not a decimal number that fits 64 bits.
uint64_t parse_uint(const std::string& str, const std::string& what);

} // namespace caf_snapshot_tool
