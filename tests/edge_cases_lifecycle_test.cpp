// Edge cases of the actor life cycle and of the requester: participants
// spawned or terminated while a snapshot runs, overlapping snapshot
// requests, and requests that cannot be served.

#include <set>
#include <thread>

#include "edge_cases_util.hpp"

using namespace edge;

namespace {

using loc = snap::message_location;

// -- 6. spawn during a snapshot -----------------------------------------------

using spawn_atom = caf::atom_constant<caf::atom("e_spawn")>;
using kids_atom = caf::atom_constant<caf::atom("e_kids")>;

struct value_state {
  int64_t value = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & value;
  }
};

using value_actor = snap::stateful_actor<value_state>;

caf::behavior child_fn(value_actor* self, int64_t value) {
  self->state.value = value;
  return {
    [=](query_atom) { return self->state.value; },
  };
}

struct family {
  int64_t children = 0;
  std::vector<caf::actor> kids; // not archived
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & children;
  }
};

/// `spawn(v, true)` waits in `g` and then spawns a child with value `v`;
/// `spawn(v, false)` spawns at once. Children are linked to the parent.
caf::behavior parent_fn(snap::stateful_actor<family>* self, gate_ptr g) {
  return {
    [=](spawn_atom, int64_t value, bool gated) {
      if (gated)
        g->pass();
      auto kid = self->spawn<caf::linked>(child_fn, value);
      self->state.kids.emplace_back(kid);
      ++self->state.children;
      if (gated)
        g->finish();
    },
    [=](kids_atom) { return self->state.kids; },
  };
}

} // namespace

TEST(edge_spawn, child_spawned_before_parent_cut_is_in_the_snapshot_and_one_after_is_not) {
  fixture f;
  auto gp = f.make_gate();
  auto gb = f.make_gate();
  auto parent = f.spawn(parent_fn, gp);
  auto blocker = f.spawn(counter_fn, gb); // keeps the snapshot open
  caf::anon_send(parent, spawn_atom::value, int64_t{1}, true);
  caf::anon_send(blocker, block_atom::value);
  ASSERT_TRUE(gp->wait_entered());
  ASSERT_TRUE(gb->wait_entered());
  async_take t{f.sys};
  coordinator_barrier(f.sys); // the parent's marker waits in its mailbox
  gp->release();              // spawns child 1, then cuts
  ASSERT_TRUE(gp->wait_done());
  // Handled after the parent's cut (its marker is urgent): child 2 is born
  // after the cut.
  call(f.sys, parent, spawn_atom::value, int64_t{2}, false);
  auto kids = ask<std::vector<caf::actor>>(f.sys, parent, kids_atom::value);
  ASSERT_EQ(kids.size(), 2u);
  gb->release();
  auto s = t.load();
  auto c1 = find_actor(s, kids[0].id());
  ASSERT_NE(c1, nullptr) << "child spawned before the parent's cut is missing";
  EXPECT_EQ(c1->status, snap::actor_status::running);
  EXPECT_EQ(state_of<value_state>(s, kids[0].id()).value, 1);
  EXPECT_EQ(find_actor(s, kids[1].id()), nullptr)
    << "child spawned after the parent's cut is in the snapshot";
  // The parent's state counts child 1 only.
  EXPECT_EQ(state_of<family>(s, parent.id()).children, 1);
  EXPECT_EQ(s.actors.size(), 3u); // parent, blocker, child 1
  // The next snapshot has both children.
  auto s2 = test::take_and_load(f.sys);
  EXPECT_NE(find_actor(s2, kids[0].id()), nullptr);
  EXPECT_NE(find_actor(s2, kids[1].id()), nullptr);
  EXPECT_EQ(state_of<value_state>(s2, kids[1].id()).value, 2);
  EXPECT_EQ(state_of<family>(s2, parent.id()).children, 2);
}

namespace {

/// Counts the participants its system's registry holds while its own
/// constructor runs.
class registry_probe : public snap::participant<caf::event_based_actor> {
public:
  using super = snap::participant<caf::event_based_actor>;

  registry_probe(caf::actor_config& cfg, size_t* seen) : super(cfg) {
    *seen = snap::module::find(home_system())->participants().size();
  }

  caf::behavior make_behavior() override {
    return {[](int) {}};
  }
};

} // namespace

// A constructor must not publish `this`: the coordinator and the middleman
// reach registered participants from other threads, and the most derived
// part of the object is not built yet (ThreadSanitizer reported exactly
// that, a virtual call racing with a constructor). Participants enter the
// registry when CAF launches them.
TEST(edge_spawn, participants_enter_the_registry_when_launched_not_when_constructed) {
  fixture f;
  auto& reg = snap::module::find(f.sys)->participants();
  auto before = reg.size();
  size_t seen = 0;
  auto probe = f.spawn_class<registry_probe>(&seen);
  EXPECT_EQ(seen, before) << "registered during construction";
  EXPECT_EQ(reg.size(), before + 1);
  auto s = test::take_and_load(f.sys);
  EXPECT_NE(find_actor(s, probe.id()), nullptr);
}

// -- 7. quit during a snapshot ------------------------------------------------

namespace {

using quit_atom = caf::atom_constant<caf::atom("e_quit")>;

/// On `quit(to1, to2, n)`: waits in `g`, sends 1..n to both receivers,
/// records n, and quits with `user_shutdown`.
caf::behavior quitter_fn(value_actor* self, gate_ptr g) {
  return {
    [=](quit_atom, const caf::actor& to1, const caf::actor& to2, int n) {
      if (g)
        g->pass();
      for (int i = 1; i <= n; ++i) {
        self->send(to1, i);
        self->send(to2, i);
      }
      self->state.value = n;
      self->quit(caf::exit_reason::user_shutdown);
    },
    [=](query_atom) { return self->state.value; },
  };
}

void await_down(caf::scoped_actor& self, const caf::actor& who) {
  bool down = false;
  self->receive(
    [&](caf::down_msg& msg) {
      EXPECT_EQ(msg.source, who.address());
      down = true;
    },
    caf::after(std::chrono::seconds{60}) >> [] {});
  ASSERT_TRUE(down) << "actor " << who.id() << " did not terminate";
}

} // namespace

TEST(edge_exit, participant_that_quits_before_its_cut_is_recorded_exited_and_loses_nothing) {
  fixture f;
  auto gq = f.make_gate();
  auto gr = f.make_gate();
  auto q = f.spawn(quitter_fn, gq);
  auto r = f.spawn(counter_fn, gr);               // cuts after q quit
  auto r2 = f.spawn(counter_fn, gate_ptr{});      // free-running
  caf::anon_send(r, block_atom::value);
  caf::anon_send(q, quit_atom::value, r, r2, 3);
  ASSERT_TRUE(gr->wait_entered());
  ASSERT_TRUE(gq->wait_entered());
  caf::scoped_actor mon{f.sys};
  mon->monitor(q);
  async_take t{f.sys};
  coordinator_barrier(f.sys); // q's marker waits behind its last handler
  gq->release();              // q sends and quits before handling it
  await_down(mon, q);
  gr->release();
  auto s = t.load();
  auto q_rec = find_actor(s, q.id());
  ASSERT_NE(q_rec, nullptr);
  EXPECT_EQ(q_rec->status, snap::actor_status::exited);
  EXPECT_EQ(q_rec->exit_reason,
            f.sys.render(caf::make_error(caf::exit_reason::user_shutdown)));
  EXPECT_NE(q_rec->exit_reason.find("user_shutdown"), std::string::npos)
    << q_rec->exit_reason;
  EXPECT_EQ(state_of<value_state>(s, q.id()).value, 3); // its final state
  // r cut after q's messages arrived: all three wait in its queue.
  auto to_r = in_flight_to(s, r.id());
  ASSERT_EQ(to_r.size(), 3u);
  for (auto& m : to_r) {
    EXPECT_EQ(m.sender, q.id());
    EXPECT_EQ(m.location, loc::queue) << describe(m);
    EXPECT_TRUE(m.from_participant);
  }
  EXPECT_EQ(sorted_ints(f.sys, to_r), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(state_of<counter_state>(s, r.id()).handled, 0);
  // r2 may have cut before or after they arrived: each of 1..3 is either
  // in flight or in its state, exactly once.
  auto to_r2 = in_flight_to(s, r2.id());
  int64_t in_flight_sum = 0;
  for (auto& m : to_r2) {
    EXPECT_EQ(m.sender, q.id());
    EXPECT_TRUE(m.location == loc::queue || m.location == loc::wire)
      << describe(m);
    in_flight_sum += decode_int(f.sys, m);
  }
  auto r2_st = state_of<counter_state>(s, r2.id());
  EXPECT_EQ(r2_st.handled + static_cast<int64_t>(to_r2.size()), 3);
  EXPECT_EQ(r2_st.sum + in_flight_sum, 6);
  EXPECT_EQ(s.in_flight.size(), to_r.size() + to_r2.size());
  // The next snapshot no longer has q; the messages are in the states.
  ASSERT_TRUE(test::eventually(
    [&] { return ask<int64_t>(f.sys, r, query_atom::value) == 3; }, 30s));
  ASSERT_TRUE(test::eventually(
    [&] { return ask<int64_t>(f.sys, r2, query_atom::value) == 3; }, 30s));
  auto s2 = test::take_and_load(f.sys);
  EXPECT_EQ(find_actor(s2, q.id()), nullptr);
  EXPECT_TRUE(s2.in_flight.empty());
}

TEST(edge_exit, participant_that_quits_after_its_cut_is_recorded_running) {
  fixture f;
  auto gb = f.make_gate();
  auto q = f.spawn(quitter_fn, gate_ptr{});
  auto r = f.spawn(counter_fn, gate_ptr{});
  auto blocker = f.spawn(counter_fn, gb); // keeps the snapshot open
  caf::anon_send(blocker, block_atom::value);
  ASSERT_TRUE(gb->wait_entered());
  caf::scoped_actor mon{f.sys};
  mon->monitor(q);
  async_take t{f.sys};
  coordinator_barrier(f.sys);
  // A participant spawned now (by a non-participant) starts after this
  // snapshot's cut, so its message makes q cut before handling it (and is
  // not in flight, as a message from the test could be). q then sends and
  // quits: its messages come from after its cut and are not in flight.
  f.spawn([=](snap::event_based_actor* self) {
    self->send(q, quit_atom::value, r, r, 2);
  });
  await_down(mon, q);
  gb->release();
  auto s = t.load();
  auto q_rec = find_actor(s, q.id());
  ASSERT_NE(q_rec, nullptr);
  EXPECT_EQ(q_rec->status, snap::actor_status::running);
  EXPECT_TRUE(q_rec->exit_reason.empty());
  EXPECT_EQ(state_of<value_state>(s, q.id()).value, 0);
  EXPECT_TRUE(s.in_flight.empty());
  EXPECT_EQ(state_of<counter_state>(s, r.id()).handled, 0);
}

// -- 11. overlapping requests -------------------------------------------------

TEST(edge_overlap, five_overlapping_requests_each_get_their_own_snapshot) {
  fixture f;
  auto g = f.make_gate();
  auto blocker = f.spawn(counter_fn, g);
  auto p = f.spawn(sender_fn);
  std::vector<caf::actor> idle;
  for (int i = 0; i < 3; ++i)
    idle.emplace_back(f.spawn(counter_fn, gate_ptr{}));
  caf::anon_send(blocker, block_atom::value);
  ASSERT_TRUE(g->wait_entered());
  call(f.sys, p, go_atom::value, blocker, 1, 2); // waits at the blocker
  // All five are pending at once: none can finish before the blocker cuts.
  std::vector<std::unique_ptr<async_take>> takes;
  for (int i = 0; i < 5; ++i)
    takes.emplace_back(std::make_unique<async_take>(f.sys));
  coordinator_barrier(f.sys);
  g->release();
  std::set<uint64_t> ids;
  std::set<std::string> paths;
  for (auto& t : takes) {
    auto info = t->get();
    ASSERT_TRUE(info) << f.sys.render(info.error());
    ids.emplace(info->id);
    paths.emplace(info->path);
    auto s = snap::load(info->path);
    ASSERT_TRUE(s) << snap::render(s.error());
    EXPECT_EQ(s->id, info->id);
    EXPECT_TRUE(s->complete);
    EXPECT_EQ(s->actors.size(), 5u);
    EXPECT_EQ(info->actors, 5u);
    for (auto& x : idle)
      EXPECT_NE(find_actor(*s, x.id()), nullptr);
    EXPECT_NE(find_actor(*s, p.id()), nullptr);
    EXPECT_NE(find_actor(*s, blocker.id()), nullptr);
    // The two ints waited at the blocker's cut in every one of them.
    ASSERT_EQ(s->in_flight.size(), 2u);
    for (auto& m : s->in_flight) {
      EXPECT_EQ(m.sender, p.id());
      EXPECT_EQ(m.receiver, blocker.id());
      EXPECT_EQ(m.location, loc::queue);
    }
    EXPECT_EQ(sorted_ints(f.sys, s->in_flight), (std::vector<int>{1, 2}));
  }
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_EQ(paths.size(), 5u);
}

// -- 15. the requester is never left hanging ----------------------------------

TEST(edge_requester, coordinator_without_module_is_invalid_and_requests_to_it_fail) {
  caf::actor_system_config cfg;
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  auto coord = snap::coordinator(sys);
  EXPECT_FALSE(coord);
  caf::scoped_actor self{sys};
  bool got_error = false;
  self->request(coord, std::chrono::seconds{5}, snap::take_atom::value)
    .receive([](snap::snapshot_info&) { ADD_FAILURE() << "got a snapshot"; },
             [&](caf::error& err) {
               got_error = true;
               EXPECT_TRUE(err);
               EXPECT_FALSE(sys.render(err).empty());
             });
  EXPECT_TRUE(got_error);
}

namespace {

/// Shuts a system down while a snapshot is pending (a hidden participant
/// holds its cut back) and returns what the requester, a hidden actor,
/// received: the rendered error, or a note that it got nothing. The
/// coordinator first gets `busy` messages to work through (cheap pings).
std::string shut_down_while_pending(bool detached_requester, size_t busy) {
  auto g = std::make_shared<gate>();
  auto reply_p = std::make_shared<std::promise<std::string>>();
  auto reply = reply_p->get_future().share();
  // A watchdog opens the gate if no reply comes in time, so that a failing
  // library cannot hang the test in the system's destructor.
  auto rescued = std::make_shared<std::atomic<bool>>(false);
  struct watchdog_t {
    std::thread thread;
    gate_ptr g;
    ~watchdog_t() {
      g->release();
      thread.join();
    }
  } watchdog{std::thread{[g, reply, rescued] {
               if (reply.wait_for(std::chrono::seconds{60})
                   != std::future_status::ready) {
                 *rescued = true;
                 g->release();
               }
             }},
             g};
  {
    test::temp_dir dir;
    test::config cfg{dir.path()};
    cfg.set("scheduler.max-threads", 4);
    caf::actor_system sys{cfg};
    // Hidden actors do not delay the shutdown; the blocker does not reach
    // its cut before the coordinator stops.
    auto blocker = sys.spawn<caf::hidden>(counter_fn, g);
    caf::anon_send(blocker, block_atom::value);
    if (!g->wait_entered())
      return "blocker did not start";
    auto coord = snap::coordinator(sys);
    auto requester = [=](caf::event_based_actor* self) {
      self->request(coord, caf::infinite, snap::take_atom::value)
        .then(
          [=](snap::snapshot_info&) {
            reply_p->set_value("unexpected snapshot");
            g->release();
          },
          [=](caf::error& err) {
            reply_p->set_value(self->system().render(err));
            g->release();
          });
    };
    if (detached_requester)
      sys.spawn<caf::hidden + caf::detached>(requester);
    else
      sys.spawn<caf::hidden>(requester);
    auto mod = snap::module::find(sys);
    if (mod == nullptr)
      return "no module";
    if (!test::eventually(
          [&] { return mod->participants().highest_active() != 0; }, 30s))
      return "snapshot did not start";
    for (size_t i = 0; i < busy; ++i)
      caf::anon_send(coord, snap::detail::info_atom::value);
  } // shuts the system down with the snapshot pending
  if (*rescued)
    return "no reply before the system shut down (the requester only ran "
           "once the watchdog released the blocker)";
  if (reply.wait_for(std::chrono::seconds{0}) != std::future_status::ready)
    return "no reply at all";
  return reply.get();
}

} // namespace

TEST(edge_requester, pending_request_of_detached_requester_gets_an_error_at_shutdown) {
  auto text = shut_down_while_pending(true, 0);
  EXPECT_NE(text.find("shutting_down"), std::string::npos) << text;
}

// Regression: at shutdown, CAF destroys a participant that still records
// channels (its marker arrived after the coordinator stopped) and runs its
// cleanup from the destructor. Handles to itself created there resurrected
// and destroyed it twice (a crash in about 1 of 10 shutdowns). Repeated so
// that the race shows up reliably.
TEST(edge_requester, shutdown_with_a_pending_snapshot_destroys_each_participant_once) {
  for (int i = 0; i < 40; ++i) {
    SCOPED_TRACE("round " + std::to_string(i));
    auto text = shut_down_while_pending(true, 0);
    ASSERT_NE(text.find("shutting_down"), std::string::npos) << text;
  }
}

// A hidden *scheduled* requester is not tested here: the coordinator answers
// it with shutting_down before terminating (module::stop waits for that),
// but CAF 0.17.6 stops its scheduler right after the modules, and a job
// that no worker picked up by then never runs. Non-hidden requesters are
// awaited by the actor system before the modules stop, and get their answer
// from the coordinator (at the latest when snapshot.timeout expires, see
// edge_timeout).
