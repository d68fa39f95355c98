// Helpers shared by the edge-case tests (tests/edge_cases_*_test.cpp):
// gates that hold an actor inside a handler, a snapshot request that is
// answered later, a barrier behind the coordinator's mailbox, and lookups in
// loaded snapshots.
//
// Synchronisation is always by events (futures, replies), never by sleeping.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "test_util.hpp"

#include "caf/snapshot/detail/protocol.hpp"

namespace edge {

namespace snap = caf::snapshot;

using namespace std::chrono_literals;

// -- atoms --------------------------------------------------------------------

using block_atom = caf::atom_constant<caf::atom("e_block")>;
using query_atom = caf::atom_constant<caf::atom("e_query")>;
using go_atom = caf::atom_constant<caf::atom("e_go")>;
using open_atom = caf::atom_constant<caf::atom("e_open")>;

// -- gates --------------------------------------------------------------------

/// Holds an actor inside one of its handlers until the test releases it.
/// The actor calls `pass()` (signals `entered`, then waits) and optionally
/// `finish()` at the end of the handler (signals `done`).
class gate {
public:
  gate()
      : entered_(entered_p_.get_future().share()),
        released_(released_p_.get_future().share()),
        done_(done_p_.get_future().share()) {
    // nop
  }

  /// Called by the actor: announces that it is inside the handler and waits
  /// for `release`. The bound only keeps a failing test from hanging.
  void pass() {
    std::call_once(entered_once_, [&] { entered_p_.set_value(); });
    released_.wait_for(120s);
  }

  /// Called by the actor at the end of the gated handler.
  void finish() {
    std::call_once(done_once_, [&] { done_p_.set_value(); });
  }

  /// Called by the test: waits until the actor is inside the handler.
  bool wait_entered(std::chrono::seconds bound = 60s) const {
    return entered_.wait_for(bound) == std::future_status::ready;
  }

  /// Called by the test: waits until the actor called `finish`.
  bool wait_done(std::chrono::seconds bound = 60s) const {
    return done_.wait_for(bound) == std::future_status::ready;
  }

  /// Lets the actor continue (idempotent).
  void release() {
    std::call_once(released_once_, [&] { released_p_.set_value(); });
  }

private:
  std::promise<void> entered_p_;
  std::promise<void> released_p_;
  std::promise<void> done_p_;
  std::shared_future<void> entered_;
  std::shared_future<void> released_;
  std::shared_future<void> done_;
  std::once_flag entered_once_;
  std::once_flag released_once_;
  std::once_flag done_once_;
};

using gate_ptr = std::shared_ptr<gate>;

// -- the system under test ----------------------------------------------------

/// An actor system with the snapshot module, a private snapshot directory
/// and enough scheduler threads for a few actors blocked in gates. On
/// destruction it opens all gates and kills all actors it spawned, so that a
/// failing assertion cannot leave the system's destructor waiting forever.
class fixture {
public:
  explicit fixture(caf::timespan timeout = std::chrono::seconds{60})
      : cfg(dir.path(), timeout), sys(prepare(cfg)) {
    // nop
  }

  ~fixture() {
    for (auto& g : gates)
      g->release();
    for (auto& a : actors)
      caf::anon_send_exit(a, caf::exit_reason::kill);
  }

  fixture(const fixture&) = delete;
  fixture& operator=(const fixture&) = delete;

  template <class... Ts>
  auto spawn(Ts&&... xs) {
    auto hdl = sys.spawn(std::forward<Ts>(xs)...);
    actors.emplace_back(caf::actor_cast<caf::actor>(hdl));
    return hdl;
  }

  template <class T, class... Ts>
  auto spawn_class(Ts&&... xs) {
    auto hdl = sys.spawn<T>(std::forward<Ts>(xs)...);
    actors.emplace_back(caf::actor_cast<caf::actor>(hdl));
    return hdl;
  }

  gate_ptr make_gate() {
    gates.emplace_back(std::make_shared<gate>());
    return gates.back();
  }

  /// Number of files (complete or temporary) in the snapshot directory.
  size_t files_in_directory() const {
    size_t n = 0;
    std::error_code ec;
    for (auto& entry : std::filesystem::directory_iterator{dir.path(), ec}) {
      static_cast<void>(entry);
      ++n;
    }
    return n;
  }

  test::temp_dir dir;
  test::config cfg;
  caf::actor_system sys;
  std::vector<caf::actor> actors;
  std::vector<gate_ptr> gates;

private:
  static test::config& prepare(test::config& cfg) {
    cfg.set("scheduler.max-threads", 6);
    return cfg;
  }
};

// -- talking to actors from the test ------------------------------------------

/// Sends a request and waits for a reply of type `T`.
template <class T, class Handle, class... Ts>
T ask(caf::actor_system& sys, const Handle& dest, Ts&&... xs) {
  caf::scoped_actor self{sys};
  T result{};
  self->request(dest, std::chrono::seconds{60}, std::forward<Ts>(xs)...)
    .receive([&](T& x) { result = std::move(x); },
             [&](caf::error& err) {
               ADD_FAILURE() << "ask failed: " << sys.render(err);
             });
  return result;
}

/// Sends a request to a handler returning `void` and waits for its (empty)
/// reply: when this returns, the handler has run to completion.
template <class Handle, class... Ts>
void call(caf::actor_system& sys, const Handle& dest, Ts&&... xs) {
  caf::scoped_actor self{sys};
  self->request(dest, std::chrono::seconds{60}, std::forward<Ts>(xs)...)
    .receive([] {},
             [&](caf::error& err) {
               ADD_FAILURE() << "call failed: " << sys.render(err);
             });
}

// -- snapshots ----------------------------------------------------------------

/// A snapshot request sent now (on the calling thread) whose reply is
/// collected later with `get` or `load`.
class async_take {
public:
  explicit async_take(caf::actor_system& sys) : sys_(sys), self_(sys) {
    handle_.emplace(self_->request(snap::coordinator(sys),
                                   std::chrono::seconds{120},
                                   snap::take_atom::value));
  }

  caf::expected<snap::snapshot_info> get() {
    caf::expected<snap::snapshot_info> result{caf::error{}};
    handle_->receive(
      [&](snap::snapshot_info& info) { result = std::move(info); },
      [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  /// Waits for the reply and loads the snapshot; fails the test on errors.
  snap::global_snapshot load() {
    auto info = get();
    if (!info) {
      ADD_FAILURE() << "take failed: " << sys_.render(info.error());
      return {};
    }
    auto result = snap::load(info->path);
    if (!result) {
      ADD_FAILURE() << "load failed: " << snap::render(result.error());
      return {};
    }
    EXPECT_EQ(result->id, info->id);
    return std::move(*result);
  }

private:
  using handle_type = decltype(std::declval<caf::scoped_actor&>()->request(
    std::declval<caf::actor>(), std::chrono::seconds{1},
    snap::take_atom::value));

  caf::actor_system& sys_;
  caf::scoped_actor self_;
  std::optional<handle_type> handle_;
};

/// Returns once the coordinator has handled every message that the calling
/// thread sent to it before. For a `take` request sent earlier on this
/// thread, this means its markers are in every participant's mailbox.
/// (White-box: pings the coordinator with a deadline for snapshot 0, which
/// never exists and which the coordinator ignores.)
inline void coordinator_barrier(caf::actor_system& sys) {
  caf::scoped_actor self{sys};
  self
    ->request(snap::coordinator(sys), std::chrono::seconds{60},
              snap::detail::deadline_atom::value, uint64_t{0})
    .receive([] {},
             [&](caf::error& err) {
               ADD_FAILURE() << "coordinator barrier failed: "
                             << sys.render(err);
             });
}

// -- lookups in loaded snapshots ----------------------------------------------

inline const snap::actor_record* find_actor(const snap::global_snapshot& s,
                                            caf::actor_id id) {
  const snap::actor_record* result = nullptr;
  for (auto& a : s.actors) {
    if (a.id == id) {
      EXPECT_EQ(result, nullptr) << "actor " << id << " recorded twice";
      result = &a;
    }
  }
  return result;
}

/// Loads the recorded state of actor `id`; fails the test if it is missing.
template <class State>
State state_of(const snap::global_snapshot& s, caf::actor_id id) {
  State st;
  auto rec = find_actor(s, id);
  if (rec == nullptr) {
    ADD_FAILURE() << "actor " << id << " not in snapshot " << s.id;
    return st;
  }
  auto err = rec->load_state(st);
  EXPECT_FALSE(err) << snap::render(err);
  return st;
}

/// All in-flight records with receiver `id`.
inline std::vector<snap::message_record>
in_flight_to(const snap::global_snapshot& s, caf::actor_id id) {
  std::vector<snap::message_record> result;
  for (auto& m : s.in_flight)
    if (m.receiver == id)
      result.emplace_back(m);
  return result;
}

/// Decodes a record that holds a single `int`; fails the test otherwise.
inline int decode_int(caf::actor_system& sys, const snap::message_record& m) {
  auto msg = m.decode(sys);
  if (!msg) {
    ADD_FAILURE() << "cannot decode " << m.text << ": "
                  << snap::render(msg.error());
    return -1;
  }
  if (!msg->match_elements<int>()) {
    ADD_FAILURE() << "not a single int: " << m.text;
    return -1;
  }
  return msg->get_as<int>(0);
}

/// Decoded ints of `ms`, sorted.
inline std::vector<int>
sorted_ints(caf::actor_system& sys, const std::vector<snap::message_record>& ms) {
  std::vector<int> result;
  for (auto& m : ms)
    result.emplace_back(decode_int(sys, m));
  std::sort(result.begin(), result.end());
  return result;
}

inline std::string describe(const snap::message_record& m) {
  return m.text + " from " + std::to_string(m.sender) + " to "
         + std::to_string(m.receiver) + " at " + snap::to_string(m.location)
         + (m.from_participant ? "" : " (external)");
}

inline caf::message_id to_message_id(uint64_t x) {
  return caf::message_id{x};
}

/// Whether `err` is the snapshot error `code`.
inline bool is_snapshot_error(const caf::error& err, snap::errc code) {
  return err.category() == snap::error_category
         && err.code() == static_cast<uint8_t>(code);
}

// -- common actors ------------------------------------------------------------

/// State of `counter_fn`: sums the ints it handled.
struct counter_state {
  int64_t handled = 0;
  int64_t sum = 0;
  static inline const char* name = "edge.counter";
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & handled & sum;
  }
};

using counter_actor = snap::stateful_actor<counter_state>;

/// Counts ints; `block` holds it in `g` (if any); `query` returns `handled`.
inline caf::behavior counter_fn(counter_actor* self, gate_ptr g) {
  return {
    [=](block_atom) {
      if (g) {
        g->pass();
        g->finish();
      }
    },
    [=](int x) {
      ++self->state.handled;
      self->state.sum += x;
    },
    [=](query_atom) { return self->state.handled; },
  };
}

/// A stateless participant that sends `n` ints `first, first + 1, ...` to
/// `to` when told so (and ignores ints that receivers send back).
inline caf::behavior sender_fn(snap::event_based_actor* self) {
  return {
    [=](go_atom, const caf::actor& to, int first, int n) {
      for (int i = 0; i < n; ++i)
        self->send(to, first + i);
    },
    [=](int) {
      // nop
    },
  };
}

} // namespace edge
