// Tests of `caf-snapshot take --connect`: the built tool runs as a child
// process against coordinators published on 127.0.0.1 by this test's own
// actor system (real ones, and fake peers that misbehave on purpose), and
// against the `deadlock` example running as a separate process, whose
// downloaded snapshot `caf-snapshot check` must find the cycle in.
//
// Every child is started with fork/exec, its stdout and stderr read through
// pipes with deadlines; every child is stopped (SIGTERM, then SIGKILL) and
// reaped on every path, also when an assertion fails. The deadlines only
// catch hangs; nothing depends on timing.

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/serialization/string.hpp>

#include "caf/io/all.hpp"

#include "caf/snapshot/detail/protocol.hpp"

#include "test_util.hpp"
#include "tool_runner.hpp"

#ifndef CAF_SNAPSHOT_TOOL
#  error "CAF_SNAPSHOT_TOOL must name the caf-snapshot binary"
#endif
#ifndef CAF_SNAPSHOT_DEADLOCK
#  error "CAF_SNAPSHOT_DEADLOCK must name the deadlock example binary"
#endif

namespace fs = std::filesystem;

namespace {

namespace snap = caf::snapshot;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using test::lines_of;
using test::read_file;

using deposit_atom = caf::atom_constant<caf::atom("deposit")>;

/// Generous bound for one run of the tool; only catches hangs.
constexpr auto run_bound = 120s;

steady::time_point in(steady::duration d) {
  return steady::now() + d;
}

// -- child processes ----------------------------------------------------------

/// A child process whose stdout and stderr are read through pipes. The
/// destructor stops (SIGTERM, then SIGKILL) and reaps it.
class child {
public:
  /// Runs `args` with this process's environment plus `env` (`NAME=VALUE`
  /// entries, which win over inherited ones).
  explicit child(std::vector<std::string> args,
                 std::vector<std::string> env = {})
    : args_(std::move(args)), env_(std::move(env)) {
    int out[2];
    int err[2];
    if (::pipe2(out, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe2: " + std::string{strerror(errno)});
    if (::pipe2(err, O_CLOEXEC) != 0) {
      ::close(out[0]);
      ::close(out[1]);
      throw std::runtime_error("pipe2: " + std::string{strerror(errno)});
    }
    std::vector<char*> argv;
    for (auto& arg : args_)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& entry : env_)
      envp.push_back(entry.data());
    auto overridden = [this](const char* entry) {
      for (auto& own : env_) {
        auto len = own.find('=') + 1;
        if (std::strncmp(entry, own.c_str(), len) == 0)
          return true;
      }
      return false;
    };
    for (auto e = environ; *e != nullptr; ++e)
      if (!overridden(*e))
        envp.push_back(*e);
    envp.push_back(nullptr);
    auto parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls until exec; dies with the test.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent)
        ::_exit(127);
      ::dup2(out[1], STDOUT_FILENO);
      ::dup2(err[1], STDERR_FILENO);
      // Keep no socket of the test's actor system open in the child.
      ::close_range(3, ~0U, 0);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    fds_[0] = out[0];
    fds_[1] = err[0];
    if (pid_ < 0) {
      reaped_ = true;
      throw std::runtime_error("fork: " + std::string{strerror(errno)});
    }
  }

  child(const child&) = delete;
  child& operator=(const child&) = delete;

  ~child() {
    stop();
    for (auto fd : fds_)
      if (fd >= 0)
        ::close(fd);
  }

  pid_t pid() const {
    return pid_;
  }

  const std::string& out() const {
    return out_;
  }

  const std::string& err() const {
    return err_;
  }

  /// Reads output until `pred()` holds, the pipes are closed or `deadline`
  /// passes; returns `pred()`.
  bool read_until(const std::function<bool()>& pred,
                  steady::time_point deadline) {
    while (!pred())
      if (!read_some(deadline))
        return pred();
    return true;
  }

  /// Waits for the exit while reading the output; returns the exit code
  /// (128 + N for signal N), or nothing if `deadline` passed first.
  std::optional<int> wait(steady::time_point deadline) {
    while (read_some(deadline))
      ; // until both pipes are closed or the deadline passed
    while (!reaped_) {
      int status = 0;
      auto res = ::waitpid(pid_, &status, WNOHANG);
      if (res == pid_) {
        reaped_ = true;
        code_ = WIFEXITED(status) ? WEXITSTATUS(status)
                                  : 128 + WTERMSIG(status);
        break;
      }
      if (res < 0 && errno != EINTR) {
        reaped_ = true;
        break;
      }
      if (steady::now() >= deadline)
        return std::nullopt;
      std::this_thread::sleep_for(5ms); // polling waitpid, not a sync point
    }
    return code_;
  }

  /// SIGTERM, up to 10 s to exit, then SIGKILL; always reaps.
  void stop() {
    if (reaped_)
      return;
    ::kill(pid_, SIGTERM);
    if (wait(in(10s)))
      return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR)
      ; // nop
    reaped_ = true;
  }

private:
  // Reads what is available, waiting until `deadline` at most; false once
  // both pipes are closed or the deadline passed.
  bool read_some(steady::time_point deadline) {
    pollfd pfds[2];
    int idx[2];
    nfds_t n = 0;
    for (int i = 0; i < 2; ++i)
      if (fds_[i] >= 0) {
        pfds[n] = pollfd{fds_[i], POLLIN, 0};
        idx[n++] = i;
      }
    if (n == 0)
      return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - steady::now())
                  .count();
    if (left <= 0)
      return false;
    auto rc = ::poll(pfds, n, static_cast<int>(left));
    if (rc < 0 && errno == EINTR)
      return true;
    if (rc <= 0)
      return false;
    for (nfds_t k = 0; k < n; ++k) {
      if (pfds[k].revents == 0)
        continue;
      auto i = idx[k];
      char buf[4096];
      auto got = ::read(fds_[i], buf, sizeof(buf));
      if (got > 0) {
        (i == 0 ? out_ : err_).append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        ::close(fds_[i]);
        fds_[i] = -1;
      }
    }
    return true;
  }

  std::vector<std::string> args_;
  std::vector<std::string> env_;
  pid_t pid_ = -1;
  int fds_[2] = {-1, -1};
  std::string out_;
  std::string err_;
  bool reaped_ = false;
  int code_ = -1;
};

/// The outcome of one run of the tool.
struct run_result {
  /// Exit code, or -1 if the tool hung (it is killed then).
  int code = -1;
  std::string out;
  std::string err;
};

run_result run_tool(const std::vector<std::string>& args) {
  std::vector<std::string> argv{CAF_SNAPSHOT_TOOL};
  argv.insert(argv.end(), args.begin(), args.end());
  child proc{argv};
  auto code = proc.wait(in(run_bound));
  if (!code)
    ADD_FAILURE() << "caf-snapshot did not exit within the bound";
  return {code.value_or(-1), proc.out(), proc.err()};
}

/// Expects a failure with exit code `code` reported as exactly one line on
/// stderr that contains `needle`, and nothing on stdout.
void expect_failure(const run_result& res, int code,
                    const std::string& needle) {
  EXPECT_EQ(res.code, code) << res.err;
  auto lines = lines_of(res.err);
  ASSERT_EQ(lines.size(), 1u) << res.err;
  EXPECT_EQ(lines[0].rfind("caf-snapshot take: ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(needle), std::string::npos)
    << "'" << needle << "' not in: " << lines[0];
  EXPECT_EQ(res.out, "");
}

/// Names of the entries of `dir`, hidden ones included.
std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> result;
  for (auto& entry : fs::directory_iterator{dir})
    result.insert(entry.path().filename().string());
  return result;
}

// -- participants -------------------------------------------------------------

struct account {
  static inline const char* name = "account";
  int64_t balance = 0;
  std::string owner;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& balance& owner;
  }
};

std::string to_string(const account& x) {
  return x.owner + ": balance=" + std::to_string(x.balance);
}

caf::behavior account_fn(snap::stateful_actor<account>* self, std::string owner,
                         int64_t balance) {
  self->state.owner = std::move(owner);
  self->state.balance = balance;
  return {
    [=](deposit_atom, int64_t amount) { self->state.balance += amount; },
  };
}

// Skips every deposit: they stay in flight at the cut.
caf::behavior sink_fn(snap::event_based_actor*) {
  return {
    [=](deposit_atom, int64_t) { return caf::skip(); },
  };
}

// A state of 64 KiB of pseudo-random bytes.
struct blob {
  static inline const char* name = "blob";
  std::string bytes;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& bytes;
  }
};

std::string make_bytes(uint32_t seed, size_t size) {
  std::string result(size, '\0');
  for (auto& c : result) {
    seed = seed * 1664525u + 1013904223u;
    c = static_cast<char>(seed >> 24);
  }
  return result;
}

caf::behavior blob_fn(snap::stateful_actor<blob>* self, uint32_t seed) {
  self->state.bytes = make_bytes(seed, 64 * 1024);
  return {
    [=](deposit_atom, int64_t) {},
  };
}

// -- an actor system with a published coordinator -----------------------------

class net_config : public test::config {
public:
  explicit net_config(const std::string& dir) : test::config(dir) {
    load<caf::io::middleman>();
  }
};

/// This test's actor system: snapshots in `snaps`, downloads into `out`.
struct inspect_take_system : testing::Test {
  test::temp_dir snaps;
  test::temp_dir out;
  net_config cfg{snaps.path()};
  caf::actor_system sys{cfg};
  std::vector<caf::actor> actors;

  ~inspect_take_system() override {
    for (auto& a : actors)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  uint16_t publish_coordinator() {
    auto port = snap::publish(sys, 0);
    if (!port) {
      ADD_FAILURE() << sys.render(port.error());
      return 0;
    }
    return *port;
  }

  /// Publishes `hdl` (not a coordinator) at a free port.
  uint16_t publish_actor(const caf::actor& hdl) {
    actors.push_back(hdl);
    auto port = sys.middleman().publish(hdl, 0, "127.0.0.1");
    if (!port) {
      ADD_FAILURE() << sys.render(port.error());
      return 0;
    }
    return *port;
  }

  static std::string at(uint16_t port) {
    return "127.0.0.1:" + std::to_string(port);
  }

  /// The single snapshot file in `out` (fails if there is not exactly one
  /// entry, e.g. a temporary file left behind).
  std::string downloaded_file() {
    auto names = entries(out.path());
    if (names.size() != 1) {
      ADD_FAILURE() << "expected one file in the output directory, got "
                    << names.size();
      return {};
    }
    return out.path() + "/" + *names.begin();
  }
};

// -- downloads ----------------------------------------------------------------

TEST_F(inspect_take_system,
       take_downloads_snapshot_with_participants_and_states) {
  std::map<caf::actor_id, account> expected;
  auto sink = sys.spawn(sink_fn);
  actors.push_back(sink);
  for (int64_t i = 1; i <= 5; ++i) {
    auto owner = "owner-" + std::to_string(i);
    auto hdl = sys.spawn(account_fn, owner, 100 * i);
    actors.push_back(hdl);
    expected[hdl.id()] = account{100 * i, owner};
  }
  for (int64_t i = 1; i <= 3; ++i)
    caf::anon_send(sink, deposit_atom::value, i);
  auto port = publish_coordinator();
  ASSERT_NE(port, 0);
  auto res = run_tool({"take", "--connect", at(port), "--out", out.path()});
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(res.err, "");
  auto lines = lines_of(res.out);
  ASSERT_EQ(lines.size(), 1u) << res.out;
  auto path = downloaded_file();
  ASSERT_FALSE(path.empty());
  EXPECT_EQ(lines[0].rfind("snapshot ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(" saved as " + path + ": 6 actors"),
            std::string::npos)
    << lines[0];
  EXPECT_EQ(fs::path{path}.extension(), ".cafsnap");
  auto loaded = snap::load(path);
  ASSERT_TRUE(loaded) << snap::render(loaded.error());
  EXPECT_TRUE(loaded->complete);
  size_t found = 0;
  for (auto& rec : loaded->actors) {
    auto i = expected.find(rec.id);
    if (i == expected.end())
      continue;
    ++found;
    account st;
    ASSERT_FALSE(rec.load_state(st));
    EXPECT_EQ(st.balance, i->second.balance);
    EXPECT_EQ(st.owner, i->second.owner);
    EXPECT_EQ(rec.state_text, to_string(i->second));
    EXPECT_EQ(rec.node, caf::to_string(sys.node()));
  }
  EXPECT_EQ(found, expected.size());
  EXPECT_EQ(loaded->in_flight.size(), 3u);
  // Byte for byte the coordinator's own file.
  auto original = snaps.path() + "/" + fs::path{path}.filename().string();
  ASSERT_TRUE(fs::exists(original));
  EXPECT_EQ(read_file(path), read_file(original));
}

TEST_F(inspect_take_system, take_downloads_large_snapshot_in_several_chunks) {
  constexpr uint32_t num_blobs = 48; // 48 * 64 KiB: about 3 MiB
  for (uint32_t i = 0; i < num_blobs; ++i)
    actors.push_back(sys.spawn(blob_fn, i + 1));
  auto port = publish_coordinator();
  ASSERT_NE(port, 0);
  auto res = run_tool(
    {"take", "--connect", at(port), "--out", out.path(), "--timeout", "120"});
  ASSERT_EQ(res.code, 0) << res.err;
  auto path = downloaded_file();
  ASSERT_FALSE(path.empty());
  auto original = snaps.path() + "/" + fs::path{path}.filename().string();
  auto bytes = read_file(path);
  EXPECT_GT(bytes.size(), 2 * snap::detail::fetch_chunk_size);
  EXPECT_TRUE(bytes == read_file(original)) << "the download differs";
  auto loaded = snap::load(path);
  ASSERT_TRUE(loaded) << snap::render(loaded.error());
  ASSERT_EQ(loaded->actors.size(), num_blobs);
  std::set<std::string> states;
  for (auto& rec : loaded->actors) {
    blob st;
    ASSERT_FALSE(rec.load_state(st));
    states.insert(st.bytes);
  }
  for (uint32_t i = 0; i < num_blobs; ++i)
    EXPECT_EQ(states.count(make_bytes(i + 1, 64 * 1024)), 1u) << i;
}

TEST_F(inspect_take_system,
       take_replaces_nothing_but_its_own_file_on_repeated_runs) {
  actors.push_back(sys.spawn(account_fn, std::string{"a"}, int64_t{1}));
  auto port = publish_coordinator();
  ASSERT_NE(port, 0);
  for (int i = 0; i < 2; ++i) {
    auto res = run_tool({"take", "--connect", at(port), "--out", out.path()});
    ASSERT_EQ(res.code, 0) << res.err;
  }
  // Two snapshots, two files, no temporary files.
  auto names = entries(out.path());
  EXPECT_EQ(names.size(), 2u);
  for (auto& name : names)
    EXPECT_NE(name[0], '.') << name;
}

// -- bad input ----------------------------------------------------------------

TEST(inspect_take, help_describes_the_subcommand) {
  auto res = run_tool({"take", "--help"});
  EXPECT_EQ(res.code, 0);
  EXPECT_EQ(res.out.rfind("Usage: caf-snapshot take --connect HOST:PORT", 0),
            0u);
  EXPECT_NE(res.out.find("--timeout"), std::string::npos);
  auto overview = run_tool({"--help"});
  EXPECT_NE(overview.out.find("take"), std::string::npos);
}

TEST(inspect_take, malformed_command_lines_are_usage_errors) {
  std::vector<std::pair<std::vector<std::string>, std::string>> cases{
    {{"take"}, "missing --connect"},
    {{"take", "--connect"}, "needs a value"},
    {{"take", "--connect", "127.0.0.1"}, "port is missing"},
    {{"take", "--connect", "127.0.0.1:"}, "port is missing"},
    {{"take", "--connect", ":4242"}, "host is missing"},
    {{"take", "--connect", "127.0.0.1:0"}, "out of range"},
    {{"take", "--connect", "127.0.0.1:65536"}, "out of range"},
    {{"take", "--connect", "127.0.0.1:99999999999999999999"}, "out of range"},
    {{"take", "--connect", "127.0.0.1:-1"}, "not a number"},
    {{"take", "--connect", "127.0.0.1:42x"}, "not a number"},
    {{"take", "--connect", "::1:4242"}, "brackets"},
    {{"take", "--connect", "[::1:4242"}, "missing ']'"},
    {{"take", "--connect", "127.0.0.1:4242", "--timeout", "0"}, "--timeout"},
    {{"take", "--connect", "127.0.0.1:4242", "--timeout", "x"}, "--timeout"},
    {{"take", "--connect", "127.0.0.1:4242", "--out", ""}, "--out"},
    {{"take", "--connect", "127.0.0.1:4242", "extra"}, "unexpected argument"},
    {{"take", "--bogus"}, "unknown option"},
  };
  for (auto& [args, needle] : cases) {
    SCOPED_TRACE(args.back());
    auto res = run_tool(args);
    expect_failure(res, 2, needle);
  }
}

TEST(inspect_take, unreachable_port_is_reported) {
  // A port that was free a moment ago: bind, read the port, close.
  auto fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  test::temp_dir out;
  auto port = std::to_string(ntohs(addr.sin_port));
  auto res
    = run_tool({"take", "--connect", "127.0.0.1:" + port, "--out", out.path()});
  expect_failure(res, 1, "cannot connect to 127.0.0.1:" + port);
  EXPECT_TRUE(entries(out.path()).empty());
}

TEST(inspect_take, silent_peer_times_out) {
  // Accepts TCP connections (in the kernel's backlog) but never speaks.
  auto fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  test::temp_dir out;
  auto port = std::to_string(ntohs(addr.sin_port));
  auto res = run_tool({"take", "--connect", "127.0.0.1:" + port, "--out",
                       out.path(), "--timeout", "1"});
  ::close(fd);
  expect_failure(res, 1, "no answer within 1 s");
  EXPECT_TRUE(entries(out.path()).empty());
}

TEST_F(inspect_take_system, bad_output_directory_fails_before_any_snapshot) {
  actors.push_back(sys.spawn(account_fn, std::string{"a"}, int64_t{1}));
  auto port = publish_coordinator();
  ASSERT_NE(port, 0);
  auto missing = out.path() + "/missing";
  expect_failure(run_tool({"take", "--connect", at(port), "--out", missing}), 1,
                 "cannot use output directory " + missing);
  auto file = out.path() + "/file";
  test::write_file(file, "not a directory");
  expect_failure(run_tool({"take", "--connect", at(port), "--out", file}), 1,
                 "Not a directory");
  // The coordinator was not even asked.
  EXPECT_TRUE(entries(snaps.path()).empty());
}

TEST_F(inspect_take_system, read_only_output_directory_is_a_disk_error) {
  if (::geteuid() == 0)
    GTEST_SKIP() << "root may write to read-only directories";
  auto port = publish_coordinator();
  ASSERT_NE(port, 0);
  auto dir = out.path() + "/ro";
  ASSERT_EQ(::mkdir(dir.c_str(), 0500), 0);
  expect_failure(run_tool({"take", "--connect", at(port), "--out", dir}), 1,
                 "cannot write to output directory");
  ::chmod(dir.c_str(), 0700);
}

TEST_F(inspect_take_system, plain_actor_is_not_a_coordinator) {
  auto plain = sys.spawn([](caf::event_based_actor* self) -> caf::behavior {
    self->set_default_handler(caf::drop);
    return {[](int32_t x) { return x; }};
  });
  auto port = publish_actor(plain);
  ASSERT_NE(port, 0);
  expect_failure(run_tool({"take", "--connect", at(port), "--out", out.path(),
                           "--timeout", "30"}),
                 1, at(port) + " is not a snapshot coordinator");
  EXPECT_TRUE(entries(out.path()).empty());
}

TEST_F(inspect_take_system,
       actor_answering_something_else_is_not_a_coordinator) {
  auto odd = sys.spawn([]() -> caf::behavior {
    return {[](snap::detail::info_atom) { return std::string{"hello"}; }};
  });
  auto port = publish_actor(odd);
  ASSERT_NE(port, 0);
  expect_failure(run_tool({"take", "--connect", at(port), "--out", out.path(),
                           "--timeout", "30"}),
                 1, "is not a snapshot coordinator");
}

// What a fake coordinator answers to `take_atom`: `info`, else `err`, else
// nothing ever.
struct fake_reply {
  std::optional<snap::snapshot_info> info;
  caf::error err;
};

struct fake_state {
  std::vector<caf::response_promise> held; // never answered
};

// A fake coordinator: speaks protocol `version`, answers `take_atom` with
// `reply` and `fetch_atom` with the bytes of `file`.
caf::behavior fake_fn(caf::stateful_actor<fake_state>* self, uint32_t version,
                      fake_reply reply, std::string file) {
  return {
    [=](snap::detail::info_atom) {
      return std::make_tuple(version, std::string{"fake-node"});
    },
    [=](snap::take_atom) {
      auto rp = self->make_response_promise();
      if (reply.info)
        rp.deliver(*reply.info);
      else if (reply.err)
        rp.deliver(reply.err);
      else
        self->state.held.push_back(std::move(rp));
    },
    [=](snap::detail::fetch_atom, uint64_t,
        uint64_t offset) -> caf::result<std::vector<char>, uint64_t> {
      if (offset > file.size())
        return snap::make_error(snap::errc::invalid_argument, "offset");
      auto n = std::min<uint64_t>(file.size() - offset,
                                  snap::detail::fetch_chunk_size);
      std::vector<char> chunk(file.begin() + offset, file.begin() + offset + n);
      return {std::move(chunk), uint64_t{file.size()}};
    },
  };
}

snap::snapshot_info fake_info(uint64_t bytes) {
  snap::snapshot_info info;
  info.id = 7;
  info.path = "/remote/snaps/snapshot-00000007-1700000000000.cafsnap";
  info.actors = 1;
  info.bytes = bytes;
  info.duration_ms = 1;
  return info;
}

TEST_F(inspect_take_system, other_protocol_version_is_refused) {
  auto port = publish_actor(
    sys.spawn(fake_fn, uint32_t{99}, fake_reply{}, std::string{}));
  ASSERT_NE(port, 0);
  expect_failure(run_tool({"take", "--connect", at(port), "--out", out.path()}),
                 1,
                 "speaks snapshot protocol version 99, this caf-snapshot "
                 "speaks version "
                   + std::to_string(snap::detail::protocol_version));
}

TEST_F(inspect_take_system, failed_snapshot_reports_the_coordinators_error) {
  auto err = snap::make_error(snap::errc::storage_failed,
                              "/remote/snaps: No space left on device");
  auto port
    = publish_actor(sys.spawn(fake_fn, snap::detail::protocol_version,
                              fake_reply{std::nullopt, err}, std::string{}));
  ASSERT_NE(port, 0);
  auto res = run_tool({"take", "--connect", at(port), "--out", out.path()});
  expect_failure(res, 1, "the snapshot at " + at(port) + " failed");
  EXPECT_NE(res.err.find("storage_failed"), std::string::npos) << res.err;
  EXPECT_NE(res.err.find("No space left on device"), std::string::npos)
    << res.err;
}

TEST_F(inspect_take_system, snapshot_that_never_completes_times_out) {
  auto port = publish_actor(sys.spawn(fake_fn, snap::detail::protocol_version,
                                      fake_reply{}, std::string{}));
  ASSERT_NE(port, 0);
  expect_failure(run_tool({"take", "--connect", at(port), "--out", out.path(),
                           "--timeout", "1"}),
                 1, "failed: no answer within 1 s");
  EXPECT_TRUE(entries(out.path()).empty());
}

TEST_F(inspect_take_system, damaged_download_is_rejected_and_removed) {
  // 1.5 chunks of bytes that are no snapshot.
  std::string garbage(snap::detail::fetch_chunk_size * 3 / 2, 'x');
  auto port = publish_actor(sys.spawn(fake_fn, snap::detail::protocol_version,
                                      fake_reply{fake_info(garbage.size()), {}},
                                      garbage));
  ASSERT_NE(port, 0);
  auto res = run_tool({"take", "--connect", at(port), "--out", out.path()});
  expect_failure(res, 1, "the downloaded snapshot 7 is damaged");
  // Named as the user knows the file, not by its temporary name.
  EXPECT_NE(res.err.find("snapshot-00000007-1700000000000.cafsnap"),
            std::string::npos)
    << res.err;
  EXPECT_EQ(res.err.find(".part"), std::string::npos) << res.err;
  EXPECT_TRUE(entries(out.path()).empty());
}

TEST_F(inspect_take_system, truncated_download_is_rejected) {
  // The coordinator reports more bytes than the file has.
  std::string file(1000, 'x');
  auto port = publish_actor(sys.spawn(fake_fn, snap::detail::protocol_version,
                                      fake_reply{fake_info(2000), {}}, file));
  ASSERT_NE(port, 0);
  auto res = run_tool({"take", "--connect", at(port), "--out", out.path()});
  expect_failure(res, 1, "downloading snapshot 7 from " + at(port));
  EXPECT_TRUE(entries(out.path()).empty());
}

// -- the deadlock example as a separate process
// --------------------------------

TEST(inspect_take, deadlock_example_snapshot_shows_the_cycle) {
  test::temp_dir remote;
  test::temp_dir out;
  // The deadlocked actors never terminate, so the example cannot free them:
  // under AddressSanitizer, its leak check would fail the exit code.
  std::string asan = "ASAN_OPTIONS=";
  if (auto inherited = ::getenv("ASAN_OPTIONS"))
    asan += std::string{inherited} + ":";
  asan += "detect_leaks=0";
  child app{{CAF_SNAPSHOT_DEADLOCK, "--port=0",
             "--snapshot-dir=" + remote.path(), "--seconds=600"},
            {asan}};
  auto has = [&](const std::string& needle) {
    return
      [&app, needle] { return app.out().find(needle) != std::string::npos; };
  };
  ASSERT_TRUE(app.read_until(has("\nDEADLOCK "), in(60s)))
    << "no deadlock reported; output:\n"
    << app.out() << app.err();
  auto pos = app.out().find("COORDINATOR PORT ");
  ASSERT_NE(pos, std::string::npos) << app.out();
  auto port = std::stoi(app.out().substr(pos + 17));
  auto res = run_tool({"take", "--connect", "127.0.0.1:" + std::to_string(port),
                       "--out", out.path()});
  ASSERT_EQ(res.code, 0) << res.err;
  auto names = entries(out.path());
  ASSERT_EQ(names.size(), 1u);
  auto path = out.path() + "/" + *names.begin();
  EXPECT_EQ(read_file(path), read_file(remote.path() + "/" + *names.begin()));
  auto check = run_tool({"check", path});
  EXPECT_EQ(check.code, 1) << check.out << check.err;
  EXPECT_NE(check.out.find("deadlock"), std::string::npos) << check.out;
  for (auto name : {"teller", "auditor", "ledger"})
    EXPECT_NE(check.out.find(name), std::string::npos) << name << check.out;
  // The example stops on SIGTERM despite its deadlocked actors.
  ::kill(app.pid(), SIGTERM);
  auto code = app.wait(in(60s));
  ASSERT_TRUE(code) << "the example did not stop on SIGTERM";
  EXPECT_EQ(*code, 0) << app.err();
  EXPECT_NE(app.out().find("stopping on "), std::string::npos) << app.out();
}

} // namespace
