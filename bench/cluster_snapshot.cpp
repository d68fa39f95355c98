// Snapshot time and loopback bytes for 3 nodes (actor systems in one
// process, connected over 127.0.0.1 by CAF's middleman) with N idle
// participants each.
//
// Usage: cluster_snapshot [--tiny|--quick] [--n=N] [--rounds=R]
//                         [--scheduler=stealing|sharing]
//
// Default: N = 10,000 per node (--quick: 2,000). Prints, with 3xN in
// every name: cluster_snapshot_ms (best of R), cluster_loopback_bytes (of
// that round), cluster_actors and cluster_file_bytes; under
// --scheduler=sharing, each name ends with `_sharing`.

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "caf/all.hpp"
#include "caf/io/all.hpp"
#include "caf/snapshot/all.hpp"

#include "harness.hpp"
#include "payload.hpp"

namespace {

caf::behavior idle_fn(caf::snapshot::stateful_actor<bench::payload>*) {
  return {[](int) {
    // nop
  }};
}

// Bytes received on the loopback interface so far (/proc/net/dev; includes
// the traffic of other processes on this host).
uint64_t loopback_bytes() {
  std::ifstream in{"/proc/net/dev"};
  std::string line;
  while (std::getline(in, line)) {
    auto pos = line.find("lo:");
    if (pos == std::string::npos)
      continue;
    std::istringstream fields{line.substr(pos + 3)};
    uint64_t rx = 0;
    fields >> rx;
    return rx;
  }
  return 0;
}

class node_config : public bench::config {
public:
  node_config(const std::filesystem::path& dir, const std::string& policy)
    : bench::config(dir, policy) {
    load<caf::io::middleman>();
  }
};

} // namespace

int main(int argc, char** argv) {
  bench::options opts{argc, argv};
  auto n = opts.get("n", opts.pick<size_t>(10, 2000, 10000));
  auto rounds = std::max<size_t>(opts.get("rounds", opts.pick<size_t>(1, 2, 3)),
                                 1);
  auto policy = bench::scheduler_policy(opts);
  opts.reject_unknown();
  constexpr int num_nodes = 3;
  bench::scratch_directory dir{"cluster"};
  std::vector<std::unique_ptr<node_config>> cfgs;
  std::vector<std::unique_ptr<caf::actor_system>> nodes;
  for (int i = 0; i < num_nodes; ++i) {
    cfgs.emplace_back(
      std::make_unique<node_config>(dir.path() / std::to_string(i), policy));
    nodes.emplace_back(std::make_unique<caf::actor_system>(*cfgs.back()));
  }
  auto port = caf::snapshot::publish(*nodes[0], 0);
  if (!port)
    bench::options::fail("publish: " + nodes[0]->render(port.error()));
  for (int i = 1; i < num_nodes; ++i)
    if (auto err = caf::snapshot::join(*nodes[i], "127.0.0.1", *port))
      bench::options::fail("join: " + nodes[i]->render(err));
  std::vector<caf::actor> actors;
  for (auto& sys : nodes)
    for (size_t i = 0; i < n; ++i)
      actors.emplace_back(sys->spawn(idle_fn));
  auto best_ms = std::numeric_limits<double>::max();
  uint64_t best_loopback = 0;
  caf::snapshot::snapshot_info info;
  {
    caf::scoped_actor self{*nodes[0]};
    for (size_t round = 0; round < rounds; ++round) {
      auto before = loopback_bytes();
      auto start = bench::clock_type::now();
      info = bench::take_snapshot_or_exit(*nodes[0], self);
      auto ms = bench::ms_since(start);
      if (ms < best_ms) {
        best_ms = ms;
        best_loopback = loopback_bytes() - before;
      }
      std::filesystem::remove(info.path);
    }
  }
  for (auto& a : actors)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  actors.clear();
  while (!nodes.empty())
    nodes.pop_back();
  auto suffix = "_" + std::to_string(num_nodes) + "x" + std::to_string(n)
                + bench::policy_suffix(policy);
  bench::print("cluster_snapshot_ms" + suffix, best_ms);
  bench::print("cluster_loopback_bytes" + suffix,
               static_cast<double>(best_loopback));
  bench::print("cluster_actors" + suffix, static_cast<double>(info.actors));
  bench::print("cluster_file_bytes" + suffix, static_cast<double>(info.bytes));
  if (info.actors != num_nodes * n) {
    std::fprintf(stderr,
                 "error: cluster_snapshot: %llu actors recorded, "
                 "expected %llu\n",
                 static_cast<unsigned long long>(info.actors),
                 static_cast<unsigned long long>(num_nodes * n));
    return 1;
  }
}
