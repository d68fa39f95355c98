// Snapshots nobody requested: on a signal (`snapshot.on-signal`) and after a
// participant fails (`snapshot.on-actor-failure`, a post-mortem). Both are
// off by default.

#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "test_util.hpp"

#include "caf/snapshot/detail/signal_trigger.hpp"

namespace {

namespace snap = caf::snapshot;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct counter {
  int64_t value = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & value;
  }
};

std::string to_string(const counter& x) {
  return "value=" + std::to_string(x.value);
}

using fail_atom = caf::atom_constant<caf::atom("t_fail")>;
using stop_atom = caf::atom_constant<caf::atom("t_stop")>;

// Adds what it gets; fails with an error or stops on request.
caf::behavior counter_fn(snap::stateful_actor<counter>* self) {
  return {
    [=](int64_t x) { self->state.value += x; },
    [=](fail_atom) {
      // Still queued when the actor fails: part of the post-mortem.
      self->send(self, int64_t{1000});
      self->quit(caf::make_error(caf::sec::runtime_error, "bad state"));
    },
    [=](stop_atom) { self->quit(caf::exit_reason::user_shutdown); },
  };
}

std::vector<std::string> snapshot_files(const std::string& dir) {
  std::vector<std::string> result;
  std::error_code ec;
  for (auto& entry : fs::directory_iterator{dir, ec})
    if (entry.path().extension() == ".cafsnap")
      result.push_back(entry.path().string());
  return result;
}

// The handler currently installed for `signo`.
void* current_handler(int signo) {
  struct sigaction old {};
  ::sigaction(signo, nullptr, &old);
  return reinterpret_cast<void*>(old.sa_handler);
}

class trigger_config : public test::config {
public:
  trigger_config(const std::string& dir, const std::string& on_signal,
                 bool on_failure)
      : test::config(dir) {
    if (!on_signal.empty())
      set("snapshot.on-signal", on_signal);
    set("snapshot.on-actor-failure", on_failure);
  }
};

} // namespace

TEST(triggers, both_are_off_by_default) {
  test::temp_dir dir;
  auto before = current_handler(SIGUSR1);
  {
    test::config cfg{dir.path()};
    caf::actor_system sys{cfg};
    auto* mod = snap::module::find(sys);
    ASSERT_NE(mod, nullptr);
    EXPECT_EQ(mod->settings().on_signal, 0);
    EXPECT_FALSE(mod->settings().on_actor_failure);
    EXPECT_EQ(current_handler(SIGUSR1), before);
    auto a = sys.spawn(counter_fn);
    caf::anon_send(a, fail_atom::value);
    // The snapshot after the failure is the first one in the directory.
    auto s = test::take_and_load(sys);
    EXPECT_EQ(s.id, 1u);
  }
  EXPECT_EQ(snapshot_files(dir.path()).size(), 1u);
}

TEST(triggers, signal_takes_a_snapshot_and_the_old_handler_comes_back) {
  test::temp_dir dir;
  auto before = current_handler(SIGUSR2);
  testing::internal::CaptureStderr();
  {
    trigger_config cfg{dir.path(), "SIGUSR2", false};
    caf::actor_system sys{cfg};
    EXPECT_NE(current_handler(SIGUSR2), before);
    auto a = sys.spawn(counter_fn);
    caf::anon_send(a, int64_t{5});
    ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0);
    ASSERT_TRUE(test::eventually(
      [&] { return snapshot_files(dir.path()).size() == 1; }, 60s));
    auto files = snapshot_files(dir.path());
    auto s = snap::load(files.at(0));
    ASSERT_TRUE(s) << snap::render(s.error());
    ASSERT_EQ(s->actors.size(), 1u);
    EXPECT_EQ(s->actors[0].id, a.id());
    caf::anon_send(a, stop_atom::value);
  }
  auto log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("signal SIGUSR2: snapshot 1 stored at "),
            std::string::npos)
    << log;
  EXPECT_EQ(current_handler(SIGUSR2), before);
}

TEST(triggers, two_systems_on_the_same_signal_both_take_a_snapshot) {
  test::temp_dir dir1;
  test::temp_dir dir2;
  testing::internal::CaptureStderr();
  {
    trigger_config cfg1{dir1.path(), "USR2", false};
    trigger_config cfg2{dir2.path(), "12", false}; // SIGUSR2 on Linux
    caf::actor_system sys1{cfg1};
    caf::actor_system sys2{cfg2};
    ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0);
    ASSERT_TRUE(test::eventually(
      [&] {
        return snapshot_files(dir1.path()).size() == 1
               && snapshot_files(dir2.path()).size() == 1;
      },
      60s));
  }
  testing::internal::GetCapturedStderr();
}

TEST(triggers, unknown_or_unsafe_signals_are_refused_with_a_clear_line) {
  for (auto name : {"SIGFOO", "SIGKILL", "SIGSEGV", "SIGINT", "9", "x1",
                    "SIGRTMIN+x", "1234"}) {
    SCOPED_TRACE(name);
    auto signo = snap::detail::signal_trigger::parse(name);
    ASSERT_FALSE(signo);
    auto text = snap::render(signo.error());
    EXPECT_NE(text.find("snapshot.on-signal: '" + std::string{name} + "'"),
              std::string::npos)
      << text;
  }
  EXPECT_EQ(snap::detail::signal_trigger::parse("SIGUSR1"), SIGUSR1);
  EXPECT_EQ(snap::detail::signal_trigger::parse("USR2"), SIGUSR2);
  EXPECT_EQ(snap::detail::signal_trigger::parse("SIGHUP"), SIGHUP);
  EXPECT_EQ(snap::detail::signal_trigger::parse("SIGRTMIN+2"), SIGRTMIN + 2);
  // A system with a bad name starts, says why, and runs without a trigger.
  test::temp_dir dir;
  auto before = current_handler(SIGINT);
  testing::internal::CaptureStderr();
  {
    trigger_config cfg{dir.path(), "SIGINT", false};
    caf::actor_system sys{cfg};
    EXPECT_EQ(snap::module::find(sys)->settings().on_signal, 0);
    EXPECT_EQ(current_handler(SIGINT), before);
  }
  auto log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("snapshot.on-signal: 'SIGINT' cannot be used"),
            std::string::npos)
    << log;
  EXPECT_NE(log.find("snapshots on signals are off"), std::string::npos)
    << log;
}

TEST(triggers, failed_participant_takes_a_post_mortem_with_its_final_state) {
  test::temp_dir dir;
  testing::internal::CaptureStderr();
  caf::actor_id failed_id = 0;
  caf::actor_id other_id = 0;
  {
    trigger_config cfg{dir.path(), "", true};
    caf::actor_system sys{cfg};
    auto failing = sys.spawn(counter_fn);
    auto other = sys.spawn(counter_fn);
    failed_id = failing.id();
    other_id = other.id();
    caf::anon_send(failing, int64_t{41});
    caf::anon_send(other, int64_t{7});
    caf::anon_send(failing, fail_atom::value);
    ASSERT_TRUE(test::eventually(
      [&] { return snapshot_files(dir.path()).size() == 1; }, 60s));
    // A normal stop takes no snapshot.
    caf::anon_send(other, stop_atom::value);
    caf::scoped_actor self{sys};
    self->wait_for(other);
    auto s = test::take_and_load(sys); // the barrier: snapshot 2
    EXPECT_EQ(s.id, 2u);
  }
  auto log = testing::internal::GetCapturedStderr();
  auto files = snapshot_files(dir.path());
  ASSERT_EQ(files.size(), 2u);
  std::sort(files.begin(), files.end());
  auto s = snap::load(files[0]);
  ASSERT_TRUE(s) << snap::render(s.error());
  EXPECT_EQ(s->id, 1u);
  EXPECT_TRUE(s->complete);
  const snap::actor_record* failed = nullptr;
  const snap::actor_record* other = nullptr;
  for (auto& a : s->actors) {
    if (a.id == failed_id)
      failed = &a;
    if (a.id == other_id)
      other = &a;
  }
  ASSERT_NE(failed, nullptr);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(failed->status, snap::actor_status::exited);
  EXPECT_NE(failed->exit_reason.find("bad state"), std::string::npos)
    << failed->exit_reason;
  EXPECT_EQ(failed->state_text, "value=41");
  EXPECT_EQ(other->status, snap::actor_status::running);
  size_t behind_failure = 0;
  for (auto& m : s->in_flight)
    if (m.receiver == failed_id && m.text.find("1000") != std::string::npos)
      ++behind_failure;
  EXPECT_EQ(behind_failure, 1u);
  EXPECT_NE(log.find("actor " + std::to_string(failed_id)), std::string::npos)
    << log;
  EXPECT_NE(log.find("failed: "), std::string::npos) << log;
  EXPECT_NE(log.find(": snapshot 1 stored at "), std::string::npos) << log;
}
