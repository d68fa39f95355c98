// Snapshot time and loopback bytes for 3 nodes (actor systems in one
// process, connected over 127.0.0.1 by CAF's middleman) with N idle
// participants each.
//
// Usage: cluster_snapshot [N] [rounds]   (default: 10000 3)

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <vector>

#include <boost/serialization/array.hpp>

#include "caf/all.hpp"
#include "caf/io/all.hpp"
#include "caf/snapshot/all.hpp"

namespace {

struct payload {
  std::array<char, 64> bytes{};
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & bytes;
  }
};

caf::behavior idle_fn(caf::snapshot::stateful_actor<payload>*) {
  return {[](int) {}};
}

// Bytes received on the loopback interface so far (/proc/net/dev).
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

struct node_config : caf::actor_system_config {
  explicit node_config(const std::string& dir) {
    load<caf::io::middleman>();
    load<caf::snapshot::module>();
    set("snapshot.directory", dir);
    set("logger.console", caf::atom("none"));
  }
};

} // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  auto dir = std::filesystem::temp_directory_path() / "caf-snapshot-cluster";
  std::filesystem::remove_all(dir);
  std::vector<std::unique_ptr<node_config>> cfgs;
  std::vector<std::unique_ptr<caf::actor_system>> nodes;
  for (int i = 0; i < 3; ++i) {
    cfgs.emplace_back(std::make_unique<node_config>(
      (dir / std::to_string(i)).string()));
    nodes.emplace_back(std::make_unique<caf::actor_system>(*cfgs.back()));
  }
  auto port = caf::snapshot::publish(*nodes[0], 0);
  if (!port) {
    std::cerr << "publish: " << nodes[0]->render(port.error()) << '\n';
    return 1;
  }
  for (int i = 1; i < 3; ++i)
    if (auto err = caf::snapshot::join(*nodes[i], "127.0.0.1", *port)) {
      std::cerr << "join: " << nodes[i]->render(err) << '\n';
      return 1;
    }
  std::vector<caf::actor> actors;
  for (auto& sys : nodes)
    for (size_t i = 0; i < n; ++i)
      actors.emplace_back(sys->spawn(idle_fn));
  {
    caf::scoped_actor self{*nodes[0]};
    for (int round = 0; round < rounds; ++round) {
      auto before = loopback_bytes();
      auto start = std::chrono::steady_clock::now();
      self
        ->request(caf::snapshot::coordinator(*nodes[0]), caf::infinite,
                  caf::snapshot::take_atom::value)
        .receive(
          [&](const caf::snapshot::snapshot_info& info) {
            auto ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count();
            std::cout << "cluster_snapshot_ms_3x" << n << "_round" << round
                      << ": " << ms << "\ncluster_loopback_bytes_3x" << n
                      << "_round" << round << ": "
                      << loopback_bytes() - before << "\ncluster_actors_3x"
                      << n << ": " << info.actors << "\ncluster_file_bytes_3x"
                      << n << ": " << info.bytes << "\n";
          },
          [&](caf::error& err) {
            std::cerr << "error: " << nodes[0]->render(err) << "\n";
          });
    }
  }
  for (auto& a : actors)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  actors.clear();
  while (nodes.size() > 0)
    nodes.pop_back();
  std::filesystem::remove_all(dir);
}
