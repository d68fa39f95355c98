// Tests of the command-line inspector `caf-snapshot`: real snapshots are
// taken in a temporary directory, then the built tool runs on them (popen)
// and its output and exit codes are checked.

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "tool_runner.hpp"

#ifndef CAF_SNAPSHOT_TOOL
#  error "CAF_SNAPSHOT_TOOL must name the caf-snapshot binary"
#endif

namespace fs = std::filesystem;

namespace {

using test::count;
using test::expect_one_stderr_line;
using test::lines_of;
using test::quote;
using test::read_file;
using test::run_result;
using test::write_file;

using deposit_atom = caf::atom_constant<caf::atom("deposit")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;

constexpr size_t num_accounts = 30;
constexpr size_t num_external = 25;

struct account {
  int64_t balance = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& balance;
  }
};

std::string to_string(const account& x) {
  return "balance=" + std::to_string(x.balance);
}

// Skips every deposit: they stay in flight (stashed or queued) at the cut.
struct sink {
  int64_t received = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& received;
  }
};

// Contains control characters that the tool must not print raw.
std::string to_string(const sink& x) {
  return "sink\nreceived=" + std::to_string(x.received) + "\x1b[31m";
}

caf::behavior sink_fn(caf::snapshot::stateful_actor<sink>*) {
  return {
    [=](deposit_atom, int64_t) { return caf::skip(); },
  };
}

// On tick: one deposit to the sink and one to itself in an hour (so that it
// waits in the actor clock at the cut).
caf::behavior account_fn(caf::snapshot::stateful_actor<account>* self,
                         int64_t balance, caf::actor sink) {
  self->state.balance = balance;
  return {
    [=](tick_atom) {
      self->send(sink, deposit_atom::value, int64_t{1});
      self->delayed_send(caf::actor_cast<caf::actor>(self),
                         std::chrono::hours{1}, deposit_atom::value,
                         int64_t{2});
    },
    [=](deposit_atom, int64_t amount) { self->state.balance += amount; },
  };
}

std::string trim_left(const std::string& str) {
  auto pos = str.find_first_not_of(' ');
  return pos == std::string::npos ? std::string{} : str.substr(pos);
}

class tool_test : public testing::Test {
public:
  static void SetUpTestSuite() {
    snaps_ = std::make_unique<test::temp_dir>();
    work_ = std::make_unique<test::temp_dir>();
    test::config cfg{snaps_->path()};
    caf::actor_system sys{cfg};
    std::vector<caf::actor> actors; // all of them, stopped on every exit
    struct stop_all {
      std::vector<caf::actor>& xs;
      ~stop_all() {
        for (auto& x : xs)
          caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
      }
    } guard{actors};
    auto sink = sys.spawn(sink_fn);
    actors.push_back(sink);
    sink_id_ = sink.id();
    std::vector<caf::actor> accounts;
    for (size_t i = 0; i < num_accounts; ++i) {
      auto balance = static_cast<int64_t>(100 + i);
      accounts.push_back(sys.spawn(account_fn, balance, sink));
      actors.push_back(accounts.back());
      account_ids_.push_back(accounts.back().id());
      balances_.push_back(balance);
    }
    for (size_t i = 0; i < num_external; ++i)
      caf::anon_send(sink, deposit_atom::value, static_cast<int64_t>(i));
    {
      // Each tick is handled (its sends done) before the snapshot starts.
      caf::scoped_actor self{sys};
      for (auto& a : accounts)
        self->request(a, caf::infinite, tick_atom::value)
          .receive([] {}, [](caf::error& err) { FAIL() << to_string(err); });
    }
    for (int i = 0; i < 2; ++i) {
      auto info = test::take(sys);
      ASSERT_TRUE(info) << sys.render(info.error());
      paths_.push_back(info->path);
    }
    auto snap = caf::snapshot::load(paths_[0]);
    ASSERT_TRUE(snap) << caf::snapshot::render(snap.error());
    num_actors_ = snap->actors.size();
    num_in_flight_ = snap->in_flight.size();
    node_ = snap->actors.at(0).node;
    for (auto& m : snap->in_flight)
      if (m.receiver == sink_id_)
        ++sink_messages_;
  }

  static void TearDownTestSuite() {
    snaps_.reset();
    work_.reset();
  }

protected:
  // Runs the tool with `args` (already quoted as needed).
  static run_result run(const std::string& args) {
    return test::tool_runner{CAF_SNAPSHOT_TOOL, work_->path()}.run(args);
  }

  static std::string dir() {
    return snaps_->path();
  }

  // A new, empty directory below the work directory.
  static std::string make_dir(const std::string& name) {
    auto path = work_->path() + "/" + name;
    fs::create_directories(path);
    return path;
  }

  // Writes the first half of snapshot 1 to `path`.
  static void write_truncated(const std::string& path) {
    auto bytes = read_file(paths_[0]);
    write_file(path, bytes.substr(0, bytes.size() / 2));
  }

  // Number of actor blocks in the output of `show`.
  static size_t actor_blocks(const std::string& out) {
    return count(out, "\nactor ");
  }

  static std::unique_ptr<test::temp_dir> snaps_;
  static std::unique_ptr<test::temp_dir> work_;
  static std::vector<std::string> paths_;
  static std::vector<caf::actor_id> account_ids_;
  static std::vector<int64_t> balances_;
  static caf::actor_id sink_id_;
  static size_t num_actors_;
  static size_t num_in_flight_;
  static size_t sink_messages_;
  static std::string node_;
};

std::unique_ptr<test::temp_dir> tool_test::snaps_;
std::unique_ptr<test::temp_dir> tool_test::work_;
std::vector<std::string> tool_test::paths_;
std::vector<caf::actor_id> tool_test::account_ids_;
std::vector<int64_t> tool_test::balances_;
caf::actor_id tool_test::sink_id_ = 0;
size_t tool_test::num_actors_ = 0;
size_t tool_test::num_in_flight_ = 0;
size_t tool_test::sink_messages_ = 0;
std::string tool_test::node_;

} // namespace

TEST_F(tool_test, snapshots_were_taken) {
  ASSERT_EQ(paths_.size(), 2u);
  EXPECT_EQ(num_actors_, num_accounts + 1);
  // External deposits and the accounts' deposits wait at the sink; each
  // account's delayed deposit waits in the clock.
  EXPECT_EQ(sink_messages_, num_external + num_accounts);
  EXPECT_EQ(num_in_flight_, num_external + 2 * num_accounts);
}

TEST_F(tool_test, help_exits_zero_for_every_subcommand) {
  for (auto args : {"--help", "-h", "help", "help list", "help show",
                    "help help", "list --help", "list -h", "show --help",
                    "show -h", "show FILE --bogus --help", "dot --help",
                    "diff --help", "check --help", "take --help",
                    "help dot", "help diff", "help check", "help take"}) {
    auto res = run(args);
    EXPECT_EQ(res.code, 0) << args;
    EXPECT_NE(res.out.find("Usage: caf-snapshot"), std::string::npos) << args;
    EXPECT_EQ(res.err, "") << args;
  }
  auto top = run("--help");
  for (auto cmd : {"list", "show", "dot", "diff", "check", "take"})
    EXPECT_NE(top.out.find(cmd), std::string::npos) << cmd;
  auto show = run("show --help");
  for (auto opt : {"--actor", "--node", "--limit", "--all"})
    EXPECT_NE(show.out.find(opt), std::string::npos) << opt;
  auto version = run("--version");
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(version.out.rfind("caf-snapshot ", 0), 0u) << version.out;
}

TEST_F(tool_test, unknown_subcommand_is_a_usage_error) {
  auto res = run("frobnicate");
  expect_one_stderr_line(res, 2, "frobnicate");
  EXPECT_NE(res.err.find("unknown subcommand 'frobnicate'"), std::string::npos)
    << res.err;
  EXPECT_EQ(res.out, "");
  expect_one_stderr_line(run("help frobnicate"), 2, "help frobnicate");
  expect_one_stderr_line(run("--frobnicate"), 2, "--frobnicate");
  expect_one_stderr_line(run(""), 2, "(no arguments)");
}

TEST_F(tool_test, wrong_arguments_are_usage_errors) {
  auto file = quote(paths_[0]);
  std::vector<std::string> cases{
    "show",
    "show " + file + " " + file,
    "show " + file + " --limit",
    "show " + file + " --limit ten",
    "show " + file + " --limit=-1",
    "show " + file + " --actor abc",
    "show " + file + " --actor 1,,2",
    "show " + file + " --all=yes",
    "show " + file + " --bogus",
    "show " + file + " -x",
    "list",
    "list " + quote(dir()) + " " + quote(dir()),
    "list " + quote(dir()) + " --all",
  };
  for (auto& args : cases) {
    auto res = run(args);
    expect_one_stderr_line(res, 2, args);
    EXPECT_EQ(res.out, "") << args;
    EXPECT_NE(res.err.find("--help"), std::string::npos) << res.err;
  }
}

TEST_F(tool_test, list_shows_the_snapshots_sorted_by_id) {
  auto res = run("list " + quote(dir()));
  EXPECT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(res.err, "");
  auto lines = lines_of(res.out);
  ASSERT_EQ(lines.size(), 3u) << res.out;
  EXPECT_EQ(lines[0].rfind("ID", 0), 0u) << lines[0];
  for (auto col : {"TIME", "NODES", "ACTORS", "IN-FLIGHT", "SIZE", "STATUS"})
    EXPECT_NE(lines[0].find(col), std::string::npos) << col;
  for (size_t i = 0; i < 2; ++i) {
    auto& line = lines[i + 1];
    EXPECT_EQ(trim_left(line).rfind(std::to_string(i + 1) + " ", 0), 0u)
      << line;
    EXPECT_NE(line.find(fs::path{paths_[i]}.filename().string()),
              std::string::npos)
      << line;
    EXPECT_NE(line.find(" complete "), std::string::npos) << line;
    EXPECT_NE(line.find(" " + std::to_string(num_actors_) + " "),
              std::string::npos)
      << line;
    EXPECT_NE(line.find(" " + std::to_string(num_in_flight_) + " "),
              std::string::npos)
      << line;
    // ISO-8601 in UTC, e.g. 2023-11-14T22:13:20.000Z.
    EXPECT_NE(line.find('T'), std::string::npos) << line;
    EXPECT_NE(line.find("Z "), std::string::npos) << line;
  }
}

TEST_F(tool_test, list_skips_dot_files_and_lists_damaged_files) {
  auto d = make_dir("mixed");
  for (auto& p : paths_)
    fs::copy_file(p, d + "/" + fs::path{p}.filename().string());
  fs::copy_file(paths_[0], d + "/.hidden.cafsnap");
  write_file(d + "/.snapshot-00000007-1234-abc.tmp", "partial");
  write_file(d + "/notes.txt", "not a snapshot");
  write_truncated(d + "/snapshot-00000003-1700000000000.cafsnap");
  auto res = run("list " + quote(d));
  expect_one_stderr_line(res, 1, "list mixed");
  auto lines = lines_of(res.out);
  ASSERT_EQ(lines.size(), 4u) << res.out;
  for (size_t i = 1; i <= 3; ++i)
    EXPECT_EQ(trim_left(lines[i]).rfind(std::to_string(i) + " ", 0), 0u)
      << lines[i];
  EXPECT_NE(lines[3].find("damaged"), std::string::npos) << lines[3];
  EXPECT_NE(lines[3].find("file_damaged"), std::string::npos) << lines[3];
  EXPECT_EQ(res.out.find("hidden"), std::string::npos);
  EXPECT_EQ(res.out.find(".tmp"), std::string::npos);
  EXPECT_EQ(res.out.find("notes"), std::string::npos);
}

TEST_F(tool_test, list_of_missing_directory_fails) {
  auto missing = work_->path() + "/no-such-dir";
  auto res = run("list " + quote(missing));
  expect_one_stderr_line(res, 1, "list missing");
  EXPECT_NE(res.err.find("cannot_open"), std::string::npos) << res.err;
  EXPECT_EQ(res.out, "");
  auto empty = make_dir("empty");
  auto none = run("list " + quote(empty));
  EXPECT_EQ(none.code, 0);
  EXPECT_NE(none.out.find("no snapshot files"), std::string::npos);
}

TEST_F(tool_test, show_prints_summary_and_actors) {
  auto res = run("show " + quote(paths_[0]));
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(res.err, "");
  auto& out = res.out;
  EXPECT_EQ(out.rfind("snapshot 1\n", 0), 0u) << out;
  EXPECT_NE(out.find("coordinator:  " + node_), std::string::npos) << out;
  EXPECT_NE(out.find("requested:    "), std::string::npos);
  EXPECT_NE(out.find("completed:    "), std::string::npos);
  EXPECT_NE(out.find("duration:     "), std::string::npos);
  EXPECT_NE(out.find("complete:     yes"), std::string::npos);
  EXPECT_NE(
    out.find("actors:       " + std::to_string(num_actors_) + " on 1 node\n"),
    std::string::npos)
    << out;
  EXPECT_NE(out.find("in flight:    " + std::to_string(num_in_flight_) + " ("),
            std::string::npos)
    << out;
  EXPECT_NE(out.find("clock " + std::to_string(num_accounts)),
            std::string::npos)
    << out;
  // Default limit: 20 actors sorted by ID (the sink has the smallest ID).
  EXPECT_EQ(actor_blocks(out), 20u) << out;
  std::vector<caf::actor_id> ids = account_ids_;
  ids.push_back(sink_id_);
  std::sort(ids.begin(), ids.end());
  for (size_t i = 0; i < 20; ++i)
    EXPECT_NE(out.find("\nactor " + std::to_string(ids[i]) + " @ " + node_),
              std::string::npos)
      << ids[i];
  EXPECT_EQ(out.find("\nactor " + std::to_string(ids[20]) + " @"),
            std::string::npos);
  EXPECT_NE(out.find(std::to_string(num_actors_ - 20) + " actors omitted"),
            std::string::npos)
    << out;
  // The sink's waiting messages: 20 shown, the rest omitted.
  EXPECT_NE(
    out.find("messages:  " + std::to_string(sink_messages_) + " waiting"),
    std::string::npos)
    << out;
  EXPECT_NE(out.find(std::to_string(sink_messages_ - 20) + " messages omitted"),
            std::string::npos)
    << out;
  EXPECT_NE(out.find("('deposit', "), std::string::npos);
  EXPECT_NE(out.find("state:     balance="), std::string::npos);
  EXPECT_NE(out.find("status:    running"), std::string::npos);
  EXPECT_NE(out.find("requests:  0 pending"), std::string::npos);
  EXPECT_NE(out.find("\nchannels ("), std::string::npos);
  // The busiest channel: anonymous senders to the sink.
  EXPECT_NE(out.find("anonymous -> " + std::to_string(sink_id_) + ": "
                     + std::to_string(num_external) + " messages (external)"),
            std::string::npos)
    << out;
}

TEST_F(tool_test, show_escapes_control_characters) {
  auto res
    = run("show " + quote(paths_[0]) + " --actor " + std::to_string(sink_id_));
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(res.out.find('\x1b'), std::string::npos);
  EXPECT_NE(res.out.find("state:     sink\\nreceived=0\\x1b[31m"),
            std::string::npos)
    << res.out;
}

TEST_F(tool_test, show_filters_by_actor) {
  auto id = account_ids_[7];
  auto res = run("show " + quote(paths_[0]) + " --actor " + std::to_string(id));
  ASSERT_EQ(res.code, 0) << res.err;
  auto& out = res.out;
  EXPECT_EQ(actor_blocks(out), 1u) << out;
  EXPECT_NE(out.find("\nactor " + std::to_string(id) + " @ "),
            std::string::npos);
  EXPECT_NE(out.find("state:     balance=" + std::to_string(balances_[7])),
            std::string::npos)
    << out;
  EXPECT_NE(out.find("1 of " + std::to_string(num_actors_) + " match"),
            std::string::npos)
    << out;
  // Its own delayed deposit waits in the clock.
  EXPECT_NE(out.find("messages:  1 waiting"), std::string::npos) << out;
  EXPECT_NE(out.find("[clock] from " + std::to_string(id)), std::string::npos)
    << out;
  // The summary still covers the whole snapshot.
  EXPECT_NE(out.find("in flight:    " + std::to_string(num_in_flight_)),
            std::string::npos);
  // Several IDs, comma-separated or repeated.
  auto two = run("show " + quote(paths_[0]) + " --actor "
                 + std::to_string(account_ids_[0]) + ","
                 + std::to_string(account_ids_[1]));
  EXPECT_EQ(actor_blocks(two.out), 2u) << two.out;
  auto three = run("show " + quote(paths_[0]) + " --actor "
                   + std::to_string(account_ids_[0]) + " --actor "
                   + std::to_string(account_ids_[1]) + " --actor "
                   + std::to_string(sink_id_));
  EXPECT_EQ(actor_blocks(three.out), 3u) << three.out;
  EXPECT_NE(three.out.find("(external"), std::string::npos) << three.out;
  auto none = run("show " + quote(paths_[0]) + " --actor 999999");
  EXPECT_EQ(none.code, 0);
  EXPECT_EQ(actor_blocks(none.out), 0u);
  EXPECT_NE(none.out.find("none of"), std::string::npos) << none.out;
}

TEST_F(tool_test, show_filters_by_node) {
  auto all = run("show " + quote(paths_[0]) + " --all --node " + quote(node_));
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(actor_blocks(all.out), num_actors_);
  auto prefix = run("show " + quote(paths_[0]) + " --all --node "
                    + quote(node_.substr(0, 3)));
  EXPECT_EQ(actor_blocks(prefix.out), num_actors_);
  auto none = run("show " + quote(paths_[0]) + " --node no-such-node");
  EXPECT_EQ(none.code, 0);
  EXPECT_EQ(actor_blocks(none.out), 0u);
}

TEST_F(tool_test, show_limit_and_all) {
  auto res = run("show " + quote(paths_[0]) + " --limit 3");
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(actor_blocks(res.out), 3u) << res.out;
  EXPECT_NE(res.out.find(std::to_string(num_actors_ - 3) + " actors omitted"),
            std::string::npos)
    << res.out;
  EXPECT_NE(
    res.out.find(std::to_string(sink_messages_ - 3) + " messages omitted"),
    std::string::npos)
    << res.out;
  EXPECT_EQ(count(res.out, "    [stash]") + count(res.out, "    [queue]"), 3u)
    << res.out;
  auto eq = run("show " + quote(paths_[0]) + " --limit=3");
  EXPECT_EQ(eq.out, res.out);
  auto zero = run("show " + quote(paths_[0]) + " --limit 0");
  EXPECT_EQ(zero.code, 0);
  EXPECT_EQ(actor_blocks(zero.out), 0u);
  EXPECT_NE(zero.out.find(std::to_string(num_actors_) + " actors omitted"),
            std::string::npos);
  auto all = run("show " + quote(paths_[0]) + " --all");
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(actor_blocks(all.out), num_actors_);
  EXPECT_EQ(all.out.find("omitted"), std::string::npos) << all.out;
  EXPECT_EQ(count(all.out, "    ["), num_in_flight_);
}

TEST_F(tool_test, show_of_missing_file_fails_with_one_line) {
  auto missing = work_->path() + "/no-such.cafsnap";
  auto res = run("show " + quote(missing));
  expect_one_stderr_line(res, 1, "show missing");
  EXPECT_EQ(res.out, "");
  EXPECT_NE(res.err.find("cannot_open"), std::string::npos) << res.err;
  EXPECT_NE(res.err.find(missing), std::string::npos) << res.err;
  auto directory = run("show " + quote(dir()));
  expect_one_stderr_line(directory, 1, "show directory");
}

TEST_F(tool_test, show_of_damaged_file_fails_with_one_line) {
  auto d = make_dir("damaged");
  auto truncated = d + "/snapshot-00000001-1700000000000.cafsnap";
  write_truncated(truncated);
  auto res = run("show " + quote(truncated));
  expect_one_stderr_line(res, 1, "show truncated");
  EXPECT_EQ(res.out, "");
  EXPECT_NE(res.err.find("file_damaged"), std::string::npos) << res.err;
  auto garbage = d + "/garbage.cafsnap";
  write_file(garbage, "this is not a snapshot file at all\n");
  auto res2 = run("show " + quote(garbage));
  expect_one_stderr_line(res2, 1, "show garbage");
  EXPECT_NE(res2.err.find("not_a_snapshot"), std::string::npos) << res2.err;
}
