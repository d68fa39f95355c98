// What every benchmark program shares: its command line, its output and
// the actor system it measures.
//
// Usage:
//   int main(int argc, char** argv) {
//     bench::options opts{argc, argv};
//     auto n = opts.get("n", opts.pick<size_t>(10, 1000, 100000));
//     auto policy = bench::scheduler_policy(opts);
//     opts.reject_unknown();
//     bench::scratch_directory dir{"my_bench"};
//     bench::config cfg{dir.path(), policy};
//     caf::actor_system sys{cfg};
//     ...
//     bench::print("my_bench_ms", ms);
//   }
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "caf/all.hpp"
#include "caf/snapshot/all.hpp"

namespace bench {

// -- command line -------------------------------------------------------------

/// How large a run is: `tiny` only proves that the program works (CTest),
/// `quick` keeps the whole of `bench/run --quick` under two minutes on two
/// cores, `full` (the default) is the reference run.
enum class preset { tiny, quick, full };

/// The command line of a benchmark: `--tiny` or `--quick` (default: full),
/// then `--key=value` settings that override the preset's sizes.
class options {
public:
  options(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "--tiny") {
        size_ = preset::tiny;
      } else if (arg == "--quick") {
        size_ = preset::quick;
      } else if (arg == "--full") {
        size_ = preset::full;
      } else if (arg.rfind("--", 0) == 0
                 && arg.find('=') != std::string::npos) {
        auto eq = arg.find('=');
        values_[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
      } else {
        fail("unexpected argument: " + arg);
      }
    }
  }

  preset size() const noexcept {
    return size_;
  }

  /// Chooses one of three values by preset.
  template <class T>
  T pick(T tiny, T quick, T full) const {
    return size_ == preset::tiny ? tiny : size_ == preset::quick ? quick : full;
  }

  /// Returns `--key=N`, or `fallback` if absent.
  size_t get(const std::string& key, size_t fallback) {
    auto str = take(key);
    return str.empty() ? fallback : to_size(key, str);
  }

  /// Returns `--key=N,M,...`, or `fallback` if absent.
  std::vector<size_t> get_list(const std::string& key,
                               std::vector<size_t> fallback) {
    auto str = take(key);
    if (str.empty())
      return fallback;
    std::vector<size_t> result;
    size_t pos = 0;
    while (pos <= str.size()) {
      auto end = str.find(',', pos);
      if (end == std::string::npos)
        end = str.size();
      result.push_back(to_size(key, str.substr(pos, end - pos)));
      pos = end + 1;
    }
    return result;
  }

  /// Returns `--key=TEXT`, or `fallback` if absent.
  std::string get_string(const std::string& key, std::string fallback) {
    auto str = take(key);
    return str.empty() ? fallback : str;
  }

  /// Exits with status 2 if the command line holds a setting that no
  /// `get` asked for (a typo would otherwise measure the wrong thing).
  void reject_unknown() const {
    for (auto& kvp : values_)
      if (used_.count(kvp.first) == 0)
        fail("unknown option: --" + kvp.first);
  }

  [[noreturn]] static void fail(const std::string& what) {
    std::fprintf(stderr, "error: %s\n", what.c_str());
    std::exit(2);
  }

private:
  std::string take(const std::string& key) {
    used_.insert(key);
    auto i = values_.find(key);
    return i != values_.end() ? i->second : std::string{};
  }

  static size_t to_size(const std::string& key, const std::string& str) {
    char* end = nullptr;
    auto result = std::strtoull(str.c_str(), &end, 10);
    if (str.empty() || *end != '\0')
      fail("--" + key + " expects a number, got: " + str);
    return static_cast<size_t>(result);
  }

  preset size_ = preset::full;
  std::map<std::string, std::string> values_;
  std::set<std::string> used_;
};

// -- output -------------------------------------------------------------------

/// Prints one `name: value` line (the only thing a benchmark writes to
/// standard output) and flushes it, so that a crash keeps what was measured.
inline void print(const std::string& name, double value) {
  if (value >= 1000 || value <= -1000)
    std::printf("%s: %.0f\n", name.c_str(), value);
  else
    std::printf("%s: %.4g\n", name.c_str(), value);
  std::fflush(stdout);
}

// -- time ---------------------------------------------------------------------

using clock_type = std::chrono::steady_clock;

/// Milliseconds since `start`.
inline double ms_since(clock_type::time_point start) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - start)
    .count();
}

// -- files --------------------------------------------------------------------

/// A fresh directory under the temporary directory, unique per process
/// (CTest runs benchmarks in parallel), removed with everything in it when
/// the object goes away.
class scratch_directory {
public:
  explicit scratch_directory(const std::string& name)
    : path_(
      std::filesystem::temp_directory_path()
      / ("caf-snapshot-bench-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }

  ~scratch_directory() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  scratch_directory(const scratch_directory&) = delete;
  scratch_directory& operator=(const scratch_directory&) = delete;

  const std::filesystem::path& path() const noexcept {
    return path_;
  }

  /// Removes every file in the directory (snapshots of 1M actors fill a
  /// disk quickly).
  void clear() const {
    for (auto& entry : std::filesystem::directory_iterator{path_})
      std::filesystem::remove_all(entry.path());
  }

private:
  std::filesystem::path path_;
};

// -- actor system -------------------------------------------------------------

/// Returns CAF's scheduler policy from `--scheduler=stealing|sharing`
/// (default: stealing, as in CAF). Under work stealing, CAF 0.17.6 steals in
/// O(queue length) (`double_ended_queue::take_tail` searches the victim's
/// queue for the predecessor of its tail), so an actor that messages N idle
/// actors at once costs O(N^2) until they ran.
inline std::string scheduler_policy(options& opts) {
  auto result = opts.get_string("scheduler", "stealing");
  if (result != "stealing" && result != "sharing")
    options::fail("--scheduler expects stealing or sharing");
  return result;
}

/// Appended to the names of figures that depend on the scheduler: empty
/// under CAF's default policy, else `_sharing`, so that the lines of both
/// policies fit into one run's output.
inline std::string policy_suffix(const std::string& policy) {
  return policy == "stealing" ? std::string{} : "_" + policy;
}

/// The snapshot module storing into `dir`, quiet logging, a snapshot timeout
/// long enough to measure slow cases instead of failing them, and the given
/// scheduler policy.
class config : public caf::actor_system_config {
public:
  config(const std::filesystem::path& dir, const std::string& policy) {
    load<caf::snapshot::module>();
    set("snapshot.directory", dir.string());
    set("snapshot.timeout", caf::timespan{std::chrono::hours{1}});
    set("logger.console", caf::atom("none"));
    set("scheduler.policy", caf::atom_from_string(policy));
  }
};

/// Takes one snapshot of `sys` and waits for it; `self` must belong to
/// `sys`.
inline caf::expected<caf::snapshot::snapshot_info>
take_snapshot(caf::actor_system& sys, caf::scoped_actor& self) {
  caf::expected<caf::snapshot::snapshot_info> result{caf::error{}};
  self
    ->request(caf::snapshot::coordinator(sys), caf::infinite,
              caf::snapshot::take_atom::value)
    .receive(
      [&](caf::snapshot::snapshot_info& info) { result = std::move(info); },
      [&](caf::error& err) { result = std::move(err); });
  return result;
}

/// Like `take_snapshot`, but exits at once with status 1 (after printing the
/// error) if the snapshot fails: a failed snapshot measures nothing.
inline caf::snapshot::snapshot_info
take_snapshot_or_exit(caf::actor_system& sys, caf::scoped_actor& self) {
  auto result = take_snapshot(sys, self);
  if (!result) {
    std::fprintf(stderr, "error: snapshot failed: %s\n",
                 sys.render(result.error()).c_str());
    std::fflush(nullptr);
    std::_Exit(1); // Without waiting for actors that may never finish.
  }
  return std::move(*result);
}

} // namespace bench
