// Edge cases of the mailbox: stashed (skipped) messages and requests and
// responses (`then` and `await`). Each test builds the situation at the cut
// deterministically (gates and replies, no sleeps) and checks the exact
// in-flight records.

#include "edge_cases_util.hpp"

using namespace edge;

namespace {

using loc = snap::message_location;

// -- 1. skip / stash ----------------------------------------------------------
//
// CAF keeps skipped messages in the normal queue's cache, but every message
// the actor consumes (including the library's own control messages) moves
// the cache back into the queue; when the consumed message was the last one
// queued, the skipped messages then wait there until the next round retries
// (and re-stashes) them. The tests below therefore count skips and take a
// snapshot only once every skipped message has been re-stashed.

using skip_counter = std::shared_ptr<std::atomic<int>>;

/// Skips every int through a counting default handler until `open`.
caf::behavior skip_by_default_fn(counter_actor* self, skip_counter skips,
                                 gate_ptr g) {
  self->set_default_handler(
    [=](caf::scheduled_actor*, caf::message_view&) -> caf::result<caf::message> {
      ++*skips;
      return caf::skip;
    });
  return {
    [=](block_atom) {
      if (g)
        g->pass();
    },
    [=](query_atom) { return self->state.handled; },
    [=](open_atom) {
      self->become(caf::behavior{
        [=](int x) {
          ++self->state.handled;
          self->state.sum += x;
        },
        [=](query_atom) { return self->state.handled; },
      });
    },
  };
}

/// Skips every int with a handler returning `caf::skip` while paused.
void skip_by_handler_fn(counter_actor* self, skip_counter skips, gate_ptr) {
  self->become(caf::behavior{
    [=](int x) {
      ++self->state.handled;
      self->state.sum += x;
    },
    [=](query_atom) { return self->state.handled; },
  });
  self->become(caf::keep_behavior,
               caf::behavior{
                 [=](int) {
                   ++*skips;
                   return caf::skip();
                 },
                 [=](query_atom) { return self->state.handled; },
                 [=](open_atom) { self->unbecome(); },
               });
}

template <class F>
void run_stash_test(F receiver_fn) {
  fixture f;
  auto skips = std::make_shared<std::atomic<int>>(0);
  auto r = f.spawn(receiver_fn, skips, gate_ptr{});
  auto p = f.spawn(sender_fn);
  call(f.sys, p, go_atom::value, r, 1, 5);
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE("snapshot " + std::to_string(round + 1));
    // Round 1: each int was tried once. Round 2: snapshot 1's flush moved
    // them back into the queue and r stashed them once more.
    ASSERT_TRUE(
      test::eventually([&] { return *skips >= 5 * (round + 1); }, 30s));
    auto s = test::take_and_load(f.sys);
    auto ms = in_flight_to(s, r.id());
    EXPECT_EQ(s.in_flight.size(), 5u);
    ASSERT_EQ(ms.size(), 5u);
    for (auto& m : ms) {
      EXPECT_EQ(m.location, loc::stash) << describe(m);
      EXPECT_EQ(m.sender, p.id()) << describe(m);
      EXPECT_EQ(m.sender_node, caf::to_string(f.sys.node()));
      EXPECT_EQ(m.receiver_node, caf::to_string(f.sys.node()));
      EXPECT_EQ(m.priority, 0);
      EXPECT_TRUE(m.from_participant) << describe(m);
    }
    EXPECT_EQ(sorted_ints(f.sys, ms), (std::vector<int>{1, 2, 3, 4, 5}));
    EXPECT_EQ(state_of<counter_state>(s, r.id()).handled, 0);
  }
  // Once the receiver handles them, they are in its state and nowhere else.
  caf::anon_send(r, open_atom::value);
  ASSERT_TRUE(test::eventually(
    [&] { return ask<int64_t>(f.sys, r, query_atom::value) == 5; }, 30s));
  auto s = test::take_and_load(f.sys);
  EXPECT_TRUE(s.in_flight.empty());
  auto st = state_of<counter_state>(s, r.id());
  EXPECT_EQ(st.handled, 5);
  EXPECT_EQ(st.sum, 15);
}

} // namespace

TEST(edge_stash, skipped_by_default_handler_are_in_flight_as_stash_once_per_snapshot) {
  run_stash_test(skip_by_default_fn);
}

TEST(edge_stash, skipped_by_handler_returning_skip_are_in_flight_as_stash_once_per_snapshot) {
  run_stash_test(skip_by_handler_fn);
}

// Skipped messages that CAF has just moved from its cache back into the
// queue (because the actor consumed its last queued message right before
// its cut) are still skipped messages: the behavior has not changed and
// will skip them again.
TEST(edge_stash, skipped_messages_moved_back_by_caf_right_before_the_cut_are_recorded_as_stash) {
  fixture f;
  auto skips = std::make_shared<std::atomic<int>>(0);
  auto g = f.make_gate();
  auto r = f.spawn(skip_by_default_fn, skips, g);
  auto p = f.spawn(sender_fn);
  call(f.sys, p, go_atom::value, r, 1, 5);
  ASSERT_TRUE(test::eventually([&] { return *skips >= 5; }, 30s));
  // r consumes `block`, its last queued message: CAF then moves 1..5 back
  // into the queue, and the marker's round comes before the retry.
  caf::anon_send(r, block_atom::value);
  ASSERT_TRUE(g->wait_entered());
  async_take t{f.sys};
  coordinator_barrier(f.sys);
  g->release();
  auto s = t.load();
  auto ms = in_flight_to(s, r.id());
  ASSERT_EQ(ms.size(), 5u);
  for (auto& m : ms)
    EXPECT_EQ(m.location, loc::stash) << describe(m);
  EXPECT_EQ(sorted_ints(f.sys, ms), (std::vector<int>{1, 2, 3, 4, 5}));
}

// -- 2. requests --------------------------------------------------------------

namespace {

struct server_state {
  int64_t handled = 0;
  uint64_t last_request = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & handled & last_request;
  }
};

/// Answers `x` with `2 * x`; `block` holds it in `g`.
caf::behavior server_fn(snap::stateful_actor<server_state>* self, gate_ptr g) {
  return {
    [=](block_atom) { g->pass(); },
    [=](int x) {
      ++self->state.handled;
      self->state.last_request = self->current_message_id().integer_value();
      return x * 2;
    },
    [=](query_atom) { return self->state.handled; },
  };
}

struct client_state {
  int64_t result = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & result;
  }
};

using go_block_atom = caf::atom_constant<caf::atom("e_goblock")>;

/// Requests `x` from a server with `then`; `go_block` requests and then
/// stays in the handler until `g` opens.
caf::behavior client_fn(snap::stateful_actor<client_state>* self, gate_ptr g) {
  auto req = [=](const caf::actor& server, int x) {
    self->request(server, caf::infinite, x).then([=](int y) {
      self->state.result = y;
    });
  };
  return {
    [=](go_atom, const caf::actor& server, int x) { req(server, x); },
    [=](go_block_atom, const caf::actor& server, int x) {
      req(server, x);
      g->pass();
    },
    [=](query_atom) { return self->state.result; },
  };
}

bool contains(const std::vector<uint64_t>& xs, uint64_t x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

} // namespace

TEST(edge_requests, then_request_queued_at_server_cut_is_in_flight_and_pending_at_client) {
  fixture f;
  auto g = f.make_gate();
  auto srv = f.spawn(server_fn, g);
  auto cli = f.spawn(client_fn, gate_ptr{});
  caf::anon_send(srv, block_atom::value);
  ASSERT_TRUE(g->wait_entered());
  call(f.sys, cli, go_atom::value, srv, 21); // the request waits at srv
  async_take t{f.sys};
  coordinator_barrier(f.sys); // srv's marker is behind the request
  g->release();
  auto s = t.load();
  ASSERT_EQ(s.in_flight.size(), 1u);
  auto& m = s.in_flight[0];
  EXPECT_EQ(m.sender, cli.id());
  EXPECT_EQ(m.receiver, srv.id());
  EXPECT_EQ(m.location, loc::queue);
  EXPECT_TRUE(m.from_participant);
  EXPECT_EQ(decode_int(f.sys, m), 21);
  auto mid = to_message_id(m.mid);
  EXPECT_TRUE(mid.is_request()) << m.mid;
  auto cli_rec = find_actor(s, cli.id());
  ASSERT_NE(cli_rec, nullptr);
  EXPECT_EQ(cli_rec->pending_requests,
            std::vector<uint64_t>{mid.response_id().integer_value()});
  // The client's record names whom it awaits: the edge of the wait-for
  // graph.
  ASSERT_EQ(cli_rec->awaited.size(), 1u);
  EXPECT_EQ(cli_rec->awaited[0].id, mid.response_id().integer_value());
  EXPECT_EQ(cli_rec->awaited[0].target, srv.id());
  EXPECT_EQ(cli_rec->awaited[0].target_node, caf::to_string(f.sys.node()));
  EXPECT_EQ(state_of<server_state>(s, srv.id()).handled, 0);
  EXPECT_EQ(state_of<client_state>(s, cli.id()).result, 0);
  // The request still gets its answer after the snapshot.
  EXPECT_TRUE(test::eventually(
    [&] { return ask<int64_t>(f.sys, cli, query_atom::value) == 42; }, 30s));
}

TEST(edge_requests, then_response_queued_at_client_cut_is_in_flight) {
  fixture f;
  auto g = f.make_gate();
  auto srv = f.spawn(server_fn, gate_ptr{});
  auto cli = f.spawn(client_fn, g);
  caf::anon_send(cli, go_block_atom::value, srv, 21);
  ASSERT_TRUE(g->wait_entered());
  // The request reached srv before this query, so srv answered before
  // replying here: the response waits in cli's mailbox.
  ASSERT_EQ(ask<int64_t>(f.sys, srv, query_atom::value), 1);
  async_take t{f.sys};
  coordinator_barrier(f.sys);
  g->release();
  auto s = t.load();
  ASSERT_EQ(s.in_flight.size(), 1u);
  auto& m = s.in_flight[0];
  EXPECT_EQ(m.sender, srv.id());
  EXPECT_EQ(m.receiver, cli.id());
  EXPECT_EQ(m.location, loc::queue);
  EXPECT_TRUE(m.from_participant);
  EXPECT_EQ(decode_int(f.sys, m), 42);
  EXPECT_TRUE(to_message_id(m.mid).is_response()) << m.mid;
  auto srv_st = state_of<server_state>(s, srv.id());
  EXPECT_EQ(srv_st.handled, 1);
  EXPECT_EQ(to_message_id(srv_st.last_request).response_id().integer_value(),
            m.mid);
  auto cli_rec = find_actor(s, cli.id());
  ASSERT_NE(cli_rec, nullptr);
  EXPECT_EQ(cli_rec->pending_requests, std::vector<uint64_t>{m.mid});
  ASSERT_EQ(cli_rec->awaited.size(), 1u);
  EXPECT_EQ(cli_rec->awaited[0].id, m.mid);
  EXPECT_EQ(cli_rec->awaited[0].target, srv.id());
  EXPECT_EQ(state_of<client_state>(s, cli.id()).result, 0);
  EXPECT_TRUE(test::eventually(
    [&] { return ask<int64_t>(f.sys, cli, query_atom::value) == 42; }, 30s));
}

namespace {

using hold_atom = caf::atom_constant<caf::atom("e_hold")>;
using answer_atom = caf::atom_constant<caf::atom("e_answer")>;

struct holder_state {
  uint64_t request_id = 0;
  int64_t pending = 0;
  caf::response_promise rp; // not archived
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & request_id & pending;
  }
};

/// Holds the answer to `hold` until `answer`.
caf::behavior holder_fn(snap::stateful_actor<holder_state>* self) {
  return {
    [=](hold_atom) {
      auto& st = self->state;
      st.request_id = self->current_message_id().integer_value();
      st.pending = 1;
      st.rp = self->make_response_promise();
      return st.rp;
    },
    [=](answer_atom, int x) {
      self->state.rp.deliver(x);
      self->state.pending = 0;
    },
    [=](query_atom) { return self->state.pending; },
  };
}

struct awaiter_state {
  int64_t result = 0;
  int64_t handled = 0;
  int64_t sum = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & result & handled & sum;
  }
};

/// On `go`, awaits the holder's answer; stashes everything meanwhile.
caf::behavior awaiter_fn(snap::stateful_actor<awaiter_state>* self) {
  return {
    [=](go_atom, const caf::actor& holder) {
      self->request(holder, caf::infinite, hold_atom::value)
        .await([=](int y) { self->state.result = y; });
    },
    [=](int x) {
      ++self->state.handled;
      self->state.sum += x;
    },
    [=](query_atom) { return self->state.handled; },
  };
}

/// `awaiter_fn` as a class, counting the messages CAF skips while awaiting.
class awaiter : public snap::stateful_actor<awaiter_state> {
public:
  using super = snap::stateful_actor<awaiter_state>;

  awaiter(caf::actor_config& cfg, std::shared_ptr<std::atomic<int>> skips)
      : super(cfg), skips_(std::move(skips)) {
    // nop
  }

  caf::behavior make_behavior() override {
    return awaiter_fn(this);
  }

  caf::invoke_message_result consume(caf::mailbox_element& x) override {
    auto result = super::consume(x);
    if (result == caf::invoke_message_result::skipped)
      ++*skips_;
    return result;
  }

private:
  std::shared_ptr<std::atomic<int>> skips_;
};

} // namespace

TEST(edge_requests, awaiting_actor_reaches_its_cut_and_its_stash_is_recorded) {
  fixture f;
  auto skips = std::make_shared<std::atomic<int>>(0);
  auto h = f.spawn(holder_fn);
  auto a = f.spawn_class<awaiter>(skips);
  auto p = f.spawn(sender_fn);
  caf::anon_send(a, go_atom::value, h);
  // Once h holds the request, a is in await mode.
  ASSERT_TRUE(test::eventually(
    [&] { return ask<int64_t>(f.sys, h, query_atom::value) == 1; }, 30s));
  // These arrive after `go`, hence while a awaits: a stashes them.
  call(f.sys, p, go_atom::value, a, 1, 4);
  uint64_t awaited = 0;
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE("snapshot " + std::to_string(round + 1));
    // All four were stashed (again, after snapshot 1's flush moved them
    // back into the queue; see the stash tests).
    ASSERT_TRUE(
      test::eventually([&] { return *skips >= 4 * (round + 1); }, 30s));
    // Completes although a never leaves await mode.
    auto s = test::take_and_load(f.sys);
    auto h_st = state_of<holder_state>(s, h.id());
    EXPECT_EQ(h_st.pending, 1);
    awaited = to_message_id(h_st.request_id).response_id().integer_value();
    auto a_rec = find_actor(s, a.id());
    ASSERT_NE(a_rec, nullptr);
    EXPECT_EQ(a_rec->pending_requests, std::vector<uint64_t>{awaited});
    ASSERT_EQ(a_rec->awaited.size(), 1u);
    EXPECT_EQ(a_rec->awaited[0].id, awaited);
    EXPECT_EQ(a_rec->awaited[0].target, h.id());
    EXPECT_EQ(state_of<awaiter_state>(s, a.id()).handled, 0);
    auto ms = in_flight_to(s, a.id());
    EXPECT_EQ(s.in_flight.size(), 4u);
    ASSERT_EQ(ms.size(), 4u);
    for (auto& m : ms) {
      EXPECT_EQ(m.sender, p.id());
      EXPECT_TRUE(m.from_participant);
      EXPECT_EQ(m.location, loc::stash) << describe(m);
    }
    EXPECT_EQ(sorted_ints(f.sys, ms), (std::vector<int>{1, 2, 3, 4}));
  }
  // The answer ends await mode; the stash is handled.
  caf::anon_send(h, answer_atom::value, 42);
  ASSERT_TRUE(test::eventually(
    [&] { return ask<int64_t>(f.sys, a, query_atom::value) == 4; }, 30s));
  auto s = test::take_and_load(f.sys);
  EXPECT_TRUE(s.in_flight.empty());
  auto st = state_of<awaiter_state>(s, a.id());
  EXPECT_EQ(st.result, 42);
  EXPECT_EQ(st.sum, 10);
  auto a_rec = find_actor(s, a.id());
  ASSERT_NE(a_rec, nullptr);
  EXPECT_TRUE(a_rec->pending_requests.empty());
  EXPECT_TRUE(a_rec->awaited.empty());
}

namespace {

struct many_requests_state {
  int64_t answers = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & answers;
  }
};

/// Sends `n` requests to `server` (all answered), then one to `holder`.
caf::behavior many_requests_fn(snap::stateful_actor<many_requests_state>* self) {
  return {
    [=](go_atom, const caf::actor& server, const caf::actor& holder, int n) {
      for (int i = 0; i < n; ++i)
        self->request(server, caf::infinite, i).then([=](int) {
          ++self->state.answers;
        });
      self->request(holder, std::chrono::seconds{3600}, hold_atom::value)
        .then([](int) {});
    },
    [=](query_atom) { return self->state.answers; },
  };
}

} // namespace

TEST(edge_requests, awaited_lists_only_pending_requests_after_many_answered_ones) {
  fixture f;
  auto srv = f.spawn(server_fn, gate_ptr{});
  auto h = f.spawn(holder_fn);
  auto r = f.spawn(many_requests_fn);
  constexpr int n = 1000;
  caf::anon_send(r, go_atom::value, srv, h, n);
  ASSERT_TRUE(test::eventually(
    [&] { return ask<int64_t>(f.sys, r, query_atom::value) == n; }, 30s));
  ASSERT_TRUE(test::eventually(
    [&] { return ask<int64_t>(f.sys, h, query_atom::value) == 1; }, 30s));
  auto s = test::take_and_load(f.sys);
  auto r_rec = find_actor(s, r.id());
  ASSERT_NE(r_rec, nullptr);
  ASSERT_EQ(r_rec->pending_requests.size(), 1u);
  ASSERT_EQ(r_rec->awaited.size(), 1u);
  EXPECT_EQ(r_rec->awaited[0].id, r_rec->pending_requests[0]);
  EXPECT_EQ(r_rec->awaited[0].target, h.id());
  EXPECT_EQ(r_rec->awaited[0].target_node, caf::to_string(f.sys.node()));
  caf::anon_send(h, answer_atom::value, 1);
}
