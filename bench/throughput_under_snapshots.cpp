// Application messages per second while snapshots run, as a fraction of the
// same workload without snapshots. The workload: a random mesh of
// participants (mesh.hpp) forwarding one token per actor forever. Each mode
// runs for a fixed time; the modes take turns, the best window of each
// counts.
//
// Usage: throughput_under_snapshots [--tiny|--quick] [--actors=N]
//                                   [--duration-ms=D] [--rounds=R]
//                                   [--intervals=I,...]
//                                   [--scheduler=stealing|sharing]
//
// Prints throughput_none_msgs_per_s (no snapshots) and, for back_to_back
// (the next snapshot starts when the previous one is stored) and for
// every_Ims (one snapshot every I ms; default 100, full run also 50, 200,
// 500 and 1000):
//   throughput_MODE_msgs_per_s
//   throughput_MODE_ratio         target: >= 0.9 at every_100ms
//   throughput_MODE_snapshots     snapshots stored in the best window
//   throughput_MODE_snapshot_ms   their mean latency
// Under --scheduler=sharing, each name ends with `_sharing`.

#include <algorithm>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "caf/all.hpp"
#include "caf/snapshot/all.hpp"

#include "harness.hpp"
#include "mesh.hpp"

namespace {

using mesh_actor = caf::snapshot::stateful_actor<bench::mesh_state>;

// Interval of `back_to_back`.
constexpr size_t no_pause = 0;

// Interval of `none`.
constexpr size_t no_snapshots = std::numeric_limits<size_t>::max();

struct mode {
  std::string name;
  size_t interval_ms;
};

struct window {
  double msgs_per_s = 0;
  size_t snapshots = 0;
  double snapshot_ms = 0;
};

// Measures the mesh for `duration` while taking snapshots per `m`.
window measure(caf::actor_system& sys, caf::scoped_actor& self,
               const bench::sharded_counter& hops, const mode& m,
               std::chrono::milliseconds duration) {
  window result;
  double snapshot_ms_sum = 0;
  auto start = bench::clock_type::now();
  auto hops_before = hops.read();
  auto end = start + duration;
  auto next = start;
  if (m.interval_ms == no_snapshots) {
    std::this_thread::sleep_until(end);
  } else {
    for (;;) {
      std::this_thread::sleep_until(next);
      auto now = bench::clock_type::now();
      if (now >= end)
        break;
      auto info = bench::take_snapshot_or_exit(sys, self);
      snapshot_ms_sum += bench::ms_since(now);
      ++result.snapshots;
      std::filesystem::remove(info.path);
      // A snapshot slower than the interval delays the next one instead
      // of starting a burst.
      next = std::max(next + std::chrono::milliseconds{m.interval_ms},
                      bench::clock_type::now());
    }
  }
  auto ms = bench::ms_since(start);
  result.msgs_per_s = static_cast<double>(hops.read() - hops_before) * 1000.0
                      / ms;
  if (result.snapshots > 0)
    result.snapshot_ms = snapshot_ms_sum
                         / static_cast<double>(result.snapshots);
  return result;
}

} // namespace

int main(int argc, char** argv) {
  bench::options opts{argc, argv};
  auto actors = opts.get("actors", opts.pick<size_t>(50, 1000, 1000));
  auto duration = std::chrono::milliseconds{
    opts.get("duration-ms", opts.pick<size_t>(300, 1000, 3000))};
  auto rounds = std::max<size_t>(opts.get("rounds", opts.pick<size_t>(1, 2, 3)),
                                 1);
  auto intervals = opts.get_list(
    "intervals",
    opts.pick<std::vector<size_t>>({100}, {100}, {50, 100, 200, 500, 1000}));
  auto policy = bench::scheduler_policy(opts);
  opts.reject_unknown();
  std::vector<mode> modes{{"none", no_snapshots}, {"back_to_back", no_pause}};
  for (auto i : intervals)
    modes.push_back({"every_" + std::to_string(i) + "ms", i});
  bench::scratch_directory dir{"throughput"};
  bench::config cfg{dir.path(), policy};
  // Outlives the system: the actors count hops until they are gone.
  bench::sharded_counter hops;
  caf::actor_system sys{cfg};
  auto peers = std::make_shared<bench::mesh_peers>();
  peers->hops = &hops;
  for (size_t i = 0; i < actors; ++i)
    peers->actors.emplace_back(sys.spawn(
      bench::mesh_fn<mesh_actor>,
      std::shared_ptr<const bench::mesh_peers>{peers}, bench::mesh_seed(i)));
  for (auto& x : peers->actors)
    caf::anon_send(x, std::numeric_limits<int64_t>::max());
  std::vector<window> best(modes.size());
  {
    caf::scoped_actor self{sys};
    // Warm up: the tokens spread and the heap grows to its working size.
    std::this_thread::sleep_for(duration / 2);
    for (size_t round = 0; round < rounds; ++round)
      for (size_t i = 0; i < modes.size(); ++i) {
        auto w = measure(sys, self, hops, modes[i], duration);
        if (w.msgs_per_s > best[i].msgs_per_s)
          best[i] = w;
      }
  }
  for (auto& x : peers->actors)
    caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  auto baseline = best[0].msgs_per_s;
  auto suffix = bench::policy_suffix(policy);
  bench::print("throughput_none_msgs_per_s" + suffix, baseline);
  for (size_t i = 1; i < modes.size(); ++i) {
    auto prefix = "throughput_" + modes[i].name;
    bench::print(prefix + "_msgs_per_s" + suffix, best[i].msgs_per_s);
    bench::print(prefix + "_ratio" + suffix, best[i].msgs_per_s / baseline);
    bench::print(prefix + "_snapshots" + suffix,
                 static_cast<double>(best[i].snapshots));
    bench::print(prefix + "_snapshot_ms" + suffix, best[i].snapshot_ms);
  }
}
