// Time to snapshot N idle participants with 64-byte states.
//
// Usage: snapshot_latency [N...]   (default: 1000 10000 100000)

#include <array>

#include <boost/serialization/array.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <vector>

#include "caf/all.hpp"
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

void run(size_t n) {
  auto dir = std::filesystem::temp_directory_path() / "caf-snapshot-bench";
  std::filesystem::remove_all(dir);
  caf::actor_system_config cfg;
  cfg.load<caf::snapshot::module>();
  cfg.set("snapshot.directory", dir.string());
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  std::vector<caf::actor> actors;
  actors.reserve(n);
  for (size_t i = 0; i < n; ++i)
    actors.emplace_back(sys.spawn(idle_fn));
  caf::scoped_actor self{sys};
  for (int round = 0; round < 3; ++round) {
    auto start = std::chrono::steady_clock::now();
    self
      ->request(caf::snapshot::coordinator(sys), caf::infinite,
                caf::snapshot::take_atom::value)
      .receive(
        [&](const caf::snapshot::snapshot_info& info) {
          auto ms = std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - start)
                      .count();
          std::cout << "snapshot_latency_ms_" << n << "_round" << round
                    << ": " << ms << "\nsnapshot_bytes_" << n << ": "
                    << info.bytes << "\n";
        },
        [&](caf::error& err) {
          std::cerr << "error: " << sys.render(err) << "\n";
        });
  }
  for (auto& a : actors)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  actors.clear();
  std::filesystem::remove_all(dir);
}

} // namespace

int main(int argc, char** argv) {
  std::vector<size_t> ns;
  for (int i = 1; i < argc; ++i)
    ns.push_back(std::strtoull(argv[i], nullptr, 10));
  if (ns.empty())
    ns = {1000, 10000, 100000};
  for (auto n : ns)
    run(n);
}
