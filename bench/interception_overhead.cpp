// Messages per second of participants relative to plain CAF actors with the
// same behaviours, no snapshot running. Three workloads:
// - pingpong: two actors send one message back and forth;
// - fan_in: 4 senders flood one receiver (100 messages per activation);
// - mesh: 1,000 actors forward 1,000 tokens to random peers (mesh.hpp).
// Plain and participant rounds alternate; the best round of each counts.
//
// Usage: interception_overhead [--tiny|--quick] [--messages=N] [--rounds=R]
//                              [--only=plain|participant]
//                              [--workloads=pingpong,fan_in,mesh]
//                              [--scheduler=stealing|sharing]
//
// Prints per workload W: W_plain_msgs_per_s, W_participant_msgs_per_s and
// W_ratio (participant / plain; target >= 0.95, goal >= 0.98); under
// --scheduler=sharing, each name ends with `_sharing`.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "caf/all.hpp"
#include "caf/snapshot/all.hpp"

#include "harness.hpp"
#include "mesh.hpp"

namespace {

// The actor types of one side of the comparison.
struct plain {
  using stateless = caf::event_based_actor;
  template <class State>
  using stateful = caf::stateful_actor<State>;
};

struct participant {
  using stateless = caf::snapshot::event_based_actor;
  template <class State>
  using stateful = caf::snapshot::stateful_actor<State>;
};

// -- pingpong -----------------------------------------------------------------

template <class Self>
caf::behavior pong_fn(Self*) {
  return {[=](int x) { return x; }};
}

template <class Self>
caf::behavior ping_fn(Self* self, caf::actor pong, int n, caf::actor done) {
  self->send(pong, n);
  return {[=](int x) {
    if (x == 0) {
      self->send(done, true);
      self->quit();
      return;
    }
    self->send(pong, x - 1);
  }};
}

template <class Kind>
double pingpong(caf::actor_system& sys, size_t messages) {
  using self_type = typename Kind::stateless;
  caf::scoped_actor self{sys};
  auto pong = sys.spawn(pong_fn<self_type>);
  auto n = static_cast<int>(messages / 2);
  auto start = bench::clock_type::now();
  sys.spawn(ping_fn<self_type>, pong, n, caf::actor{self});
  self->receive([](bool) {});
  auto ms = bench::ms_since(start);
  caf::anon_send_exit(pong, caf::exit_reason::user_shutdown);
  return 2.0 * n * 1000.0 / ms;
}

// -- fan_in -------------------------------------------------------------------

constexpr int fan_in_senders = 4;

// Messages a sender enqueues per activation before it yields.
constexpr int fan_in_batch = 100;

template <class Self>
caf::behavior sink_fn(Self* self, size_t expected, caf::actor done) {
  auto received = std::make_shared<size_t>(0);
  return {[=](int) {
    if (++*received == expected) {
      self->send(done, true);
      self->quit();
    }
  }};
}

template <class Self>
caf::behavior sender_fn(Self* self, caf::actor sink) {
  return {[=](caf::ok_atom, int remaining) {
    auto n = std::min(remaining, fan_in_batch);
    for (int i = 0; i < n; ++i)
      self->send(sink, i);
    if (remaining > n)
      self->send(self, caf::ok_atom::value, remaining - n);
  }};
}

template <class Kind>
double fan_in(caf::actor_system& sys, size_t messages) {
  using self_type = typename Kind::stateless;
  caf::scoped_actor self{sys};
  auto per_sender = static_cast<int>(messages / fan_in_senders);
  auto total = static_cast<size_t>(per_sender) * fan_in_senders;
  auto sink = sys.spawn(sink_fn<self_type>, total, caf::actor{self});
  std::vector<caf::actor> senders;
  for (int i = 0; i < fan_in_senders; ++i)
    senders.emplace_back(sys.spawn(sender_fn<self_type>, sink));
  auto start = bench::clock_type::now();
  for (auto& x : senders)
    self->send(x, caf::ok_atom::value, per_sender);
  self->receive([](bool) {});
  auto ms = bench::ms_since(start);
  for (auto& x : senders)
    caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  return static_cast<double>(total) * 1000.0 / ms;
}

// -- mesh ---------------------------------------------------------------------

constexpr size_t mesh_actors = 1000;

template <class Kind>
double mesh(caf::actor_system& sys, size_t messages) {
  using actor_type = typename Kind::template stateful<bench::mesh_state>;
  caf::scoped_actor self{sys};
  auto peers = std::make_shared<bench::mesh_peers>();
  peers->done = caf::actor{self};
  for (size_t i = 0; i < mesh_actors; ++i)
    peers->actors.emplace_back(sys.spawn(
      bench::mesh_fn<actor_type>,
      std::shared_ptr<const bench::mesh_peers>{peers}, bench::mesh_seed(i)));
  // One token per actor.
  auto hops = static_cast<int64_t>(std::max<size_t>(messages / mesh_actors, 1));
  auto start = bench::clock_type::now();
  for (auto& x : peers->actors)
    self->send(x, hops);
  for (size_t i = 0; i < mesh_actors; ++i)
    self->receive([](bench::token_done_atom) {});
  auto ms = bench::ms_since(start);
  for (auto& x : peers->actors)
    caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  return static_cast<double>(hops) * mesh_actors * 1000.0 / ms;
}

// -- driver -------------------------------------------------------------------

using workload_fn = double (*)(caf::actor_system&, size_t);

struct workload {
  std::string name;
  workload_fn plain_run;
  workload_fn participant_run;
};

} // namespace

int main(int argc, char** argv) {
  bench::options opts{argc, argv};
  auto messages = opts.get("messages",
                           opts.pick<size_t>(10000, 1000000, 2000000));
  auto rounds = std::max<size_t>(opts.get("rounds", opts.pick<size_t>(1, 3, 7)),
                                 1);
  // For profilers (callgrind): run one side only.
  auto only = opts.get_string("only", "");
  if (!only.empty() && only != "plain" && only != "participant")
    bench::options::fail("--only expects plain or participant");
  auto selected = opts.get_string("workloads", "pingpong,fan_in,mesh");
  auto policy = bench::scheduler_policy(opts);
  opts.reject_unknown();
  bench::scratch_directory dir{"interception"};
  bench::config cfg{dir.path(), policy};
  caf::actor_system sys{cfg};
  auto suffix = bench::policy_suffix(policy);
  std::vector<workload> all{
    {"pingpong", pingpong<plain>, pingpong<participant>},
    {"fan_in", fan_in<plain>, fan_in<participant>},
    {"mesh", mesh<plain>, mesh<participant>},
  };
  for (auto& w : all) {
    if (("," + selected + ",").find("," + w.name + ",") == std::string::npos)
      continue;
    double plain_best = 0;
    double part_best = 0;
    auto run_plain = [&] {
      if (only != "participant")
        plain_best = std::max(plain_best, w.plain_run(sys, messages));
    };
    auto run_participant = [&] {
      if (only != "plain")
        part_best = std::max(part_best, w.participant_run(sys, messages));
    };
    // Each side goes first every other round: neither profits from a
    // warmer heap or a quieter machine more often.
    for (size_t i = 0; i < rounds; ++i) {
      if (i % 2 == 0) {
        run_plain();
        run_participant();
      } else {
        run_participant();
        run_plain();
      }
    }
    if (only != "participant")
      bench::print(w.name + "_plain_msgs_per_s" + suffix, plain_best);
    if (only != "plain")
      bench::print(w.name + "_participant_msgs_per_s" + suffix, part_best);
    if (only.empty())
      bench::print(w.name + "_ratio" + suffix, part_best / plain_best);
  }
}
