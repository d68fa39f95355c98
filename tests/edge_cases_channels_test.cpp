// Edge cases of channels: urgent messages, delayed sends, input from
// non-participants and delegation. Each test builds the situation at the
// cut deterministically (gates and replies, no sleeps) and checks the exact
// in-flight records.

#include "edge_cases_util.hpp"

using namespace edge;

namespace {

using loc = snap::message_location;

} // namespace

// -- 3. urgent messages -------------------------------------------------------

namespace {

using go_mixed_atom = caf::atom_constant<caf::atom("e_gomixed")>;

/// On `go_mixed`, waits in `g`, then sends `n` urgent ints 1..n and `n`
/// normal ints 101..100+n to `to`.
caf::behavior mixed_sender_fn(snap::event_based_actor* self, gate_ptr g) {
  return {
    [=](go_mixed_atom, const caf::actor& to, int n) {
      g->pass();
      for (int i = 1; i <= n; ++i) {
        self->send<caf::message_priority::high>(to, i);
        self->send(to, 100 + i);
      }
      g->finish();
    },
  };
}

} // namespace

TEST(edge_priority, high_priority_message_queued_at_cut_is_in_flight_as_urgent) {
  fixture f;
  auto gr = f.make_gate();
  auto gs = f.make_gate();
  auto r = f.spawn(counter_fn, gr);
  auto p = f.spawn(mixed_sender_fn, gs);
  caf::anon_send(r, block_atom::value);
  caf::anon_send(p, go_mixed_atom::value, r, 3);
  ASSERT_TRUE(gr->wait_entered());
  ASSERT_TRUE(gs->wait_entered());
  async_take t{f.sys};
  coordinator_barrier(f.sys); // both markers wait in the mailboxes
  // p sends before its cut; the messages queue up behind r's marker.
  gs->release();
  ASSERT_TRUE(gs->wait_done());
  gr->release();
  auto s = t.load();
  auto ms = in_flight_to(s, r.id());
  EXPECT_EQ(s.in_flight.size(), 6u);
  ASSERT_EQ(ms.size(), 6u);
  std::vector<int> urgent;
  std::vector<int> normal;
  for (auto& m : ms) {
    EXPECT_EQ(m.sender, p.id());
    EXPECT_TRUE(m.from_participant);
    auto x = decode_int(f.sys, m);
    if (x < 100) {
      urgent.emplace_back(x);
      EXPECT_EQ(m.location, loc::urgent) << describe(m);
      EXPECT_EQ(m.priority, 1) << describe(m);
    } else {
      normal.emplace_back(x);
      EXPECT_EQ(m.location, loc::queue) << describe(m);
      EXPECT_EQ(m.priority, 0) << describe(m);
    }
  }
  std::sort(urgent.begin(), urgent.end());
  std::sort(normal.begin(), normal.end());
  EXPECT_EQ(urgent, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(normal, (std::vector<int>{101, 102, 103}));
  EXPECT_EQ(state_of<counter_state>(s, r.id()).handled, 0);
  EXPECT_TRUE(test::eventually(
    [&] { return ask<int64_t>(f.sys, r, query_atom::value) == 6; }, 30s));
}

namespace {

using go_urgent_atom = caf::atom_constant<caf::atom("e_gourg")>;

/// On `go_urgent`, waits in `g`, then sends `n` urgent ints 1..n to `to`.
/// Answers `query` with 0.
caf::behavior urgent_sender_fn(snap::event_based_actor* self, gate_ptr g) {
  return {
    [=](go_urgent_atom, const caf::actor& to, int n) {
      g->pass();
      for (int i = 1; i <= n; ++i)
        self->send<caf::message_priority::high>(to, i);
      g->finish();
    },
    [=](query_atom) { return int64_t{0}; },
  };
}

/// Like `counter_fn`, with one gate per `block` message: `(block, 1)` waits
/// in `first`, `(block, 2)` in `second`.
caf::behavior two_gate_counter_fn(counter_actor* self, gate_ptr first,
                                  gate_ptr second) {
  caf::message_handler gated{
    [=](block_atom, int which) {
      auto& g = which == 1 ? first : second;
      g->pass();
      g->finish();
    },
  };
  return caf::behavior{gated.or_else(counter_fn(self, gate_ptr{}))};
}

} // namespace

// The coordinator sends one normal-priority flush; a receiver whose urgent
// queue still holds messages of the old colour when it arrives must keep
// recording until those are seen. CAF consumes at most 6 urgent messages per
// round before turning to the normal queue, so with 50 urgent messages
// queued next to the flush the urgent queue is not empty when the flush is
// consumed.
TEST(edge_priority, urgent_messages_still_queued_behind_the_flush_are_all_in_flight) {
  constexpr int n = 50;
  fixture f;
  auto g1 = f.make_gate();
  auto g2 = f.make_gate();
  auto gs = f.make_gate();
  auto q = f.spawn(two_gate_counter_fn, g1, g2);
  auto p = f.spawn(urgent_sender_fn, gs);
  // q waits in its first gate; its second block is queued behind it.
  caf::anon_send(q, block_atom::value, 1);
  ASSERT_TRUE(g1->wait_entered());
  caf::anon_send(q, block_atom::value, 2);
  // p waits before its cut, about to send urgent messages to q.
  caf::anon_send(p, go_urgent_atom::value, q, n);
  ASSERT_TRUE(gs->wait_entered());
  async_take t{f.sys};
  coordinator_barrier(f.sys); // both markers wait in the mailboxes
  // q's next round fetches the marker and the second block: it cuts with
  // an empty urgent queue, then waits in its second gate.
  g1->release();
  ASSERT_TRUE(g2->wait_entered());
  // p sends its urgent messages to q (old colour), then cuts and reports.
  // Its answer to `query` comes after its report (urgent queue first), and
  // the barrier after that report: then q's flush is in q's mailbox.
  caf::scoped_actor self{f.sys};
  auto answer = self->request(p, 60s, query_atom::value);
  gs->release();
  ASSERT_TRUE(gs->wait_done());
  answer.receive([](int64_t) {},
                 [&](caf::error& err) { FAIL() << f.sys.render(err); });
  coordinator_barrier(f.sys);
  // q now fetches n urgent messages and the flush in one go.
  g2->release();
  auto s = t.load();
  std::vector<snap::message_record> from_p;
  for (auto& m : in_flight_to(s, q.id()))
    if (m.sender == p.id())
      from_p.emplace_back(m);
  ASSERT_EQ(from_p.size(), static_cast<size_t>(n));
  for (auto& m : from_p) {
    EXPECT_EQ(m.location, loc::wire) << describe(m);
    EXPECT_EQ(m.priority, 1) << describe(m);
    EXPECT_TRUE(m.from_participant) << describe(m);
  }
  std::vector<int> expected(n);
  for (int i = 0; i < n; ++i)
    expected[i] = i + 1;
  EXPECT_EQ(sorted_ints(f.sys, from_p), expected);
  EXPECT_EQ(state_of<counter_state>(s, q.id()).handled, 0);
  // The messages were handled after the cut, and nothing was lost.
  EXPECT_TRUE(test::eventually(
    [&] { return ask<int64_t>(f.sys, q, query_atom::value) == n; }, 30s));
}

// -- 4. delayed sends ---------------------------------------------------------

namespace {

/// Sends `x` to `to` in one hour, normal or high priority.
caf::behavior delayer_fn(snap::event_based_actor* self) {
  return {
    [=](go_atom, const caf::actor& to, int x, bool urgent) {
      if (urgent)
        self->delayed_send<caf::message_priority::high>(
          to, std::chrono::hours{1}, x);
      else
        self->delayed_send(to, std::chrono::hours{1}, x);
    },
  };
}

} // namespace

TEST(edge_clock, delayed_send_of_one_hour_is_in_flight_as_clock_once_per_snapshot) {
  // A snapshot that waited for the clock would fail with timed_out.
  fixture f{std::chrono::seconds{20}};
  auto r = f.spawn(counter_fn, gate_ptr{});
  auto d = f.spawn(delayer_fn);
  call(f.sys, d, go_atom::value, r, 7, false);
  call(f.sys, d, go_atom::value, r, 8, true);
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE("snapshot " + std::to_string(round + 1));
    auto info = test::take(f.sys);
    ASSERT_TRUE(info) << f.sys.render(info.error());
    EXPECT_LT(info->duration_ms, 10000u);
    auto s = snap::load(info->path);
    ASSERT_TRUE(s) << snap::render(s.error());
    ASSERT_EQ(s->in_flight.size(), 2u);
    for (auto& m : s->in_flight) {
      EXPECT_EQ(m.location, loc::clock) << describe(m);
      EXPECT_EQ(m.sender, d.id());
      EXPECT_EQ(m.receiver, r.id());
      EXPECT_EQ(m.receiver_node, caf::to_string(f.sys.node()));
      EXPECT_TRUE(m.from_participant);
      auto x = decode_int(f.sys, m);
      EXPECT_EQ(m.priority, x == 8 ? 1 : 0) << describe(m);
    }
    EXPECT_EQ(sorted_ints(f.sys, s->in_flight), (std::vector<int>{7, 8}));
    EXPECT_EQ(state_of<counter_state>(*s, r.id()).handled, 0);
  }
}

// -- 8. non-participants ------------------------------------------------------

namespace {

/// A plain CAF actor (not a participant) that sends `x` to `to`.
caf::behavior plain_sender_fn(caf::event_based_actor* self) {
  return {
    [=](go_atom, const caf::actor& to, int x) { self->send(to, x); },
  };
}

/// A participant that forwards a `query` to `target`. Spawned after a
/// snapshot started, it lets the test probe `target` without adding
/// anything to that snapshot.
caf::behavior relay_fn(snap::event_based_actor* self) {
  return {
    [=](query_atom, const caf::actor& target) {
      return self->delegate(target, query_atom::value);
    },
  };
}

} // namespace

TEST(edge_external, non_participant_messages_queued_at_cut_are_in_flight_as_external) {
  fixture f;
  auto gr = f.make_gate();
  auto gb = f.make_gate();
  auto r = f.spawn(counter_fn, gr);
  auto b = f.spawn(counter_fn, gb); // keeps the snapshot open after r's cut
  auto plain = f.spawn(plain_sender_fn);
  caf::scoped_actor scoped{f.sys};
  caf::anon_send(r, block_atom::value);
  caf::anon_send(b, block_atom::value);
  ASSERT_TRUE(gr->wait_entered());
  ASSERT_TRUE(gb->wait_entered());
  // Before the snapshot starts.
  caf::anon_send(r, 1);
  scoped->send(r, 2);
  call(f.sys, plain, go_atom::value, r, 3);
  async_take t{f.sys};
  coordinator_barrier(f.sys);
  // Spawned by a non-participant while the snapshot runs, the relay starts
  // after this snapshot's cut: it is not part of it, and what it sends is
  // not in flight.
  auto relay = f.spawn(relay_fn);
  // While it runs, before r's cut.
  caf::anon_send(r, 4);
  scoped->send(r, 5);
  call(f.sys, plain, go_atom::value, r, 6);
  gr->release();
  // r cuts first (urgent marker), then handles 1..6, then this query. (A
  // query sent by the test itself could reach r before its cut and would
  // then rightly be external input in flight.)
  ASSERT_EQ(ask<int64_t>(f.sys, relay, query_atom::value, r), 6);
  // After r's cut: not part of the snapshot.
  caf::anon_send(r, 7);
  scoped->send(r, 8);
  call(f.sys, plain, go_atom::value, r, 9);
  ASSERT_EQ(ask<int64_t>(f.sys, relay, query_atom::value, r), 9);
  gb->release();
  auto s = t.load();
  auto ms = in_flight_to(s, r.id());
  EXPECT_EQ(s.in_flight.size(), 6u);
  for (auto& m : s.in_flight)
    EXPECT_EQ(m.receiver, r.id()) << describe(m);
  ASSERT_EQ(ms.size(), 6u);
  for (auto& m : ms) {
    auto x = decode_int(f.sys, m);
    EXPECT_FALSE(m.from_participant) << describe(m);
    EXPECT_EQ(m.location, loc::queue) << describe(m);
    switch (x % 3) {
      case 1: // anon_send
        EXPECT_EQ(m.sender, 0u) << describe(m);
        EXPECT_TRUE(m.sender_node.empty()) << describe(m);
        break;
      case 2: // scoped actor
        EXPECT_EQ(m.sender, scoped->id()) << describe(m);
        break;
      default: // plain CAF actor
        EXPECT_EQ(m.sender, plain.id()) << describe(m);
    }
  }
  EXPECT_EQ(sorted_ints(f.sys, ms), (std::vector<int>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(state_of<counter_state>(s, r.id()).handled, 0);
  EXPECT_EQ(find_actor(s, plain.id()), nullptr);
  EXPECT_EQ(find_actor(s, relay.id()), nullptr);
}

// -- 9. delegate --------------------------------------------------------------

namespace {

using deposit_atom = caf::atom_constant<caf::atom("e_deposit")>;
using pay_atom = caf::atom_constant<caf::atom("e_pay")>;

struct purse {
  int64_t balance = 0;
  int64_t acks = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & balance & acks;
  }
};

using purse_actor = snap::stateful_actor<purse>;

/// Pays `x` by a request to `proxy`; counts acknowledgements.
caf::behavior payer_fn(purse_actor* self, int64_t initial) {
  self->state.balance = initial;
  return {
    [=](pay_atom, const caf::actor& proxy, int64_t x) {
      self->state.balance -= x;
      self->request(proxy, caf::infinite, deposit_atom::value, x)
        .then([=](int64_t) { ++self->state.acks; });
    },
    [=](query_atom) { return self->state.acks; },
  };
}

/// Delegates deposits to `worker`; holds no money.
caf::behavior proxy_fn(purse_actor* self, caf::actor worker) {
  return {
    [=](deposit_atom, int64_t x) {
      return self->delegate(worker, deposit_atom::value, x);
    },
    [=](query_atom) { return self->state.acks; },
  };
}

/// Keeps deposits; `block` holds it in `g`.
caf::behavior keeper_fn(purse_actor* self, gate_ptr g) {
  return {
    [=](block_atom) { g->pass(); },
    [=](deposit_atom, int64_t x) {
      self->state.balance += x;
      return self->state.balance;
    },
    [=](query_atom) { return self->state.balance; },
  };
}

int64_t money_in(caf::actor_system& sys, const snap::global_snapshot& s) {
  int64_t sum = 0;
  for (auto& a : s.actors) {
    purse st;
    EXPECT_FALSE(a.load_state(st));
    sum += st.balance;
  }
  for (auto& m : s.in_flight) {
    auto msg = m.decode(sys);
    EXPECT_TRUE(msg) << m.text;
    if (msg && msg->match_elements<deposit_atom, int64_t>())
      sum += msg->get_as<int64_t>(1);
  }
  return sum;
}

} // namespace

TEST(edge_delegate, delegated_message_keeps_original_sender_and_money_is_conserved) {
  fixture f;
  auto g = f.make_gate();
  auto w = f.spawn(keeper_fn, g);
  auto d = f.spawn(proxy_fn, w);
  auto c = f.spawn(payer_fn, int64_t{100});
  caf::anon_send(w, block_atom::value);
  ASSERT_TRUE(g->wait_entered());
  call(f.sys, c, pay_atom::value, d, int64_t{7});
  // d handled the deposit (delegated it) before this query.
  ASSERT_EQ(ask<int64_t>(f.sys, d, query_atom::value), 0);
  async_take t{f.sys};
  coordinator_barrier(f.sys);
  g->release();
  auto s = t.load();
  ASSERT_EQ(s.in_flight.size(), 1u);
  auto& m = s.in_flight[0];
  EXPECT_EQ(m.sender, c.id()) << describe(m); // not the proxy
  EXPECT_EQ(m.receiver, w.id());
  EXPECT_EQ(m.location, loc::queue);
  EXPECT_TRUE(m.from_participant);
  auto msg = m.decode(f.sys);
  ASSERT_TRUE(msg);
  ASSERT_TRUE((msg->match_elements<deposit_atom, int64_t>())) << m.text;
  EXPECT_EQ(msg->get_as<int64_t>(1), 7);
  // It is still c's request: c awaits its response.
  auto mid = to_message_id(m.mid);
  EXPECT_TRUE(mid.is_request());
  auto c_rec = find_actor(s, c.id());
  ASSERT_NE(c_rec, nullptr);
  EXPECT_EQ(c_rec->pending_requests,
            std::vector<uint64_t>{mid.response_id().integer_value()});
  EXPECT_EQ(money_in(f.sys, s), 100);
  // The keeper answers c directly; afterwards the money is all in states.
  ASSERT_TRUE(test::eventually(
    [&] { return ask<int64_t>(f.sys, c, query_atom::value) == 1; }, 30s));
  auto s2 = test::take_and_load(f.sys);
  EXPECT_TRUE(s2.in_flight.empty());
  EXPECT_EQ(money_in(f.sys, s2), 100);
  EXPECT_EQ(state_of<purse>(s2, w.id()).balance, 7);
  EXPECT_EQ(state_of<purse>(s2, c.id()).balance, 93);
}
