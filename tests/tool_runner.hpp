// Runs the built `caf-snapshot` tool in tests: quoting for the shell, the
// exit code, stdout and stderr of one run, and small text helpers.
//
// Usage:
//   tool_runner tool{CAF_SNAPSHOT_TOOL, work_dir};
//   auto res = tool.run("check " + quote(path));
//   EXPECT_EQ(res.code, 1) << res.err;
//   for (auto& line : lines_of(res.out)) ...
#pragma once

#include <sys/wait.h>

#include <cstddef>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace test {

/// Quotes `str` for a POSIX shell.
inline std::string quote(const std::string& str) {
  std::string result = "'";
  for (auto c : str) {
    if (c == '\'')
      result += "'\\''";
    else
      result += c;
  }
  result += '\'';
  return result;
}

/// Returns the contents of the file at `path` (empty if unreadable).
inline std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

/// Replaces the file at `path` by `content`.
inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << content;
}

/// Splits `str` into lines without their line breaks.
inline std::vector<std::string> lines_of(const std::string& str) {
  std::vector<std::string> result;
  std::istringstream in{str};
  for (std::string line; std::getline(in, line);)
    result.push_back(line);
  return result;
}

/// Returns the lines of `str` that start with `prefix`.
inline std::vector<std::string> lines_starting_with(const std::string& str,
                                                    const std::string& prefix) {
  std::vector<std::string> result;
  for (auto& line : lines_of(str))
    if (line.rfind(prefix, 0) == 0)
      result.push_back(line);
  return result;
}

/// Returns how often `needle` occurs in `haystack`, without overlaps.
inline size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size()))
    ++n;
  return n;
}

/// The outcome of one run of the tool.
struct run_result {
  /// Exit code, or -1 if the tool did not exit normally.
  int code = -1;
  std::string out;
  std::string err;
};

/// Checks that a run failed with `code` and exactly one line on stderr,
/// whatever it printed on stdout; `what` names the run in failure messages.
inline void expect_one_stderr_line(const run_result& res, int code,
                                   const std::string& what) {
  EXPECT_EQ(res.code, code) << what << "\nstderr: " << res.err;
  EXPECT_EQ(lines_of(res.err).size(), 1u) << what << "\nstderr: " << res.err;
  EXPECT_FALSE(res.err.empty() || res.err.back() != '\n') << what;
}

/// Checks that a run failed with `code`, exactly one line on stderr and
/// nothing on stdout; `what` names the run in failure messages.
inline void expect_one_error_line(const run_result& res, int code,
                                  const std::string& what) {
  expect_one_stderr_line(res, code, what);
  EXPECT_EQ(res.out, "") << what;
}

/// Runs the tool at `binary`, keeping its stderr in `work_dir`.
class tool_runner {
public:
  tool_runner(std::string binary, std::string work_dir)
    : binary_(std::move(binary)), work_dir_(std::move(work_dir)) {
    // nop
  }

  /// Runs the tool with `args` (quoted as needed by the caller).
  run_result run(const std::string& args) const {
    auto err_file = work_dir_ + "/stderr.txt";
    auto cmd = quote(binary_) + " " + args + " 2>" + quote(err_file);
    run_result result;
    auto pipe = ::popen(cmd.c_str(), "r");
    if (pipe == nullptr) {
      ADD_FAILURE() << "popen failed: " << cmd;
      return result;
    }
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0)
      result.out.append(buf, n);
    auto status = ::pclose(pipe);
    result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.err = read_file(err_file);
    return result;
  }

private:
  std::string binary_;
  std::string work_dir_;
};

} // namespace test
