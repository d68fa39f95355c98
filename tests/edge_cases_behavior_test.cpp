// Edge cases of behaviors and actor types: `become`/`unbecome` and
// `after(...)` never see control traffic, typed and class-based
// participants, and states recorded only between handlers.

#include <map>
#include <thread>

#include "edge_cases_util.hpp"

using namespace edge;

namespace {

using loc = snap::message_location;
using counter_ptr = std::shared_ptr<std::atomic<int>>;

/// Installs a catch-all default handler that counts what reaches it.
template <class Self>
void count_unexpected(Self* self, counter_ptr unexpected) {
  self->set_default_handler(
    [=](caf::scheduled_actor*,
        caf::message_view& x) -> caf::result<caf::message> {
      ++*unexpected;
      ADD_FAILURE() << "unexpected message reached the behavior: "
                    << x.content().stringify();
      return caf::message{};
    });
}

// -- 5. become / unbecome -----------------------------------------------------

using flip_atom = caf::atom_constant<caf::atom("e_flip")>;
using flop_atom = caf::atom_constant<caf::atom("e_flop")>;
using swap_atom = caf::atom_constant<caf::atom("e_swap")>;
using back_atom = caf::atom_constant<caf::atom("e_back")>;

struct mood {
  int32_t mode = 0; // 0: base, 1: kept on top of base, 2: replaced
  int64_t a = 0;
  int64_t b = 0;
  int64_t c = 0;
  // Kept in the state (not archived) so that the behaviors can refer to
  // each other without a reference cycle.
  caf::behavior base_bhvr;
  caf::behavior b_bhvr;
  caf::behavior c_bhvr;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & mode & a & b & c;
  }
};

using moody_actor = snap::stateful_actor<mood>;

/// Three behaviors: base (mode 0), B kept on top of base (mode 1) and C
/// replacing B (mode 2). Each counts the ints it handles in its own field.
caf::behavior moody_fn(moody_actor* self, counter_ptr unexpected) {
  count_unexpected(self, unexpected);
  self->state.b_bhvr = caf::behavior{
    [=](int) { ++self->state.b; },
    [=](flop_atom) {
      self->state.mode = 0;
      self->unbecome();
    },
    [=](swap_atom) {
      self->state.mode = 2;
      self->become(self->state.c_bhvr); // replaces B
    },
    [=](query_atom) { return self->state.mode; },
  };
  self->state.c_bhvr = caf::behavior{
    [=](int) { ++self->state.c; },
    [=](back_atom) {
      self->state.mode = 0;
      self->become(self->state.base_bhvr); // replaces C
    },
    [=](query_atom) { return self->state.mode; },
  };
  self->state.base_bhvr = caf::behavior{
    [=](int) { ++self->state.a; },
    [=](flip_atom) {
      self->state.mode = 1;
      self->become(caf::keep_behavior, self->state.b_bhvr);
    },
    [=](query_atom) { return self->state.mode; },
  };
  return self->state.base_bhvr;
}

} // namespace

TEST(edge_behavior, control_traffic_never_reaches_behaviors_across_become_and_unbecome) {
  fixture f;
  auto unexpected = std::make_shared<std::atomic<int>>(0);
  auto m = f.spawn(moody_fn, unexpected);
  auto p = f.spawn(sender_fn);
  struct step {
    std::function<void()> send;
    int32_t mode;
  };
  std::vector<step> steps{
    {[&] { caf::anon_send(m, flip_atom::value); }, 1},
    {[&] { caf::anon_send(m, flop_atom::value); }, 0},
    {[&] { caf::anon_send(m, flip_atom::value); }, 1},
    {[&] { caf::anon_send(m, swap_atom::value); }, 2},
    {[&] { caf::anon_send(m, back_atom::value); }, 0},
  };
  mood expected;
  int next = 1;
  for (auto& st : steps) {
    st.send();
    ASSERT_EQ(ask<int32_t>(f.sys, m, query_atom::value), st.mode);
    call(f.sys, p, go_atom::value, m, next, 2);
    next += 2;
    expected.mode = st.mode;
    (st.mode == 0 ? expected.a : st.mode == 1 ? expected.b : expected.c) += 2;
    ASSERT_EQ(ask<int32_t>(f.sys, m, query_atom::value), st.mode);
    for (int i = 0; i < 3; ++i) {
      auto s = test::take_and_load(f.sys);
      EXPECT_TRUE(s.in_flight.empty());
      auto got = state_of<mood>(s, m.id());
      EXPECT_EQ(got.mode, expected.mode);
      EXPECT_EQ(got.a, expected.a);
      EXPECT_EQ(got.b, expected.b);
      EXPECT_EQ(got.c, expected.c);
    }
  }
  // Snapshots while the behavior changes under traffic.
  std::atomic<bool> done{false};
  std::thread driver{[&] {
    while (!done) {
      caf::anon_send(m, flip_atom::value);
      caf::anon_send(m, 1);
      caf::anon_send(m, flop_atom::value);
      caf::anon_send(m, 1);
      // Bounded: wait for m to catch up before sending more.
      ask<int32_t>(f.sys, m, query_atom::value);
    }
  }};
  for (int i = 0; i < 20; ++i) {
    auto s = test::take_and_load(f.sys);
    auto got = state_of<mood>(s, m.id());
    EXPECT_TRUE(got.mode == 0 || got.mode == 1) << got.mode;
  }
  done = true;
  driver.join();
  EXPECT_EQ(*unexpected, 0);
}

// -- 5. after(...) ------------------------------------------------------------

namespace {

struct idle_state {
  int64_t handled = 0;
  int64_t timeouts = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & handled & timeouts;
  }
};

/// Counts its receive timeouts (200ms without a message).
caf::behavior idler_fn(snap::stateful_actor<idle_state>* self,
                       counter_ptr fired, counter_ptr unexpected) {
  count_unexpected(self, unexpected);
  return {
    [=](int) { ++self->state.handled; },
    [=](query_atom) { return self->state.timeouts; },
    caf::after(std::chrono::milliseconds{200}) >>
      [=] {
        ++self->state.timeouts;
        ++*fired;
      },
  };
}

} // namespace

TEST(edge_behavior, snapshots_taken_back_to_back_do_not_postpone_after_timeouts) {
  fixture f;
  auto fired = std::make_shared<std::atomic<int>>(0);
  auto unexpected = std::make_shared<std::atomic<int>>(0);
  auto idler = f.spawn(idler_fn, fired, unexpected);
  // A user message arms the 200ms timeout.
  caf::anon_send(idler, 1);
  // Snapshots every few milliseconds: if control traffic re-armed the
  // timeout, it would never fire while this loop runs (bounded by 30s).
  auto start = std::chrono::steady_clock::now();
  int snapshots = 0;
  std::chrono::milliseconds longest{0};
  while (*fired == 0
         && std::chrono::steady_clock::now() - start < std::chrono::seconds{30}) {
    auto t0 = std::chrono::steady_clock::now();
    auto info = test::take(f.sys);
    ASSERT_TRUE(info) << f.sys.render(info.error());
    longest = std::max(longest,
                       std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - t0));
    ++snapshots;
  }
  EXPECT_GE(*fired, 1) << "no timeout during " << snapshots << " snapshots";
  EXPECT_GE(snapshots, 3);
  std::cout << snapshots << " snapshots before the timeout fired (longest "
            << longest.count() << "ms)\n";
  EXPECT_EQ(*unexpected, 0);
  // The timeout's effect is recorded like any handler's.
  auto s = test::take_and_load(f.sys);
  auto st = state_of<idle_state>(s, idler.id());
  EXPECT_EQ(st.handled, 1);
  EXPECT_GE(st.timeouts, 1);
}

// -- 10. typed participants ---------------------------------------------------

namespace {

using calc = caf::typed_actor<caf::replies_to<int>::with<int>>;

struct calc_state {
  int64_t calls = 0;
  int64_t sum = 0;
  static inline const char* name = "edge.calc";
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & calls & sum;
  }
};

using calc_actor = snap::stateful_actor<calc_state, calc::base>;

/// Doubles ints; a negative int holds it in `g` (the interface has no room
/// for another message).
calc::behavior_type calc_fn(calc_actor* self, gate_ptr g) {
  return {
    [=](int x) -> int {
      if (x < 0) {
        g->pass();
        return 0;
      }
      ++self->state.calls;
      self->state.sum += x;
      return 2 * x;
    },
  };
}

} // namespace

TEST(edge_types, typed_stateful_participant_records_its_state_and_channels) {
  fixture f;
  auto g = f.make_gate();
  calc c = f.spawn(calc_fn, g);
  auto p = f.spawn(sender_fn);
  EXPECT_EQ(ask<int>(f.sys, c, 21), 42);
  auto s = test::take_and_load(f.sys);
  auto rec = find_actor(s, c->id());
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->name, "edge.calc");
  EXPECT_EQ(rec->status, snap::actor_status::running);
  EXPECT_EQ(rec->node, caf::to_string(f.sys.node()));
  auto st = state_of<calc_state>(s, c->id());
  EXPECT_EQ(st.calls, 1);
  EXPECT_EQ(st.sum, 21);
  // A message waiting at its cut is in flight.
  caf::anon_send(c, -1);
  ASSERT_TRUE(g->wait_entered());
  call(f.sys, p, go_atom::value, caf::actor_cast<caf::actor>(c), 5, 1);
  async_take t{f.sys};
  coordinator_barrier(f.sys);
  g->release();
  auto s2 = t.load();
  ASSERT_EQ(s2.in_flight.size(), 1u);
  auto& m = s2.in_flight[0];
  EXPECT_EQ(m.sender, p.id());
  EXPECT_EQ(m.receiver, c->id());
  EXPECT_EQ(m.location, loc::queue);
  EXPECT_EQ(decode_int(f.sys, m), 5);
  EXPECT_EQ(state_of<calc_state>(s2, c->id()).calls, 1);
}

// -- 10. class-based participants ---------------------------------------------

namespace {

class tally : public snap::participant<caf::event_based_actor> {
public:
  using super = snap::participant<caf::event_based_actor>;

  explicit tally(caf::actor_config& cfg) : super(cfg) {
    // nop
  }

  const char* name() const override {
    return "edge.tally";
  }

  caf::behavior make_behavior() override {
    return {
      [=](int x) { count_ += x; },
      [=](query_atom) { return count_; },
    };
  }

protected:
  void save_state(std::vector<char>& bytes, std::string& text) override {
    snap::save_boost(count_, bytes, text);
  }

private:
  int count_ = 0;
};

} // namespace

TEST(edge_types, class_based_participant_records_the_state_its_save_state_writes) {
  fixture f;
  auto t = f.spawn_class<tally>();
  auto p = f.spawn(sender_fn);
  call(f.sys, p, go_atom::value, t, 3, 2); // 3 + 4
  ASSERT_EQ(ask<int>(f.sys, t, query_atom::value), 7);
  auto s = test::take_and_load(f.sys);
  auto rec = find_actor(s, t.id());
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->name, "edge.tally");
  EXPECT_EQ(rec->status, snap::actor_status::running);
  EXPECT_FALSE(rec->state.empty());
  int count = 0;
  auto err = rec->load_state(count);
  EXPECT_FALSE(err) << snap::render(err);
  EXPECT_EQ(count, 7);
  EXPECT_TRUE(s.in_flight.empty());
  // p is a participant without a state of its own.
  auto p_rec = find_actor(s, p.id());
  ASSERT_NE(p_rec, nullptr);
  EXPECT_TRUE(p_rec->state.empty());
}

// -- 16. states are recorded between handlers ---------------------------------

namespace {

using bump_atom = caf::atom_constant<caf::atom("e_bump")>;
using ring_atom = caf::atom_constant<caf::atom("e_ring")>;

/// Invariant: a == b between handlers.
struct twins {
  int64_t a = 0;
  int64_t b = 0;
  caf::actor next; // not archived
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & a & b;
  }
};

/// `bump` raises `a` step by step, sending to the next twin in between
/// (which may make it cut), then lets `b` catch up.
caf::behavior twins_fn(snap::stateful_actor<twins>* self) {
  return {
    [=](ring_atom, const caf::actor& next) { self->state.next = next; },
    [=](bump_atom, int ttl) {
      auto& st = self->state;
      for (int i = 0; i < 4; ++i) {
        ++st.a;
        if (ttl > 0 && st.next)
          self->send(st.next, bump_atom::value, ttl - 1);
        std::this_thread::yield();
      }
      for (int i = 0; i < 4; ++i) {
        ++st.b;
        std::this_thread::yield();
      }
    },
    [=](query_atom) { return self->state.a; },
  };
}

} // namespace

TEST(edge_consistency, recorded_states_never_show_a_handler_half_done) {
  fixture f;
  std::vector<caf::actor> ring;
  for (int i = 0; i < 4; ++i)
    ring.emplace_back(f.spawn(twins_fn));
  for (size_t i = 0; i < ring.size(); ++i)
    call(f.sys, ring[i], ring_atom::value, ring[(i + 1) % ring.size()]);
  std::atomic<bool> done{false};
  std::thread driver{[&] {
    size_t i = 0;
    while (!done) {
      caf::anon_send(ring[i++ % ring.size()], bump_atom::value, 1);
      if (i % 16 == 0) // bounded: let the ring catch up
        ask<int64_t>(f.sys, ring[0], query_atom::value);
    }
  }};
  std::map<caf::actor_id, int64_t> last;
  int64_t max_seen = 0;
  for (int n = 0; n < 30; ++n) {
    auto s = test::take_and_load(f.sys);
    ASSERT_EQ(s.actors.size(), ring.size());
    for (auto& x : ring) {
      auto st = state_of<twins>(s, x.id());
      EXPECT_EQ(st.a, st.b) << "actor " << x.id() << " in snapshot " << s.id;
      EXPECT_EQ(st.a % 4, 0);
      EXPECT_GE(st.a, last[x.id()]); // snapshots are ordered
      last[x.id()] = st.a;
      max_seen = std::max(max_seen, st.a);
    }
  }
  done = true;
  driver.join();
  EXPECT_GT(max_seen, 0); // not vacuous
}
