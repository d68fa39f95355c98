// Latency and file size of a snapshot that captures many messages in
// flight: a feeder participant sends M messages to each of A participants
// that stash them (`caf::skip`) until a gate opens, which it never does here.
// Every message is then in a channel at the cut, so the snapshot must
// record exactly A * M messages; the program fails if it records another
// number.
//
// Usage: in_flight_capture [--tiny|--quick] [--actors=A] [--messages=M]
//                          [--rounds=R] [--scheduler=stealing|sharing]
//
// Default: 1,000 actors with 1,000 messages each (1M in flight); --quick:
// 1,000 actors with 100 each. Prints:
//   in_flight_capture_messages         A * M, recorded by each snapshot
//   in_flight_capture_empty_ms         the same actors with empty mailboxes
//   in_flight_capture_ms               best of R snapshots
//   in_flight_capture_us_per_message   (ms - empty_ms) per message in flight
//   in_flight_capture_bytes            file size
//   in_flight_capture_bytes_per_message
// Under --scheduler=sharing, each name ends with `_sharing`.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "caf/all.hpp"
#include "caf/snapshot/all.hpp"

#include "harness.hpp"
#include "payload.hpp"

namespace {

using fill_atom = caf::atom_constant<caf::atom("bn_fill")>;

using gate_atom = caf::atom_constant<caf::atom("bn_gate")>;

using ping_atom = caf::atom_constant<caf::atom("bn_ping")>;

// Stashes every `int` until it receives `gate_atom`, then handles them.
caf::behavior gated_fn(caf::snapshot::stateful_actor<bench::payload>* self) {
  self->set_default_handler(caf::skip);
  return {
    [=](ping_atom) { return ping_atom::value; },
    [=](gate_atom) {
      self->become([](int) {
        // nop
      });
    },
  };
}

// Sends `per_actor` messages to each of `targets` per `fill_atom`.
caf::behavior feeder_fn(caf::snapshot::event_based_actor* self,
                        std::vector<caf::actor> targets) {
  return {[=](fill_atom, int per_actor) {
    for (int i = 0; i < per_actor; ++i)
      for (auto& x : targets)
        self->send(x, i);
    return true;
  }};
}

// Waits until every actor handled everything that came before a ping.
void settle(caf::scoped_actor& self, const std::vector<caf::actor>& xs) {
  for (auto& x : xs)
    self->send(x, ping_atom::value);
  for (size_t i = 0; i < xs.size(); ++i)
    self->receive([](ping_atom) {});
}

double best_snapshot_ms(caf::actor_system& sys, caf::scoped_actor& self,
                        size_t rounds, caf::snapshot::snapshot_info& last) {
  auto best = std::numeric_limits<double>::max();
  for (size_t i = 0; i < rounds; ++i) {
    auto start = bench::clock_type::now();
    last = bench::take_snapshot_or_exit(sys, self);
    best = std::min(best, bench::ms_since(start));
    std::filesystem::remove(last.path);
  }
  return best;
}

} // namespace

int main(int argc, char** argv) {
  bench::options opts{argc, argv};
  auto actors = opts.get("actors", opts.pick<size_t>(10, 1000, 1000));
  auto messages = opts.get("messages", opts.pick<size_t>(100, 100, 1000));
  auto rounds = std::max<size_t>(opts.get("rounds", opts.pick<size_t>(1, 2, 3)),
                                 1);
  auto policy = bench::scheduler_policy(opts);
  opts.reject_unknown();
  auto expected = static_cast<uint64_t>(actors) * messages;
  bench::scratch_directory dir{"in_flight"};
  bench::config cfg{dir.path(), policy};
  caf::actor_system sys{cfg};
  std::vector<caf::actor> gated;
  for (size_t i = 0; i < actors; ++i)
    gated.emplace_back(sys.spawn(gated_fn));
  auto feeder = sys.spawn(feeder_fn, gated);
  caf::snapshot::snapshot_info info;
  double empty_ms = 0;
  double full_ms = 0;
  {
    caf::scoped_actor self{sys};
    settle(self, gated);
    empty_ms = best_snapshot_ms(sys, self, rounds, info);
    self
      ->request(feeder, caf::infinite, fill_atom::value,
                static_cast<int>(messages))
      .receive([](bool) {},
               [&](caf::error& err) {
                 bench::options::fail("fill: " + sys.render(err));
               });
    settle(self, gated);
    full_ms = best_snapshot_ms(sys, self, rounds, info);
  }
  caf::anon_send_exit(feeder, caf::exit_reason::user_shutdown);
  for (auto& x : gated)
    caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  auto n = static_cast<double>(expected);
  auto suffix = bench::policy_suffix(policy);
  bench::print("in_flight_capture_messages" + suffix, n);
  bench::print("in_flight_capture_empty_ms" + suffix, empty_ms);
  bench::print("in_flight_capture_ms" + suffix, full_ms);
  bench::print("in_flight_capture_us_per_message" + suffix,
               1000.0 * (full_ms - empty_ms) / n);
  bench::print("in_flight_capture_bytes" + suffix,
               static_cast<double>(info.bytes));
  bench::print("in_flight_capture_bytes_per_message" + suffix,
               static_cast<double>(info.bytes) / n);
  if (info.in_flight != expected) {
    std::fprintf(stderr,
                 "error: in_flight_capture: the snapshot recorded %llu "
                 "messages in flight, expected %llu\n",
                 static_cast<unsigned long long>(info.in_flight),
                 static_cast<unsigned long long>(expected));
    return 1;
  }
}
