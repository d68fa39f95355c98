// Tests of `caf-snapshot diff` and `caf-snapshot check`. Real runs take the
// snapshots (a sink that skips, counters, two actors that request each other
// with `await`); synthetic files written with the library's writer give the
// cycle finder every shape of wait-for graph. The built tool runs on them
// (popen) and its output and exit codes are checked.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "caf/message_id.hpp"

#include "caf/snapshot/detail/file_system.hpp"
#include "caf/snapshot/detail/snapshot_writer.hpp"

#include "test_util.hpp"
#include "tool_runner.hpp"

#ifndef CAF_SNAPSHOT_TOOL
#  error "CAF_SNAPSHOT_TOOL must name the caf-snapshot binary"
#endif

namespace {

namespace snap = caf::snapshot;
using namespace std::chrono_literals;
using test::expect_one_error_line;
using test::lines_of;
using test::lines_starting_with;
using test::quote;
using test::run_result;

using add_atom = caf::atom_constant<caf::atom("add")>;
using deposit_atom = caf::atom_constant<caf::atom("deposit")>;
using kick_atom = caf::atom_constant<caf::atom("kick")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;
using pong_atom = caf::atom_constant<caf::atom("pong")>;

// -- participants -------------------------------------------------------------

struct counter_state {
  static inline const char* name = "counter";
  int64_t count = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& count;
  }
};

// Contains control characters that the tool must escape.
std::string to_string(const counter_state& x) {
  return "count=" + std::to_string(x.count) + "\x1b[0m\n";
}

caf::behavior counter_fn(snap::stateful_actor<counter_state>* self) {
  return {
    [=](add_atom, int64_t x) {
      self->state.count += x;
      return self->state.count;
    },
  };
}

struct sink_state {
  static inline const char* name = "sink";
  int64_t received = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& received;
  }
};

using skip_counter = std::shared_ptr<std::atomic<int>>;

/// Skips every deposit, so that deposits stay in flight, and counts skips.
class sink : public snap::stateful_actor<sink_state> {
public:
  using super = snap::stateful_actor<sink_state>;

  sink(caf::actor_config& cfg, skip_counter skips)
    : super(cfg), skips_(std::move(skips)) {
    // nop
  }

  caf::behavior make_behavior() override {
    return {
      [](deposit_atom, int64_t) { return caf::skip(); },
    };
  }

  caf::invoke_message_result consume(caf::mailbox_element& x) override {
    auto result = super::consume(x);
    if (result == caf::invoke_message_result::skipped)
      ++*skips_;
    return result;
  }

private:
  skip_counter skips_;
};

struct asker_state {
  static inline const char* name = "asker";
  int64_t answers = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& answers;
  }
};

/// The response IDs an asker awaits, shared with the test: CAF 0.17 skips
/// every message while an actor awaits, exit messages included, so only
/// these responses end a deadlock.
struct awaited_log {
  std::mutex mtx;
  std::vector<uint64_t> response_ids;

  std::vector<uint64_t> get() {
    std::lock_guard<std::mutex> guard{mtx};
    return response_ids;
  }
};

using awaited_log_ptr = std::shared_ptr<awaited_log>;

/// On `kick`, sends `requests` pings to the replier and awaits each answer;
/// answers pongs (once it is no longer awaiting).
caf::behavior asker_fn(snap::stateful_actor<asker_state>* self, int requests,
                       awaited_log_ptr log) {
  return {
    [=](kick_atom, const caf::actor& replier) {
      for (int i = 0; i < requests; ++i) {
        auto handle = self->request(replier, caf::infinite, ping_atom::value);
        {
          std::lock_guard<std::mutex> guard{log->mtx};
          log->response_ids.push_back(handle.id().integer_value());
        }
        handle.await([=](int64_t x) { self->state.answers += x; });
      }
    },
    [=](pong_atom) { return int64_t{1}; },
  };
}

struct replier_state {
  static inline const char* name = "replier";
  int64_t pings = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& pings;
  }
};

/// Answers a ping only after the asker answered its pong: a deadlock, since
/// the asker awaits the answer to its ping.
caf::behavior replier_fn(snap::stateful_actor<replier_state>* self,
                         std::shared_ptr<std::atomic<int>> pinged) {
  return {
    [=](ping_atom) {
      ++self->state.pings;
      // Before the promise: it takes the sender from the current message.
      auto asker = caf::actor_cast<caf::actor>(self->current_sender());
      auto rp = self->make_response_promise();
      self->request(asker, caf::infinite, pong_atom::value)
        .await([=](int64_t x) mutable { rp.deliver(x); });
      ++*pinged;
      return rp;
    },
  };
}

// -- helpers ------------------------------------------------------------------

/// Ends the deadlock between an asker and a replier by answering the
/// asker's pings in the replier's stead, then stops both.
struct end_deadlock {
  caf::actor asker;
  caf::actor replier;
  awaited_log_ptr log;
  size_t requests;

  ~end_deadlock() {
    // The asker logs its requests as it sends them (if it got the kick).
    test::eventually([&] { return log->get().size() == requests; }, 30s);
    for (auto id : log->get())
      caf::actor_cast<caf::abstract_actor*>(asker)->enqueue(
        nullptr, caf::message_id{id}, caf::make_message(int64_t{0}), nullptr);
    caf::anon_send_exit(asker, caf::exit_reason::kill);
    caf::anon_send_exit(replier, caf::exit_reason::kill);
  }
};

/// A system in which an asker and a replier await each other for good: the
/// asker sends `pings` requests to the replier, which handles the first by
/// requesting a pong from the asker.
class deadlocked_pair {
public:
  deadlocked_pair(const std::string& dir, int pings)
    : cfg_(dir),
      sys_(cfg_),
      asker_(sys_.spawn(asker_fn, pings, log_)),
      replier_(sys_.spawn(replier_fn, pinged_)),
      guard_{asker_, replier_, log_, static_cast<size_t>(pings)} {
    caf::anon_send(asker_, kick_atom::value, replier_);
  }

  /// Takes a snapshot once the replier handled the first ping (then both
  /// await each other) and returns its path.
  std::string take();

  const caf::actor& asker() const {
    return asker_;
  }

  const caf::actor& replier() const {
    return replier_;
  }

private:
  test::config cfg_;
  caf::actor_system sys_;
  std::shared_ptr<std::atomic<int>> pinged_
    = std::make_shared<std::atomic<int>>(0);
  awaited_log_ptr log_ = std::make_shared<awaited_log>();
  caf::actor asker_;
  caf::actor replier_;
  end_deadlock guard_; // destroyed first
};

/// Stops the actors of a test on every exit (declare after the system).
struct stop_all {
  std::vector<caf::actor> xs;
  ~stop_all() {
    for (auto& x : xs)
      caf::anon_send_exit(x, caf::exit_reason::kill);
  }
};

int64_t add(caf::actor_system& sys, const caf::actor& counter, int64_t x) {
  caf::scoped_actor self{sys};
  int64_t result = -1;
  self->request(counter, 60s, add_atom::value, x)
    .receive([&](int64_t y) { result = y; },
             [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
  return result;
}

/// Takes a snapshot and returns its path (empty on failure).
std::string take_path(caf::actor_system& sys) {
  auto info = test::take(sys);
  if (!info) {
    ADD_FAILURE() << "take failed: " << sys.render(info.error());
    return {};
  }
  return info->path;
}

std::string deadlocked_pair::take() {
  if (!test::eventually([&] { return *pinged_ == 1; })) {
    ADD_FAILURE() << "the replier got no ping";
    return {};
  }
  return take_path(sys_);
}

snap::global_snapshot load_or_fail(const std::string& path) {
  auto result = snap::load(path);
  if (!result) {
    ADD_FAILURE() << snap::render(result.error());
    return {};
  }
  return std::move(*result);
}

const snap::actor_record* find_actor(const snap::global_snapshot& s,
                                     caf::actor_id id) {
  for (auto& a : s.actors)
    if (a.id == id)
      return &a;
  return nullptr;
}

/// The label the tool prints for actor `id` of `s`: `ID(NAME@NODE)`.
std::string label_of(const snap::global_snapshot& s, caf::actor_id id) {
  auto a = find_actor(s, id);
  if (a == nullptr) {
    ADD_FAILURE() << "actor " << id << " not recorded";
    return "?";
  }
  return std::to_string(id) + "(" + a->name + "@" + a->node + ")";
}

uint64_t request_number(uint64_t mid) {
  return caf::message_id{mid}.request_id().integer_value();
}

/// Writes `s` with the library's writer into `dir` and returns the path.
std::string write_snapshot(const std::string& dir,
                           const snap::global_snapshot& s) {
  auto w = snap::detail::snapshot_writer::open(
    snap::detail::default_file_system(), dir, s.id, s.coordinator_node,
    s.requested_at_ms);
  if (!w) {
    ADD_FAILURE() << snap::render(w.error());
    return {};
  }
  for (auto& a : s.actors)
    if (auto err = (*w)->append(a))
      ADD_FAILURE() << snap::render(err);
  for (auto& m : s.in_flight)
    if (auto err = (*w)->append(m))
      ADD_FAILURE() << snap::render(err);
  std::string path;
  auto size = (*w)->commit(s.complete, s.incomplete_reason, s.completed_at_ms,
                           path);
  if (!size)
    ADD_FAILURE() << snap::render(size.error());
  return path;
}

/// An actor of a synthetic snapshot: ID and node.
struct ref {
  caf::actor_id id;
  std::string node;
};

/// Builds synthetic snapshots: actors, their pending requests and the
/// messages in flight, with IDs as CAF 0.17 makes them.
class synthetic {
public:
  synthetic() {
    snap_.id = 1;
    snap_.coordinator_node = "node-1";
    snap_.requested_at_ms = 1700000000000;
    snap_.completed_at_ms = 1700000000005;
  }

  synthetic& actor(const ref& x, const std::string& name,
                   const std::string& state_text = "") {
    snap::actor_record rec;
    rec.id = x.id;
    rec.node = x.node;
    rec.name = name;
    rec.state_text = state_text;
    rec.state.assign(state_text.begin(), state_text.end());
    index_.emplace(std::make_pair(x.id, x.node), snap_.actors.size());
    snap_.actors.push_back(std::move(rec));
    return *this;
  }

  /// `from` awaits the response to its request `n` to `to`, recorded with
  /// its receiver (as format version 2 does).
  synthetic& awaits(const ref& from, uint64_t n, const ref& to) {
    auto& rec = find(from);
    auto id = response_id(n, false);
    rec.pending_requests.push_back(id);
    rec.awaited.push_back(snap::awaited_request{id, to.id, to.node});
    return *this;
  }

  /// `from` awaits the response to its request `n` without a recorded
  /// receiver (as in files of format version 1).
  synthetic& pending(const ref& from, uint64_t n, bool high = false) {
    find(from).pending_requests.push_back(response_id(n, high));
    return *this;
  }

  /// A message in flight.
  synthetic& message(const ref& from, const ref& to, uint64_t mid,
                     snap::message_location loc, const std::string& text) {
    snap::message_record m;
    m.sender = from.id;
    m.sender_node = from.node;
    m.receiver = to.id;
    m.receiver_node = to.node;
    m.mid = mid;
    m.location = loc;
    m.priority = loc == snap::message_location::urgent ? 1 : 0;
    m.text = text;
    snap_.in_flight.push_back(std::move(m));
    return *this;
  }

  /// The request message of request `n` from `from` to `to`, in flight.
  synthetic& request(const ref& from, const ref& to, uint64_t n,
                     snap::message_location loc, bool high = false) {
    auto mid = high ? caf::make_message_id<caf::message_priority::high>(n)
                    : caf::make_message_id(n);
    return message(from, to, mid.integer_value(), loc, "('ping')");
  }

  synthetic& incomplete(const std::string& reason) {
    snap_.complete = false;
    snap_.incomplete_reason = reason;
    return *this;
  }

  std::string write(const std::string& dir) const {
    return write_snapshot(dir, snap_);
  }

  static uint64_t response_id(uint64_t n, bool high) {
    auto mid = high ? caf::make_message_id<caf::message_priority::high>(n)
                    : caf::make_message_id(n);
    return mid.response_id().integer_value();
  }

private:
  snap::actor_record& find(const ref& x) {
    return snap_.actors.at(index_.at(std::make_pair(x.id, x.node)));
  }

  snap::global_snapshot snap_;
  // Position of each actor in `snap_.actors`.
  std::map<std::pair<caf::actor_id, std::string>, size_t> index_;
};

class inspect_diff_check_test : public testing::Test {
protected:
  run_result run(const std::string& args) const {
    return tool_.run(args);
  }

  // A new directory for synthetic files.
  std::string make_dir(const std::string& name) const {
    auto path = work_.path() + "/" + name;
    std::filesystem::create_directories(path);
    return path;
  }

  // Writes `s` without the receivers of pending requests, as in files of
  // format version 1, and returns the path.
  std::string without_receivers(snap::global_snapshot s) const {
    for (auto& a : s.actors)
      a.awaited.clear();
    return write_snapshot(make_dir("without-receivers"), s);
  }

  // Runs `check` on `path` with `options`.
  run_result check(const std::string& path,
                   const std::string& options = "") const {
    return run("check " + quote(path) + (options.empty() ? "" : " ") + options);
  }

  test::temp_dir snaps_;
  test::temp_dir work_;
  test::tool_runner tool_{CAF_SNAPSHOT_TOOL, work_.path()};
};

// -- real runs: diff ----------------------------------------------------------

TEST_F(inspect_diff_check_test, diff_shows_changed_states_and_mailbox_growth) {
  test::config cfg{snaps_.path()};
  caf::actor_system sys{cfg};
  stop_all guard;
  auto skips = std::make_shared<std::atomic<int>>(0);
  auto s = sys.spawn<sink>(skips);
  auto c = sys.spawn(counter_fn);
  auto idle = sys.spawn(counter_fn);
  guard.xs = {s, c, idle};
  for (int64_t i = 0; i < 3; ++i)
    caf::anon_send(s, deposit_atom::value, i);
  ASSERT_EQ(add(sys, c, 1), 1);
  ASSERT_EQ(add(sys, idle, 7), 7);
  auto a = take_path(sys);
  // Between the snapshots: 5 more deposits the sink skips, 2 more counts.
  for (int64_t i = 0; i < 5; ++i)
    caf::anon_send(s, deposit_atom::value, 100 + i);
  ASSERT_EQ(add(sys, c, 2), 3);
  auto b = take_path(sys);
  auto snap_a = load_or_fail(a);
  ASSERT_EQ(snap_a.actors.size(), 3u);
  ASSERT_EQ(snap_a.in_flight.size(), 3u);
  auto ls = label_of(snap_a, s.id());
  auto lc = label_of(snap_a, c.id());
  EXPECT_EQ(ls,
            std::to_string(s.id()) + "(sink@" + snap_a.actors[0].node + ")");
  auto res = run("diff " + quote(a) + " " + quote(b));
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(res.err, "");
  auto& out = res.out;
  auto lines = lines_of(out);
  ASSERT_GE(lines.size(), 3u) << out;
  EXPECT_EQ(lines[0],
            "actors 3 -> 3: 0 added, 0 gone, 1 changed; in flight 3 -> 8");
  EXPECT_EQ(lines[1].rfind("A: snapshot 1, requested ", 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find(", complete: " + a), std::string::npos) << lines[1];
  EXPECT_EQ(lines[2].rfind("B: snapshot 2, requested ", 0), 0u) << lines[2];
  EXPECT_NE(out.find("\nadded: none\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\ngone: none\n"), std::string::npos) << out;
  // The counter changed, escaped; the idle counter did not.
  EXPECT_NE(out.find("\nchanged (1 actor, by node and ID):\n  " + lc
                     + "\n    before: count=1\\x1b[0m\\n\n"
                       "    after:  count=3\\x1b[0m\\n\n"),
            std::string::npos)
    << out;
  EXPECT_EQ(out.find(label_of(snap_a, idle.id())), std::string::npos) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
  // The sink's mailbox grew by the 5 deposits (queued or stashed).
  EXPECT_NE(out.find("\nmailbox growth (1 actor, largest growth first):\n  "
                     + ls + ": 3 -> 8 (+5); "),
            std::string::npos)
    << out;
  // Backwards, the mailbox shrinks.
  auto back = run("diff " + quote(b) + " " + quote(a));
  ASSERT_EQ(back.code, 0) << back.err;
  EXPECT_NE(back.out.find("  " + ls + ": 8 -> 3 (-5); "), std::string::npos)
    << back.out;
  EXPECT_NE(back.out.find("    before: count=3"), std::string::npos);
  // A snapshot does not differ from itself.
  auto same = run("diff " + quote(a) + " " + quote(a));
  ASSERT_EQ(same.code, 0) << same.err;
  EXPECT_EQ(lines_of(same.out).at(0),
            "actors 3 -> 3: 0 added, 0 gone, 0 changed; in flight 3 -> 3");
  EXPECT_NE(same.out.find("\nchanged: none\n"), std::string::npos);
  EXPECT_NE(same.out.find("\nmailbox growth: none\n"), std::string::npos);
}

TEST_F(inspect_diff_check_test, diff_lists_added_and_gone_actors) {
  test::config cfg{snaps_.path()};
  caf::actor_system sys{cfg};
  stop_all guard;
  auto stays = sys.spawn(counter_fn);
  auto quits = sys.spawn(counter_fn);
  guard.xs = {stays, quits};
  auto a = take_path(sys);
  {
    // Quit, and wait until it has left (its down message follows that).
    caf::scoped_actor self{sys};
    self->monitor(quits);
    caf::anon_send_exit(quits, caf::exit_reason::user_shutdown);
    bool down = false;
    self->receive(
      [&](const caf::down_msg& dm) { down = dm.source == quits.address(); },
      caf::after(60s) >> [] {});
    ASSERT_TRUE(down);
  }
  auto new1 = sys.spawn(counter_fn);
  auto new2 = sys.spawn(counter_fn);
  guard.xs.push_back(new1);
  guard.xs.push_back(new2);
  auto b = take_path(sys);
  auto snap_a = load_or_fail(a);
  auto snap_b = load_or_fail(b);
  auto res = run("diff " + quote(a) + " " + quote(b));
  ASSERT_EQ(res.code, 0) << res.err;
  auto& out = res.out;
  EXPECT_EQ(lines_of(out).at(0),
            "actors 2 -> 3: 2 added, 1 gone, 0 changed; in flight 0 -> 0");
  EXPECT_NE(out.find("\nadded (2 actors, by node and ID):\n  "
                     + label_of(snap_b, new1.id()) + "\n  "
                     + label_of(snap_b, new2.id()) + "\n"),
            std::string::npos)
    << out;
  EXPECT_NE(out.find("\ngone (1 actor, by node and ID):\n  "
                     + label_of(snap_a, quits.id()) + "\n"),
            std::string::npos)
    << out;
  EXPECT_EQ(out.find(label_of(snap_a, stays.id())), std::string::npos) << out;
  EXPECT_EQ(out.find("omitted"), std::string::npos);
  // Limits: one actor per section, a line says how many were omitted.
  auto one = run("diff " + quote(a) + " " + quote(b) + " --limit 1");
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_NE(one.out.find("\nadded (2 actors, by node and ID):\n  "
                         + label_of(snap_b, new1.id())
                         + "\n  ... 1 actor omitted (--limit N or --all shows "
                           "more)\n"),
            std::string::npos)
    << one.out;
  auto zero = run("diff " + quote(a) + " " + quote(b) + " --limit=0");
  ASSERT_EQ(zero.code, 0) << zero.err;
  EXPECT_NE(zero.out.find("  ... 2 actors omitted"), std::string::npos);
  EXPECT_NE(zero.out.find("  ... 1 actor omitted"), std::string::npos);
  auto all = run("diff " + quote(a) + " " + quote(b) + " --limit 0 --all");
  EXPECT_EQ(all.out, res.out);
}

// -- synthetic files: diff ----------------------------------------------------

TEST_F(inspect_diff_check_test,
       diff_keys_actors_by_node_and_id_and_sorts_growth) {
  auto dir = make_dir("diff");
  ref x1{5, "node-1"};
  ref x2{5, "node-2"};
  ref r1{1, "node-1"};
  ref r2{2, "node-1"};
  ref r3{3, "node-1"};
  std::string long_before(1500, 'x');
  std::string long_after = long_before + "y";
  synthetic a;
  a.actor(x1, "old")
    .actor(r1, "r1", long_before)
    .actor(r2, "r2")
    .actor(r3, "r3");
  a.message(x1, r2, 0, snap::message_location::queue, "m")
    .message(x1, r2, 0, snap::message_location::queue, "m")
    .message(x1, r3, 0, snap::message_location::stash, "m");
  synthetic b;
  b.actor(x2, "new")
    .actor(r1, "r1", long_after)
    .actor(r2, "r2")
    .actor(r3, "r3");
  b.message(x2, r1, 0, snap::message_location::queue, "m");
  for (int i = 0; i < 5; ++i)
    b.message(x2, r3, 0, snap::message_location::urgent, "m");
  auto pa = a.write(dir);
  auto pb = b.write(dir);
  auto res = run("diff " + quote(pa) + " " + quote(pb));
  ASSERT_EQ(res.code, 0) << res.err;
  auto& out = res.out;
  EXPECT_EQ(lines_of(out).at(0),
            "actors 4 -> 4: 1 added, 1 gone, 1 changed; in flight 3 -> 6");
  EXPECT_NE(out.find("\nadded (1 actor, by node and ID):\n  5(new@node-2)\n"),
            std::string::npos)
    << out;
  EXPECT_NE(out.find("\ngone (1 actor, by node and ID):\n  5(old@node-1)\n"),
            std::string::npos)
    << out;
  // Largest growth first; only changed counts; locations in A and B.
  EXPECT_NE(out.find("\nmailbox growth (3 actors, largest growth first):\n"
                     "  3(r3@node-1): 1 -> 5 (+4); urgent 0 -> 5, stash 1 -> "
                     "0\n"
                     "  1(r1@node-1): 0 -> 1 (+1); queue 0 -> 1\n"
                     "  2(r2@node-1): 2 -> 0 (-2); queue 2 -> 0\n"),
            std::string::npos)
    << out;
  // Long states are cut unless --all.
  EXPECT_NE(out.find("    before: " + long_before.substr(0, 1000)
                     + "... (500 more bytes, --all shows everything)\n"),
            std::string::npos)
    << out;
  auto all = run("diff " + quote(pa) + " " + quote(pb) + " --all");
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_NE(all.out.find("    before: " + long_before
                         + "\n    after:  " + long_after + "\n"),
            std::string::npos);
}

TEST_F(inspect_diff_check_test, diff_usage_errors_and_bad_files) {
  auto dir = make_dir("diff-errors");
  auto good = synthetic{}.actor({1, "n"}, "a").write(dir);
  auto missing = dir + "/no-such.cafsnap";
  auto truncated = dir + "/truncated.cafsnap";
  auto bytes = test::read_file(good);
  test::write_file(truncated, bytes.substr(0, bytes.size() / 2));
  for (auto args :
       {std::string{"diff"}, "diff " + quote(good),
        "diff " + quote(good) + " " + quote(good) + " " + quote(good),
        "diff " + quote(good) + " " + quote(good) + " --limit",
        "diff " + quote(good) + " " + quote(good) + " --limit x",
        "diff " + quote(good) + " " + quote(good) + " --all=1",
        "diff " + quote(good) + " " + quote(good) + " --bogus"}) {
    auto res = run(args);
    expect_one_error_line(res, 2, args);
    EXPECT_NE(res.err.find("caf-snapshot diff --help"), std::string::npos)
      << res.err;
  }
  auto res = run("diff " + quote(missing) + " " + quote(good));
  expect_one_error_line(res, 1, "diff missing good");
  EXPECT_NE(res.err.find("cannot_open"), std::string::npos) << res.err;
  EXPECT_NE(res.err.find(missing), std::string::npos) << res.err;
  res = run("diff " + quote(good) + " " + quote(truncated));
  expect_one_error_line(res, 1, "diff good truncated");
  EXPECT_NE(res.err.find("file_damaged"), std::string::npos) << res.err;
}

// -- real runs: check ---------------------------------------------------------

TEST_F(inspect_diff_check_test, check_of_a_clean_snapshot_exits_zero) {
  test::config cfg{snaps_.path()};
  caf::actor_system sys{cfg};
  stop_all guard;
  auto c1 = sys.spawn(counter_fn);
  auto c2 = sys.spawn(counter_fn);
  guard.xs = {c1, c2};
  ASSERT_EQ(add(sys, c1, 1), 1);
  ASSERT_EQ(add(sys, c2, 2), 2);
  auto path = take_path(sys);
  auto res = check(path);
  EXPECT_EQ(res.code, 0) << res.out << res.err;
  EXPECT_EQ(res.out, "no problems found\n");
  EXPECT_EQ(res.err, "");
}

TEST_F(inspect_diff_check_test, check_finds_a_real_deadlock) {
  deadlocked_pair pair{snaps_.path(), 1};
  auto path = pair.take();
  auto& asker = pair.asker();
  auto& replier = pair.replier();
  auto s = load_or_fail(path);
  auto a_rec = find_actor(s, asker.id());
  auto r_rec = find_actor(s, replier.id());
  ASSERT_TRUE(a_rec != nullptr && r_rec != nullptr);
  ASSERT_EQ(a_rec->pending_requests.size(), 1u);
  ASSERT_EQ(r_rec->pending_requests.size(), 1u);
  auto la = label_of(s, asker.id());
  auto lr = label_of(s, replier.id());
  auto na = std::to_string(request_number(a_rec->pending_requests[0]));
  auto nr = std::to_string(request_number(r_rec->pending_requests[0]));
  auto res = check(path);
  EXPECT_EQ(res.code, 1) << res.out << res.err;
  EXPECT_EQ(res.err, "");
  // The asker was spawned first: its ID is smaller.
  EXPECT_EQ(lines_starting_with(res.out, "deadlock: "),
            std::vector<std::string>{"deadlock: " + la + " -> " + lr + " -> "
                                     + la + " (requests per arrow: " + na + ", "
                                     + nr + ")"})
    << res.out;
  auto lines = lines_of(res.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find(" found"), std::string::npos) << res.out;
  EXPECT_EQ(lines.back().rfind("no problems", 0), std::string::npos);
  // Without the recorded receivers (as in files of format version 1), the
  // asker's ping was handled already, so only the replier's pong, still in
  // the asker's mailbox, shows whom the replier awaits: a possible deadlock.
  auto old_style = without_receivers(s);
  auto res1 = check(old_style);
  EXPECT_EQ(res1.code, 1) << res1.out << res1.err;
  EXPECT_TRUE(lines_starting_with(res1.out, "deadlock: ").empty()) << res1.out;
  auto possible = lines_starting_with(res1.out, "possible deadlock: ");
  ASSERT_EQ(possible.size(), 1u) << res1.out;
  EXPECT_EQ(possible[0].rfind(
              "possible deadlock: " + lr + " -> " + la + " -> ?: request " + nr
                + " of " + std::to_string(replier.id()) + " waits in the ",
              0),
            0u)
    << possible[0];
  EXPECT_NE(possible[0].find(" of " + std::to_string(asker.id())
                             + ", which awaits request " + na
                             + " with unknown receiver"),
            std::string::npos)
    << possible[0];
  EXPECT_EQ(lines_starting_with(res1.out, "warning: receivers unknown for 1 "
                                          "pending request of 1 actor")
              .size(),
            1u)
    << res1.out;
}

TEST_F(inspect_diff_check_test,
       check_finds_a_deadlock_from_requests_in_flight) {
  // Two pings: the replier handles the first; the second stays in flight.
  deadlocked_pair pair{snaps_.path(), 2};
  auto path = pair.take();
  auto& asker = pair.asker();
  auto& replier = pair.replier();
  auto s = load_or_fail(path);
  auto la = label_of(s, asker.id());
  auto lr = label_of(s, replier.id());
  auto prefix = "deadlock: " + la + " -> " + lr + " -> " + la;
  auto res = check(path);
  EXPECT_EQ(res.code, 1) << res.out << res.err;
  auto found = lines_starting_with(res.out, "deadlock: ");
  ASSERT_EQ(found.size(), 1u) << res.out;
  EXPECT_EQ(found[0].rfind(prefix + " (requests per arrow: ", 0), 0u)
    << found[0];
  // Without recorded receivers, the second ping and the pong in flight
  // still close the cycle.
  auto old_style = without_receivers(s);
  auto res1 = check(old_style);
  EXPECT_EQ(res1.code, 1) << res1.out << res1.err;
  found = lines_starting_with(res1.out, "deadlock: ");
  ASSERT_EQ(found.size(), 1u) << res1.out;
  EXPECT_EQ(found[0].rfind(prefix + " (requests per arrow: ", 0), 0u)
    << found[0];
}

TEST_F(inspect_diff_check_test,
       check_reports_stashed_messages_and_full_queues) {
  test::config cfg{snaps_.path()};
  caf::actor_system sys{cfg};
  stop_all guard;
  auto skips = std::make_shared<std::atomic<int>>(0);
  auto s = sys.spawn<sink>(skips);
  guard.xs = {s};
  constexpr int n = 6;
  for (int64_t i = 0; i < n; ++i)
    caf::anon_send(s, deposit_atom::value, i);
  // Each deposit was tried and put aside before the (first) snapshot.
  ASSERT_TRUE(test::eventually([&] { return *skips >= n; }));
  auto path = take_path(sys);
  auto snapshot = load_or_fail(path);
  auto ls = label_of(snapshot, s.id());
  auto res = check(path);
  EXPECT_EQ(res.code, 1) << res.out << res.err;
  EXPECT_EQ(res.out, "stash: " + ls
                       + " has 6 stashed messages; oldest: ('deposit', 0) "
                         "from anonymous; ('deposit', 1) from anonymous; "
                         "('deposit', 2) from anonymous\n"
                         "1 problem found\n");
  // Thresholds: stashed messages are no waiting messages.
  auto tolerant = check(path, "--max-stash 6 --max-waiting 0");
  EXPECT_EQ(tolerant.code, 0) << tolerant.out << tolerant.err;
  EXPECT_EQ(tolerant.out, "no problems found\n");
  auto strict = check(path, "--max-stash=5");
  EXPECT_EQ(strict.code, 1);
  EXPECT_EQ(lines_starting_with(strict.out, "stash: ").size(), 1u);
}

// -- synthetic files: check ---------------------------------------------------

TEST_F(inspect_diff_check_test, check_finds_a_three_cycle_but_not_its_feeder) {
  auto dir = make_dir("three");
  ref a{1, "node-1"}, b{2, "node-1"}, c{3, "node-1"}, d{4, "node-1"};
  synthetic s;
  // Records out of order: the output must not depend on it.
  s.actor(c, "c").actor(a, "a").actor(d, "d").actor(b, "b");
  s.awaits(c, 13, a).awaits(a, 11, b).awaits(d, 14, a).awaits(b, 12, c);
  auto res = check(s.write(dir));
  EXPECT_EQ(res.code, 1) << res.err;
  EXPECT_EQ(res.out, "deadlock: 1(a@node-1) -> 2(b@node-1) -> 3(c@node-1) -> "
                     "1(a@node-1) (requests per arrow: 11, 12, 13)\n"
                     "1 problem found\n");
}

TEST_F(inspect_diff_check_test, check_finds_a_self_loop) {
  auto dir = make_dir("self");
  ref x{7, "node-1"}, y{8, "node-1"};
  synthetic s;
  s.actor(x, "loop").actor(y, "other").awaits(x, 5, x).awaits(y, 6, x);
  auto res = check(s.write(dir));
  EXPECT_EQ(res.code, 1) << res.err;
  EXPECT_EQ(res.out, "deadlock: 7(loop@node-1) -> 7(loop@node-1) (request 5)\n"
                     "1 problem found\n");
}

TEST_F(inspect_diff_check_test, check_keys_actors_by_node_and_id) {
  auto dir = make_dir("nodes");
  // 5 on node-1 and 5 on node-2 await each other: two actors, not a
  // self-loop. 6 on node-1 awaits 6 on node-2, which awaits nothing.
  ref x1{5, "node-1"}, x2{5, "node-2"}, y1{6, "node-1"}, y2{6, "node-2"};
  synthetic s;
  s.actor(x2, "b").actor(x1, "a").actor(y1, "c").actor(y2, "d");
  s.awaits(x1, 1, x2).awaits(x2, 1, x1).awaits(y1, 2, y2);
  auto res = check(s.write(dir));
  EXPECT_EQ(res.code, 1) << res.err;
  EXPECT_EQ(res.out, "deadlock: 5(a@node-1) -> 5(b@node-2) -> 5(a@node-1) "
                     "(requests per arrow: 1, 1)\n"
                     "1 problem found\n");
}

TEST_F(inspect_diff_check_test, check_accepts_an_acyclic_chain) {
  auto dir = make_dir("chain");
  ref a{1, "n"}, b{2, "n"}, c{3, "n"}, d{4, "n"};
  synthetic s;
  s.actor(a, "a").actor(b, "b").actor(c, "c").actor(d, "d");
  // 1 -> 2 -> 3 -> 4 and 1 -> 3: waiting, but no cycle.
  s.awaits(a, 1, b).awaits(b, 1, c).awaits(c, 1, d).awaits(a, 2, c);
  auto res = check(s.write(dir));
  EXPECT_EQ(res.code, 0) << res.out << res.err;
  EXPECT_EQ(res.out, "no problems found\n");
}

TEST_F(inspect_diff_check_test, check_follows_long_chains_without_recursion) {
  // 50,000 actors, each awaiting the next: a recursive search would need a
  // stack frame per actor. Closed to a ring, it is one deadlock.
  constexpr caf::actor_id n = 50000;
  synthetic chain;
  synthetic ring;
  for (caf::actor_id i = 1; i <= n; ++i) {
    chain.actor({i, "n"}, "a");
    ring.actor({i, "n"}, "a");
  }
  for (caf::actor_id i = 1; i < n; ++i) {
    chain.awaits({i, "n"}, 1, {i + 1, "n"});
    ring.awaits({i, "n"}, 1, {i + 1, "n"});
  }
  ring.awaits({n, "n"}, 1, {1, "n"});
  auto res = check(chain.write(make_dir("chain")));
  EXPECT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(res.out, "no problems found\n");
  res = check(ring.write(make_dir("ring")));
  EXPECT_EQ(res.code, 1) << res.err;
  auto found = lines_starting_with(res.out, "deadlock: 1(a@n) -> 2(a@n) -> ");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find(" -> 50000(a@n) -> 1(a@n) (requests per arrow: "),
            std::string::npos);
  EXPECT_EQ(lines_of(res.out).back(), "1 problem found");
}

TEST_F(inspect_diff_check_test,
       check_reports_each_group_once_with_its_other_members) {
  auto dir = make_dir("groups");
  // {1, 2, 3} on node-b: 1 <-> 2 and 2 <-> 3 (two requests 1 -> 2);
  // {8, 9} on node-a comes first by node.
  ref a{1, "node-b"}, b{2, "node-b"}, c{3, "node-b"};
  ref x{8, "node-a"}, y{9, "node-a"};
  synthetic s;
  s.actor(a, "a").actor(b, "b").actor(c, "c").actor(x, "x").actor(y, "y");
  s.awaits(a, 4, b).awaits(a, 3, b).awaits(b, 1, a).awaits(b, 2, c);
  s.awaits(c, 1, b).awaits(x, 1, y).awaits(y, 1, x);
  auto res = check(s.write(dir));
  EXPECT_EQ(res.code, 1) << res.err;
  EXPECT_EQ(res.out, "deadlock: 8(x@node-a) -> 9(y@node-a) -> 8(x@node-a) "
                     "(requests per arrow: 1, 1)\n"
                     "deadlock: 1(a@node-b) -> 2(b@node-b) -> 1(a@node-b) "
                     "(requests per arrow: 3/4, 1); also deadlocked with "
                     "them: 3(c@node-b)\n"
                     "2 problems found\n");
}

TEST_F(inspect_diff_check_test, check_takes_receivers_from_requests_in_flight) {
  auto dir = make_dir("fallback");
  ref a{1, "n"}, b{2, "n"}, c{3, "n"}, d{4, "n"};
  synthetic s;
  s.actor(a, "a").actor(b, "b").actor(c, "c").actor(d, "d");
  // No recorded receivers. 1's request 3 waits at 2, 2's urgent request 4
  // waits at 1: a cycle.
  s.pending(a, 3).request(a, b, 3, snap::message_location::queue);
  s.pending(b, 4, true).request(b, a, 4, snap::message_location::urgent, true);
  // Neither a response (3 answers 1's request 5) nor a request nobody awaits
  // (4's request 6) is a wait.
  s.pending(a, 5).message(c, a, synthetic::response_id(5, false),
                          snap::message_location::queue, "(1)");
  s.request(d, c, 6, snap::message_location::queue);
  s.request(c, d, 7, snap::message_location::queue);
  auto res = check(s.write(dir));
  EXPECT_EQ(res.code, 1) << res.err;
  EXPECT_EQ(res.out, "deadlock: 1(a@n) -> 2(b@n) -> 1(a@n) (requests per "
                     "arrow: 3, 4)\n"
                     "warning: receivers unknown for 1 pending request of 1 "
                     "actor (neither recorded nor still in flight): "
                     "deadlocks through them cannot be seen\n"
                     "1 problem found (1 warning)\n");
}

TEST_F(inspect_diff_check_test,
       check_reports_requests_stuck_at_an_actor_that_awaits) {
  auto dir = make_dir("possible");
  ref a{1, "n"}, b{2, "n"};
  synthetic s;
  s.actor(a, "a").actor(b, "b");
  // 1 awaits request 3 (receiver unknown); 2's request 4 is stashed at 1.
  s.pending(a, 3).pending(b, 4).request(b, a, 4, snap::message_location::stash);
  auto res = check(s.write(dir), "--max-stash 1");
  EXPECT_EQ(res.code, 1) << res.err;
  EXPECT_EQ(res.out, "possible deadlock: 2(b@n) -> 1(a@n) -> ?: request 4 of "
                     "2 waits in the stash of 1, which awaits request 3 with "
                     "unknown receiver\n"
                     "warning: receivers unknown for 1 pending request of 1 "
                     "actor (neither recorded nor still in flight): "
                     "deadlocks through them cannot be seen\n"
                     "1 problem found (1 warning)\n");
}

TEST_F(inspect_diff_check_test, check_applies_max_waiting_and_max_stash) {
  auto dir = make_dir("mailboxes");
  ref a{1, "n"}, b{2, "n"}, anon{0, ""};
  synthetic s;
  s.actor(a, "a").actor(b, "b");
  using loc = snap::message_location;
  // 1: queue 3, urgent 2, stash 4, clock 1, wire 1. 2: queue 6.
  for (int i = 0; i < 3; ++i)
    s.message(anon, a, 0, loc::queue, "q");
  for (int i = 0; i < 2; ++i)
    s.message(b, a, 0, loc::urgent, "u");
  for (int i = 0; i < 4; ++i)
    s.message(i % 2 == 0 ? anon : b, a, 0, loc::stash,
              "s" + std::to_string(i) + (i == 1 ? "\x1b[2J" : ""));
  s.message(a, a, 0, loc::clock, "c").message(b, a, 0, loc::wire, "w");
  for (int i = 0; i < 6; ++i)
    s.message(a, b, 0, loc::queue, "q");
  auto path = s.write(dir);
  auto quiet = check(path, "--max-waiting 6 --max-stash 4");
  EXPECT_EQ(quiet.code, 0) << quiet.out << quiet.err;
  EXPECT_EQ(quiet.out, "no problems found\n");
  auto loud = check(path, "--max-waiting 4 --max-stash=3");
  EXPECT_EQ(loud.code, 1) << loud.err;
  EXPECT_EQ(loud.out,
            "waiting: 2(b@n) has 6 messages waiting (queue 6, urgent 0), more "
            "than 4\n"
            "waiting: 1(a@n) has 5 messages waiting (queue 3, urgent 2), more "
            "than 4\n"
            "stash: 1(a@n) has 4 stashed messages; oldest: s0 from anonymous; "
            "s1\\x1b[2J from 2(b@n); s2 from anonymous\n"
            "3 problems found\n");
  // Defaults: more than 1000 waiting, any stashed message.
  auto defaults = check(path);
  EXPECT_EQ(defaults.code, 1);
  EXPECT_EQ(lines_starting_with(defaults.out, "stash: ").size(), 1u);
  EXPECT_TRUE(lines_starting_with(defaults.out, "waiting: ").empty());
}

TEST_F(inspect_diff_check_test, check_warns_about_incomplete_snapshots) {
  auto dir = make_dir("incomplete");
  synthetic s;
  s.actor({1, "n"}, "a").incomplete("lost node(s): node-2");
  auto res = check(s.write(dir));
  EXPECT_EQ(res.code, 0) << res.out << res.err;
  EXPECT_EQ(res.out, "warning: incomplete snapshot (lost node(s): node-2); "
                     "actors that did not report are missing from the "
                     "check\n"
                     "no problems found (1 warning)\n");
}

TEST_F(inspect_diff_check_test, check_escapes_hostile_names) {
  auto dir = make_dir("hostile");
  ref x{1, "node\x1b]0;pwned\x07"};
  synthetic s;
  s.actor(x, "evil\n\x1b[31m").awaits(x, 1, x);
  auto res = check(s.write(dir));
  EXPECT_EQ(res.code, 1) << res.err;
  EXPECT_EQ(res.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(res.out, "deadlock: 1(evil\\n\\x1b[31m@node\\x1b]0;pwned\\x07) -> "
                     "1(evil\\n\\x1b[31m@node\\x1b]0;pwned\\x07) (request 1)\n"
                     "1 problem found\n");
}

TEST_F(inspect_diff_check_test, check_usage_errors_and_bad_files) {
  auto dir = make_dir("check-errors");
  auto good = synthetic{}.actor({1, "n"}, "a").write(dir);
  for (auto args :
       {std::string{"check"}, "check " + quote(good) + " " + quote(good),
        "check " + quote(good) + " --max-waiting",
        "check " + quote(good) + " --max-waiting many",
        "check " + quote(good) + " --max-stash=-1",
        "check " + quote(good) + " --limit 3",
        "check " + quote(good) + " -x"}) {
    auto res = run(args);
    expect_one_error_line(res, 2, args);
    EXPECT_NE(res.err.find("caf-snapshot check --help"), std::string::npos)
      << res.err;
  }
  auto missing = dir + "/no-such.cafsnap";
  auto res = check(missing);
  expect_one_error_line(res, 1, "check missing");
  EXPECT_NE(res.err.find("cannot_open"), std::string::npos) << res.err;
  auto garbage = dir + "/garbage.cafsnap";
  test::write_file(garbage, "not a snapshot at all\n");
  res = check(garbage);
  expect_one_error_line(res, 1, "check garbage");
  EXPECT_NE(res.err.find("not_a_snapshot"), std::string::npos) << res.err;
  auto bytes = test::read_file(good);
  auto truncated = dir + "/truncated.cafsnap";
  test::write_file(truncated, bytes.substr(0, bytes.size() - 3));
  res = check(truncated);
  expect_one_error_line(res, 1, "check truncated");
  EXPECT_NE(res.err.find("file_damaged"), std::string::npos) << res.err;
}

TEST_F(inspect_diff_check_test, help_describes_diff_and_check) {
  for (auto args : {"diff --help", "diff -h", "help diff", "diff A --help"}) {
    auto res = run(args);
    EXPECT_EQ(res.code, 0) << args;
    EXPECT_EQ(res.out.rfind("Usage: caf-snapshot diff A B", 0), 0u) << args;
    for (auto word : {"--limit", "--all", "Exit codes: 0", "2 wrong usage"})
      EXPECT_NE(res.out.find(word), std::string::npos) << args << ": " << word;
    EXPECT_EQ(res.err, "") << args;
  }
  for (auto args : {"check --help", "check -h", "help check",
                    "check FILE --bogus --help"}) {
    auto res = run(args);
    EXPECT_EQ(res.code, 0) << args;
    EXPECT_EQ(res.out.rfind("Usage: caf-snapshot check FILE", 0), 0u) << args;
    for (auto word : {"--max-waiting", "--max-stash",
                      "deadlock:", "Exit codes: 0 no problems found",
                      "1 problems found", "2 wrong usage"})
      EXPECT_NE(res.out.find(word), std::string::npos) << args << ": " << word;
    EXPECT_EQ(res.err, "") << args;
  }
  auto top = run("--help");
  EXPECT_NE(top.out.find("\n  diff "), std::string::npos) << top.out;
  EXPECT_NE(top.out.find("\n  check "), std::string::npos) << top.out;
}

} // namespace
