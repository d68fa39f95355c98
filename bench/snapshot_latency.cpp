// Time to snapshot N idle participants with 64-byte states, against a floor
// measured in the same actor system: plain CAF collecting the same states
// into a file (snapshot_floor.hpp).
//
// Usage: snapshot_latency [--tiny|--quick] [--n=N,...] [--rounds=R]
//                         [--floor=counter|then] [--only=library|floor]
//                         [--scheduler=stealing|sharing]
//
// Per N (default 1000,10000,100000,1000000; --quick without 1000000), with
// `_sharing` appended to each name under --scheduler=sharing:
//   snapshot_latency_ms_N            best of R snapshots (after a warm-up)
//   snapshot_latency_us_per_actor_N  flat if latency grows linearly
//   snapshot_bytes_N                 file size
//   snapshot_floor_ms_N              best of R floor rounds
//   snapshot_floor_bytes_N           file size of the floor
//   snapshot_latency_per_floor_N     target: <= 1.5

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "caf/all.hpp"
#include "caf/snapshot/all.hpp"

#include "harness.hpp"
#include "payload.hpp"
#include "snapshot_floor.hpp"

namespace {

caf::behavior idle_fn(caf::snapshot::stateful_actor<bench::payload>*) {
  return {[](int) {
    // nop
  }};
}

struct figures {
  double latency_ms = std::numeric_limits<double>::max();
  double floor_ms = std::numeric_limits<double>::max();
  uint64_t bytes = 0;
  uint64_t floor_bytes = 0;
};

// One floor round: the collector answers with the size of its file.
void floor_round(caf::scoped_actor& self, const caf::actor& collector,
                 figures& out) {
  auto start = bench::clock_type::now();
  self->request(collector, caf::infinite, bench::floor::collect_atom::value)
    .receive(
      [&](uint64_t bytes) {
        out.floor_ms = std::min(out.floor_ms, bench::ms_since(start));
        out.floor_bytes = bytes;
      },
      [&](caf::error& err) {
        bench::options::fail("floor: " + caf::to_string(err));
      });
}

void snapshot_round(caf::actor_system& sys, caf::scoped_actor& self,
                    figures& out) {
  auto start = bench::clock_type::now();
  auto info = bench::take_snapshot_or_exit(sys, self);
  out.latency_ms = std::min(out.latency_ms, bench::ms_since(start));
  out.bytes = info.bytes;
}

// Which side to measure: both, or one only (for profilers).
struct sides {
  bool library = true;
  bool floor = true;
};

figures run(const std::string& policy, size_t n, size_t rounds,
            bench::floor::reply_mode mode, sides which) {
  bench::scratch_directory dir{"latency"};
  bench::config cfg{dir.path(), policy};
  caf::actor_system sys{cfg};
  // Participants and their plain twins live side by side, so that both
  // measurements see the same heap and the same scheduler.
  std::vector<caf::actor> participants;
  std::vector<caf::actor> plain;
  participants.reserve(n);
  plain.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    participants.emplace_back(sys.spawn(idle_fn));
    plain.emplace_back(sys.spawn(bench::floor::idle_fn));
  }
  auto collector = sys.spawn(bench::floor::collector_fn, plain, dir.path(),
                             mode);
  figures result;
  {
    caf::scoped_actor self{sys};
    // The first round of each (not counted) waits until every actor ran its
    // initialization and warms the heap.
    auto one_round = [&](figures& out) {
      if (which.floor)
        floor_round(self, collector, out);
      if (which.library)
        snapshot_round(sys, self, out);
      dir.clear();
    };
    figures warm_up;
    one_round(warm_up);
    // Alternate, so that noise from other processes hits both alike.
    for (size_t round = 0; round < rounds; ++round)
      one_round(result);
  }
  caf::anon_send_exit(collector, caf::exit_reason::user_shutdown);
  for (auto& x : participants)
    caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  for (auto& x : plain)
    caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  return result;
}

} // namespace

int main(int argc, char** argv) {
  bench::options opts{argc, argv};
  auto ns = opts.get_list(
    "n", opts.pick<std::vector<size_t>>({100}, {1000, 10000, 100000},
                                        {1000, 10000, 100000, 1000000}));
  auto rounds = opts.get("rounds", opts.pick<size_t>(1, 3, 3));
  auto mode_name = opts.get_string("floor", "counter");
  if (mode_name != "counter" && mode_name != "then")
    bench::options::fail("--floor expects counter or then");
  auto mode = mode_name == "counter" ? bench::floor::reply_mode::counter
                                     : bench::floor::reply_mode::then;
  // For profilers: measure one side only.
  auto only = opts.get_string("only", "");
  if (!only.empty() && only != "library" && only != "floor")
    bench::options::fail("--only expects library or floor");
  sides which{only != "floor", only != "library"};
  auto policy = bench::scheduler_policy(opts);
  opts.reject_unknown();
  for (auto n : ns) {
    auto x = run(policy, n, std::max<size_t>(rounds, 1), mode, which);
    auto suffix = "_" + std::to_string(n) + bench::policy_suffix(policy);
    if (which.library) {
      bench::print("snapshot_latency_ms" + suffix, x.latency_ms);
      bench::print("snapshot_latency_us_per_actor" + suffix,
                   1000.0 * x.latency_ms / static_cast<double>(n));
      bench::print("snapshot_bytes" + suffix, static_cast<double>(x.bytes));
    }
    if (which.floor) {
      bench::print("snapshot_floor_ms" + suffix, x.floor_ms);
      bench::print("snapshot_floor_bytes" + suffix,
                   static_cast<double>(x.floor_bytes));
    }
    if (which.library && which.floor)
      bench::print("snapshot_latency_per_floor" + suffix,
                   x.latency_ms / x.floor_ms);
  }
}
