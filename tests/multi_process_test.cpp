// Snapshots of a cluster of three OS processes: the distributed_bank example
// runs as a root and two members on 127.0.0.1, the root takes snapshots, and
// the test kills one member (during a snapshot, or between two). Snapshots
// before the kill are complete and conserve money; the snapshot the kill hits
// ends (incomplete, naming the lost node, or with a clear error) within the
// snapshot timeout; later snapshots cover the two remaining nodes.
//
// The test synchronizes on the processes' output lines and on the root's
// snapshot directory, each with a deadline; every process it starts is
// stopped (SIGTERM, then SIGKILL, then waitpid) on every path.
//
// A process that reported its result must also exit: a hang in CAF's
// shutdown (as a detached coordinator used to cause) fails the test.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

#ifndef CAF_SNAPSHOT_DISTRIBUTED_BANK
#  error "CAF_SNAPSHOT_DISTRIBUTED_BANK must name the distributed_bank binary"
#endif

namespace fs = std::filesystem;

using namespace std::chrono_literals;

namespace {

using deposit_atom = caf::atom_constant<caf::atom("deposit")>;
using steady = std::chrono::steady_clock;

constexpr int64_t initial_balance = 100; // as in the example
constexpr size_t accounts_per_node = 4;
constexpr size_t num_snapshots = 8;

// Same archive layout as the example's account.
struct account {
  int64_t balance = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& balance;
  }
};

steady::time_point in(steady::duration d) {
  return steady::now() + d;
}

// One child process whose stdout and stderr go to a pipe read by the test.
class process {
public:
  process(std::string name, const std::vector<std::string>& args)
    : name_(std::move(name)) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe2: " + std::string{strerror(errno)});
    // Everything the child needs, prepared before fork.
    std::vector<std::string> all{CAF_SNAPSHOT_DISTRIBUTED_BANK};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : all)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    auto parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      throw std::runtime_error("fork: " + std::string{strerror(errno)});
    }
    if (pid_ == 0) {
      // Child: only async-signal-safe calls until exec. Dies with the test.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent)
        ::_exit(127);
      ::dup2(fds[1], STDOUT_FILENO);
      ::dup2(fds[1], STDERR_FILENO);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }

  process(const process&) = delete;
  process& operator=(const process&) = delete;

  ~process() {
    stop();
    if (fd_ >= 0)
      ::close(fd_);
  }

  const std::string& name() const {
    return name_;
  }

  pid_t pid() const {
    return pid_;
  }

  /// Everything the process printed so far.
  const std::string& output() const {
    return output_;
  }

  /// Reads what the process printed until `deadline` or until at least one
  /// complete line is available; returns the next line, if any.
  std::optional<std::string> next_line(steady::time_point deadline) {
    for (;;) {
      if (auto line = pop_line())
        return line;
      if (!read_some(deadline))
        return std::nullopt;
    }
  }

  /// Returns the next line starting with `prefix` (skipping others).
  std::optional<std::string> wait_for(const std::string& prefix,
                                      steady::time_point deadline) {
    while (auto line = next_line(deadline))
      if (line->rfind(prefix, 0) == 0)
        return line;
    return std::nullopt;
  }

  /// Reads without blocking longer than `max_wait`; returns new lines.
  std::vector<std::string> poll_lines(steady::duration max_wait) {
    read_some(in(max_wait));
    std::vector<std::string> result;
    while (auto line = pop_line())
      result.push_back(std::move(*line));
    return result;
  }

  /// Waits for the process to exit (draining its output); returns its exit
  /// status, or -1 on timeout (the process keeps running) or on a signal.
  int wait_exit(steady::time_point deadline) {
    while (read_some(deadline))
      ; // until EOF or deadline
    while (!reaped_) {
      int status = 0;
      auto res = ::waitpid(pid_, &status, WNOHANG);
      if (res == pid_) {
        reaped_ = true;
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        break;
      }
      if (res < 0 || steady::now() >= deadline)
        return -1;
      std::this_thread::sleep_for(5ms); // polling waitpid, not a sync point
    }
    return status_;
  }

  /// Whether the process has not been reaped yet.
  bool running() const {
    return !reaped_;
  }

  /// Sends `sig` (unless the process was reaped already).
  void signal(int sig) {
    if (!reaped_)
      ::kill(pid_, sig);
  }

  /// Kills the process at once and reaps it.
  void kill_now() {
    if (reaped_)
      return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR)
      ;
    reaped_ = true;
    status_ = -1;
  }

  /// SIGTERM (and SIGCONT, in case it is stopped), up to 3 s to exit, then
  /// SIGKILL; always reaps.
  void stop() {
    if (reaped_ || pid_ <= 0)
      return;
    ::kill(pid_, SIGTERM);
    ::kill(pid_, SIGCONT);
    auto deadline = in(3s);
    while (steady::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return;
      }
      std::this_thread::sleep_for(5ms);
    }
    kill_now();
  }

private:
  std::optional<std::string> pop_line() {
    auto pos = pending_.find('\n');
    if (pos == std::string::npos)
      return std::nullopt;
    auto line = pending_.substr(0, pos);
    pending_.erase(0, pos + 1);
    return line;
  }

  // Returns false on timeout or EOF.
  bool read_some(steady::time_point deadline) {
    if (eof_)
      return false;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - steady::now());
      pollfd pfd{fd_, POLLIN, 0};
      auto res = ::poll(&pfd, 1, std::max<int>(0, left.count()));
      if (res < 0 && errno == EINTR)
        continue;
      if (res <= 0)
        return false;
      char buf[4096];
      auto n = ::read(fd_, buf, sizeof(buf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        eof_ = true;
        return false;
      }
      output_.append(buf, static_cast<size_t>(n));
      pending_.append(buf, static_cast<size_t>(n));
      return true;
    }
  }

  std::string name_;
  pid_t pid_ = -1;
  int fd_ = -1;
  bool eof_ = false;
  bool reaped_ = false;
  int status_ = -1;
  std::string output_;
  std::string pending_;
};

// The value of `key=` in a line of `key=value` fields; `path` is the last
// field and may contain spaces.
std::string field(const std::string& line, const std::string& key) {
  auto needle = " " + key + "=";
  auto pos = line.find(needle);
  if (pos == std::string::npos)
    return {};
  pos += needle.size();
  if (key == "path" || key == "reason" || key == "error")
    return line.substr(pos);
  return line.substr(pos, line.find(' ', pos) - pos);
}

int64_t int_field(const std::string& line, const std::string& key) {
  auto str = field(line, key);
  return str.empty() ? -1 : std::stoll(str);
}

// What the root reported for one snapshot attempt.
struct attempt {
  bool failed = false;     // SNAPSHOT_FAILED
  std::string line;        // SNAPSHOT or SNAPSHOT_FAILED line
  std::string incomplete;  // reason of the INCOMPLETE line, if any
};

// Everything loaded back from a stored snapshot.
struct loaded {
  bool ok = false;
  bool complete = false;
  std::string reason;
  std::set<std::string> nodes;
  size_t actors = 0;
  int64_t total = 0; // balances plus deposits in flight
};

loaded load_file(caf::actor_system& sys, const std::string& path) {
  loaded result;
  auto snap = caf::snapshot::load(path);
  if (!snap) {
    ADD_FAILURE() << path << ": " << caf::snapshot::render(snap.error());
    return result;
  }
  result.ok = true;
  result.complete = snap->complete;
  result.reason = snap->incomplete_reason;
  result.actors = snap->actors.size();
  for (auto& a : snap->actors) {
    result.nodes.insert(a.node);
    account st;
    if (auto err = a.load_state(st))
      ADD_FAILURE() << caf::snapshot::render(err);
    result.total += st.balance;
  }
  for (auto& m : snap->in_flight) {
    auto msg = m.decode(sys);
    if (msg && msg->match_elements<deposit_atom, int64_t>())
      result.total += msg->get_as<int64_t>(1);
  }
  return result;
}

class multi_process_test : public testing::Test {
protected:
  void TearDown() override {
    // Stop everything first, so that the output below is complete.
    for (auto& p : procs_)
      p->stop();
    if (HasFailure())
      for (auto& p : procs_)
        std::cerr << "---- output of " << p->name() << " (pid " << p->pid()
                  << ") ----\n"
                  << p->output() << "---- end of " << p->name() << " ----\n";
    procs_.clear();
  }

  // Loads a stored snapshot; decodes messages with a local actor system.
  loaded load(const std::string& path) {
    if (!decoder_) {
      decoder_cfg_.set("logger.console", caf::atom("none"));
      decoder_cfg_.set("scheduler.max-threads", 1);
      decoder_ = std::make_unique<caf::actor_system>(decoder_cfg_);
    }
    return load_file(*decoder_, path);
  }

  process& start(std::string name, std::vector<std::string> args) {
    procs_.push_back(std::make_unique<process>(std::move(name), args));
    return *procs_.back();
  }

  std::string root_dir() const {
    return dir_.path() + "/root";
  }

  // Starts the root and `members` members; returns false on failure.
  bool start_cluster(size_t members, size_t snapshots,
                     const std::string& interval_ms) {
    root_ = &start("root", {"--role=root", "--port=0",
                            "--total-nodes=" + std::to_string(members + 1),
                            "--accounts=" + std::to_string(accounts_per_node),
                            "--snapshots=" + std::to_string(snapshots),
                            "--interval-ms=" + interval_ms, "--tick-ms=1",
                            "--wait-ms=20000", "--snapshot.timeout=5s",
                            "--snapshot.directory=" + root_dir()});
    auto ready = root_->wait_for("ROOT READY ", in(20s));
    if (!ready) {
      ADD_FAILURE() << "the root did not get ready";
      return false;
    }
    auto port = field(*ready, "port");
    root_node_ = field(*ready, "node");
    EXPECT_FALSE(root_node_.empty()) << *ready;
    if (port.empty() || port == "0") {
      ADD_FAILURE() << "no port in: " << *ready;
      return false;
    }
    for (size_t i = 1; i <= members; ++i) {
      auto name = "member" + std::to_string(i);
      members_.push_back(
        &start(name, {"--role=member", "--port=" + port,
                      "--accounts=" + std::to_string(accounts_per_node),
                      "--tick-ms=1", "--wait-ms=20000",
                      "--snapshot.directory=" + dir_.path() + "/" + name}));
    }
    for (auto* m : members_) {
      auto line = m->wait_for("MEMBER READY ", in(20s));
      if (!line) {
        ADD_FAILURE() << m->name() << " did not get ready";
        return false;
      }
      member_nodes_.push_back(field(*line, "node"));
      EXPECT_NE(field(*line, "port"), "") << *line;
    }
    auto cluster = root_->wait_for("CLUSTER READY ", in(20s));
    if (!cluster) {
      ADD_FAILURE() << "the cluster did not form";
      return false;
    }
    EXPECT_EQ(int_field(*cluster, "nodes"), static_cast<int64_t>(members + 1));
    return true;
  }

  // Reads the root's output up to the end of the next snapshot attempt.
  std::optional<attempt> next_attempt(steady::time_point deadline) {
    attempt result;
    while (auto line = root_->next_line(deadline)) {
      if (line->rfind("INCOMPLETE ", 0) == 0) {
        result.incomplete = field(*line, "reason");
      } else if (line->rfind("SNAPSHOT ", 0) == 0) {
        result.line = *line;
        return result;
      } else if (line->rfind("SNAPSHOT_FAILED ", 0) == 0) {
        result.failed = true;
        result.line = *line;
        return result;
      }
    }
    return std::nullopt;
  }

  // A snapshot of all three nodes: complete, conserving money.
  void check_full(const attempt& x) {
    SCOPED_TRACE(x.line);
    ASSERT_FALSE(x.failed);
    EXPECT_EQ(field(x.line, "complete"), "1");
    EXPECT_EQ(int_field(x.line, "nodes"), 3);
    EXPECT_EQ(int_field(x.line, "actors"),
              static_cast<int64_t>(3 * accounts_per_node));
    EXPECT_EQ(field(x.line, "checked"), "1");
    auto expected = static_cast<int64_t>(3 * accounts_per_node)
                    * initial_balance;
    EXPECT_EQ(int_field(x.line, "expected"), expected);
    EXPECT_EQ(int_field(x.line, "total"), expected);
    auto snap = load(field(x.line, "path"));
    ASSERT_TRUE(snap.ok);
    EXPECT_TRUE(snap.complete);
    EXPECT_EQ(snap.total, expected);
    std::set<std::string> all{root_node_, member_nodes_[0], member_nodes_[1]};
    EXPECT_EQ(snap.nodes, all);
  }

  // The snapshots after `lost` was killed. Each one either still saw all
  // three nodes (the kill came later), or ends because of the lost node
  // (incomplete naming it, or node_lost / timed_out), or covers the two
  // remaining nodes. In that order; the last one covers the two nodes.
  // Returns how many ended because of the lost node.
  size_t check_after_kill(const std::vector<attempt>& xs,
                          const std::string& lost) {
    enum class stage { before, hit, after };
    auto phase = stage::before;
    size_t hits = 0;
    for (auto& x : xs) {
      SCOPED_TRACE(x.line);
      std::cout << "[          ] after the kill: " << x.line << '\n';
      if (!x.incomplete.empty())
        std::cout << "[          ]   incomplete: " << x.incomplete << '\n';
      if (x.failed) {
        auto err = field(x.line, "error");
        EXPECT_TRUE(err.find("node_lost") != std::string::npos
                    || err.find("timed_out") != std::string::npos)
          << "unclear error: " << err;
        EXPECT_NE(phase, stage::after) << "a snapshot failed after the loss";
        phase = stage::hit;
        ++hits;
        continue;
      }
      auto snap = load(field(x.line, "path"));
      if (!snap.ok)
        continue; // reported by load
      EXPECT_EQ(snap.complete, field(x.line, "complete") == "1");
      if (!snap.complete) {
        EXPECT_NE(x.incomplete.find(lost), std::string::npos)
          << "reason does not name " << lost << ": " << x.incomplete;
        EXPECT_NE(snap.reason.find(lost), std::string::npos) << snap.reason;
        EXPECT_EQ(field(x.line, "checked"), "0");
        EXPECT_NE(phase, stage::after) << "incomplete after the loss";
        phase = stage::hit;
        ++hits;
      } else if (snap.nodes.count(lost) != 0) {
        EXPECT_EQ(phase, stage::before) << "the lost node is back";
        check_full(x);
      } else {
        EXPECT_EQ(int_field(x.line, "nodes"), 2);
        EXPECT_EQ(int_field(x.line, "actors"),
                  static_cast<int64_t>(2 * accounts_per_node));
        std::set<std::string> two{root_node_, lost == member_nodes_[0]
                                                ? member_nodes_[1]
                                                : member_nodes_[0]};
        EXPECT_EQ(snap.nodes, two);
        EXPECT_EQ(field(x.line, "checked"), "0");
        phase = stage::after;
      }
    }
    EXPECT_EQ(phase, stage::after) << "no snapshot of the two remaining nodes";
    return hits;
  }

  // Waits for `p` to exit after it printed `done` and checks its status.
  void expect_exit(process& p, const std::string& done, int code) {
    EXPECT_NE(p.output().find(done), std::string::npos)
      << p.name() << " did not print '" << done << "'";
    auto rc = p.wait_exit(in(20s));
    if (p.running()) {
      ADD_FAILURE() << p.name() << " (pid " << p.pid() << ") printed '"
                    << done << "' but did not exit within 20 s";
      p.stop();
      return;
    }
    EXPECT_EQ(rc, code) << p.name() << " exit status";
  }

  // After the root is done: it exits with 0 (all checked snapshots
  // conserved money); the remaining member notices and exits with 0.
  void check_shutdown(process& survivor, const std::string& lost) {
    root_->wait_for("ROOT DONE ", in(20s));
    EXPECT_NE(root_->output().find("NODE LOST node=" + lost),
              std::string::npos);
    expect_exit(*root_, "ROOT DONE ok", 0);
    survivor.wait_for("MEMBER DONE", in(20s));
    EXPECT_NE(survivor.output().find("ROOT LOST node=" + root_node_),
              std::string::npos);
    expect_exit(survivor, "MEMBER DONE", 0);
  }

  test::temp_dir dir_;
  caf::actor_system_config decoder_cfg_;
  std::unique_ptr<caf::actor_system> decoder_;
  std::vector<std::unique_ptr<process>> procs_;
  process* root_ = nullptr;
  std::vector<process*> members_;
  std::string root_node_;
  std::vector<std::string> member_nodes_;
};

// Whether the root is writing snapshot `id`: its temporary file, named
// `.snapshot-<id>-<...>.tmp`, exists.
bool writing(const std::string& dir, uint64_t id) {
  std::error_code ec;
  for (auto& entry : fs::directory_iterator{dir, ec}) {
    auto name = entry.path().filename().string();
    std::string prefix = ".snapshot-";
    if (name.rfind(prefix, 0) != 0 || entry.path().extension() != ".tmp")
      continue;
    auto digits = name.substr(prefix.size(), name.find('-', prefix.size())
                                               - prefix.size());
    if (!digits.empty()
        && digits.find_first_not_of("0123456789") == std::string::npos
        && std::stoull(digits) == id)
      return true;
  }
  return false;
}

} // namespace

// A member is stopped (SIGSTOP), so the next snapshot waits for it; once
// the root has started that snapshot, the member is killed (SIGKILL).
TEST_F(multi_process_test, member_killed_during_a_snapshot) {
  auto t0 = steady::now();
  ASSERT_TRUE(start_cluster(2, num_snapshots, "500"));
  for (int i = 0; i < 2; ++i) {
    auto x = next_attempt(in(20s));
    ASSERT_TRUE(x) << "snapshot " << i + 1 << " did not end";
    check_full(*x);
    if (HasFatalFailure() || HasFailure())
      return;
  }
  auto& victim = *members_[1];
  auto lost = member_nodes_[1];
  victim.signal(SIGSTOP);
  // Wait until the root writes a snapshot that the stopped member holds up.
  std::vector<attempt> after_kill;
  uint64_t next = 3;
  auto deadline = in(20s);
  while (!writing(root_dir(), next)) {
    ASSERT_LT(steady::now(), deadline) << "snapshot " << next
                                       << " did not start";
    for (auto& line : root_->poll_lines(10ms)) {
      // The stop came too late for this one: it saw all three nodes.
      if (line.rfind("SNAPSHOT ", 0) == 0
          && int_field(line, "id") == static_cast<int64_t>(next)) {
        after_kill.push_back(attempt{false, line, {}});
        ++next;
      }
    }
  }
  victim.kill_now();
  auto killed_at = steady::now();
  auto x = next_attempt(in(20s));
  ASSERT_TRUE(x) << "the snapshot held up by the lost node did not end";
  // It ends within snapshot.timeout (5 s) plus some slack.
  EXPECT_LT(steady::now() - killed_at, 8s);
  after_kill.push_back(*x);
  while (after_kill.size() < num_snapshots - 2) {
    auto y = next_attempt(in(20s));
    ASSERT_TRUE(y) << "snapshot attempt " << after_kill.size() + 3
                   << " did not end";
    after_kill.push_back(*y);
  }
  auto hits = check_after_kill(after_kill, lost);
  EXPECT_GE(hits, 1u) << "the kill hit no snapshot";
  check_shutdown(*members_[0], lost);
  EXPECT_LT(steady::now() - t0, 60s);
}

// A member is killed between two snapshots: later snapshots leave it out.
TEST_F(multi_process_test, member_killed_between_snapshots) {
  auto t0 = steady::now();
  ASSERT_TRUE(start_cluster(2, num_snapshots, "300"));
  for (int i = 0; i < 2; ++i) {
    auto x = next_attempt(in(20s));
    ASSERT_TRUE(x) << "snapshot " << i + 1 << " did not end";
    check_full(*x);
    if (HasFailure())
      return;
  }
  auto lost = member_nodes_[0];
  members_[0]->kill_now();
  std::vector<attempt> after_kill;
  while (after_kill.size() < num_snapshots - 2) {
    auto x = next_attempt(in(20s));
    ASSERT_TRUE(x) << "snapshot attempt " << after_kill.size() + 3
                   << " did not end";
    after_kill.push_back(*x);
  }
  check_after_kill(after_kill, lost);
  check_shutdown(*members_[1], lost);
  EXPECT_LT(steady::now() - t0, 60s);
}

// The same program as a cluster of one: every snapshot is checked.
TEST_F(multi_process_test, root_alone_conserves_money) {
  auto& root = start("root", {"--role=root", "--port=0", "--total-nodes=1",
                              "--accounts=6", "--snapshots=3",
                              "--interval-ms=50", "--snapshot.timeout=5s",
                              "--snapshot.directory=" + root_dir()});
  ASSERT_TRUE(root.wait_for("ROOT READY ", in(20s)));
  for (int i = 1; i <= 3; ++i) {
    auto line = root.wait_for("SNAPSHOT ", in(20s));
    ASSERT_TRUE(line) << "snapshot " << i;
    EXPECT_EQ(int_field(*line, "id"), i) << *line;
    EXPECT_EQ(field(*line, "complete"), "1") << *line;
    EXPECT_EQ(int_field(*line, "nodes"), 1) << *line;
    EXPECT_EQ(field(*line, "checked"), "1") << *line;
    EXPECT_EQ(int_field(*line, "total"), 600) << *line;
    EXPECT_EQ(load(field(*line, "path")).total, 600) << *line;
  }
  EXPECT_EQ(root.wait_exit(in(20s)), 0);
}

// A member pointed at a port where no root listens fails with a clear line
// and a non-zero exit status.
TEST_F(multi_process_test, member_without_root_fails_clearly) {
  // A port that was free a moment ago: bound by the root, which then exits.
  auto& root = start("root", {"--role=root", "--port=0", "--total-nodes=1",
                              "--snapshots=0",
                              "--snapshot.directory=" + root_dir()});
  auto ready = root.wait_for("ROOT READY ", in(20s));
  ASSERT_TRUE(ready);
  ASSERT_EQ(root.wait_exit(in(20s)), 0);
  auto& member = start("member", {"--role=member",
                                  "--port=" + field(*ready, "port"),
                                  "--snapshot.directory=" + dir_.path()
                                    + "/member"});
  auto line = member.wait_for("MEMBER FAILED ", in(20s));
  ASSERT_TRUE(line) << member.output();
  std::cout << "[          ] " << *line << '\n';
  EXPECT_NE(line->find("cannot join"), std::string::npos) << *line;
  EXPECT_EQ(member.wait_exit(in(20s)), 1);
}
