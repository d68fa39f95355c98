// caf-snapshot: inspects snapshot files written by caf-snapshot.
//
// Usage: caf-snapshot <subcommand> [arguments]   (see `caf-snapshot --help`)
//
// Exit codes: 0 success, 1 missing or damaged files (`check`: also problems
// found), 2 wrong command line.
// Every error is reported as exactly one line on stderr.

#include <algorithm>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "command.hpp"

#ifndef CAF_SNAPSHOT_TOOL_VERSION
#  define CAF_SNAPSHOT_TOOL_VERSION "unknown"
#endif

namespace caf_snapshot_tool {
namespace {

constexpr const char* program = "caf-snapshot";

void print_overview(std::ostream& out) {
  out << "Usage: " << program << " <subcommand> [arguments]\n"
      << "\n"
      << "Inspects snapshot files (*.cafsnap) of caf-snapshot, the consistent\n"
      << "global snapshots of CAF actor systems. Needs no running system,\n"
      << "except 'take', which snapshots one over the network.\n"
      << "\n"
      << "Subcommands:\n";
  std::vector<std::pair<std::string, std::string>> lines;
  for (auto* cmd : commands())
    lines.emplace_back(cmd->name, cmd->summary);
  lines.emplace_back("help [SUBCOMMAND]",
                     "Show this help or the help of a subcommand");
  size_t width = 0;
  for (auto& line : lines)
    width = std::max(width, line.first.size());
  for (auto& [name, summary] : lines)
    out << "  " << name << std::string(width + 2 - name.size(), ' ') << summary
        << '\n';
  out << "\n"
      << "Options:\n"
      << "  -h, --help   Show this help (after a subcommand: its help)\n"
      << "  --version    Print the version\n"
      << "\n"
      << "Run '" << program << " <subcommand> --help' for details.\n"
      << "Exit codes: 0 success, 1 missing or damaged file (for check also:\n"
      << "problems found), 2 wrong usage.\n";
}

// Prints one line on stderr and returns `code`.
int fail(int code, const std::string& where, const std::string& what,
         const std::string& hint) {
  std::cerr << where << ": " << what;
  if (!hint.empty())
    std::cerr << " (see '" << hint << "')";
  std::cerr << std::endl;
  return code;
}

int run(const std::vector<std::string>& args) {
  if (args.empty())
    return fail(exit_usage, program, "missing subcommand",
                std::string{program} + " --help");
  auto& first = args[0];
  if (first == "-h" || first == "--help") {
    print_overview(std::cout);
    return exit_ok;
  }
  if (first == "--version") {
    std::cout << program << ' ' << CAF_SNAPSHOT_TOOL_VERSION << '\n';
    return exit_ok;
  }
  if (first == "help") {
    if (args.size() == 1) {
      print_overview(std::cout);
      return exit_ok;
    }
    if (args.size() > 2)
      return fail(exit_usage, program, "help takes at most one subcommand",
                  std::string{program} + " --help");
    if (auto* cmd = find_command(args[1])) {
      std::cout << cmd->help;
      return exit_ok;
    }
    if (args[1] == "help") {
      print_overview(std::cout);
      return exit_ok;
    }
    return fail(exit_usage, program, "unknown subcommand '" + args[1] + "'",
                std::string{program} + " --help");
  }
  if (!first.empty() && first[0] == '-')
    return fail(exit_usage, program, "unknown option '" + first + "'",
                std::string{program} + " --help");
  auto* cmd = find_command(first);
  if (cmd == nullptr)
    return fail(exit_usage, program, "unknown subcommand '" + first + "'",
                std::string{program} + " --help");
  auto where = std::string{program} + ' ' + cmd->name;
  try {
    std::vector<std::string> rest{args.begin() + 1, args.end()};
    return cmd->run(rest);
  } catch (const usage_error& e) {
    return fail(exit_usage, where, e.what(), where + " --help");
  }
}

} // namespace
} // namespace caf_snapshot_tool

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args{argv + 1, argv + argc};
  try {
    auto code = caf_snapshot_tool::run(args);
    std::cout.flush();
    if (!std::cout) {
      std::cerr << "caf-snapshot: cannot write to standard output" << std::endl;
      return caf_snapshot_tool::exit_bad_file;
    }
    return code;
  } catch (const std::bad_alloc&) {
    std::cerr << "caf-snapshot: out of memory" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "caf-snapshot: " << e.what() << std::endl;
  }
  return caf_snapshot_tool::exit_bad_file;
}
