// Shared declarations of the `caf-snapshot` command-line tool: exit codes,
// the subcommand table and the error type for usage errors.
//
// Adding a subcommand:
//   1. Write `<name>.cpp` defining `extern const command <name>_command`
//      (name, one-line summary, help text, run function).
//   2. Declare it below and add it to the table in commands.cpp.
// The run function receives the arguments after the subcommand name, prints
// its results to stdout and returns an exit code. Usage problems are thrown
// as `usage_error`; main() prints them as one line on stderr and exits 2.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace caf_snapshot_tool {

/// Exit codes of all subcommands.
enum exit_code : int {
  /// Success.
  exit_ok = 0,
  /// A file is missing, unreadable or damaged (or another runtime failure).
  exit_bad_file = 1,
  /// Wrong command line: unknown subcommand or option, missing or invalid
  /// arguments.
  exit_usage = 2,
};

/// Thrown by subcommands for wrong command lines.
class usage_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// One subcommand of the tool.
struct command {
  /// Name on the command line, e.g. "show".
  const char* name;
  /// One line for the overview of `caf-snapshot --help`.
  const char* summary;
  /// Full help text printed for `caf-snapshot NAME --help`.
  const char* help;
  /// Runs the subcommand with the arguments following its name.
  int (*run)(const std::vector<std::string>& args);
};

/// All subcommands in the order of the overview.
const std::vector<const command*>& commands();

/// Returns the subcommand called `name` or nullptr.
const command* find_command(const std::string& name);

// -- subcommands (one source file each) ---------------------------------------

extern const command list_command;
extern const command show_command;
extern const command diff_command;
extern const command check_command;
extern const command dot_command;
extern const command take_command;

} // namespace caf_snapshot_tool
