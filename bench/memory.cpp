// Memory of participants: the extra bytes an idle participant costs over a
// plain CAF actor with the same 64-byte state, and the peak resident size
// of a process while it takes a snapshot of N participants, relative to the
// size of the file. Each measurement runs in a child process of its own
// (fork before any actor system exists), so that memory freed by one does
// not hide what the next one needs.
//
// Usage: memory [--tiny|--quick] [--n=N] [--snapshot-n=N]
//               [--scheduler=stealing|sharing]
//
// Default: N = 1,000,000 for both; --quick: 100,000. Use
// --scheduler=sharing for large N: under CAF's work stealing a snapshot of
// 1M actors takes quadratic time (see harness.hpp), which measures CAF, not
// memory. Prints:
//   memory_plain_bytes_per_actor             resident size / N
//   memory_participant_bytes_per_actor
//   memory_extra_bytes_per_participant       resident; target: <= 64
//   memory_extra_heap_bytes_per_participant  malloc'ed (mallinfo2)
//   memory_snapshot_actors, memory_snapshot_file_bytes
//   memory_snapshot_rss_before_bytes         before the snapshot
//   memory_snapshot_peak_rss_bytes           peak during it (VmHWM)
//   memory_snapshot_peak_extra_bytes         peak - before
//   memory_snapshot_peak_extra_per_file_byte
//   memory_snapshot_peak_reset               1 if VmHWM was reset before
// Under --scheduler=sharing, each memory_snapshot_ name ends with
// `_sharing`.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "caf/all.hpp"
#include "caf/snapshot/all.hpp"

#include "harness.hpp"
#include "payload.hpp"
#include "proc_stats.hpp"

namespace {

using ping_atom = caf::atom_constant<caf::atom("bn_ping")>;

template <class Self>
caf::behavior idle_fn(Self*) {
  return {
    [](ping_atom) { return ping_atom::value; },
    [](int) {
      // nop
    },
  };
}

// Waits until every actor ran its initialization and handled a message.
void settle(caf::actor_system& sys, const std::vector<caf::actor>& xs) {
  caf::scoped_actor self{sys};
  for (auto& x : xs)
    self->send(x, ping_atom::value);
  for (size_t i = 0; i < xs.size(); ++i)
    self->receive([](ping_atom) {});
}

void stop_all(std::vector<caf::actor>& xs) {
  for (auto& x : xs)
    caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  xs.clear();
}

// What a child process reports to its parent.
struct footprint {
  double resident = 0;
  double heap = 0;
};

// Memory of `n` idle actors of type `Actor` in a fresh actor system.
template <class Actor>
footprint measure_idle(const std::string& policy, size_t n) {
  bench::scratch_directory dir{"memory"};
  bench::config cfg{dir.path(), policy};
  caf::actor_system sys{cfg};
  std::vector<caf::actor> actors;
  actors.reserve(n);
  // Let the system's own actors and threads settle first.
  settle(sys, {});
  auto resident_before = bench::resident_bytes();
  auto heap_before = bench::heap_bytes();
  for (size_t i = 0; i < n; ++i)
    actors.emplace_back(sys.spawn(idle_fn<Actor>));
  settle(sys, actors);
  footprint result;
  result.resident
    = static_cast<double>(bench::resident_bytes() - resident_before);
  result.heap = static_cast<double>(bench::heap_bytes() - heap_before);
  stop_all(actors);
  return result;
}

// Peak memory of one snapshot of `n` idle participants.
void measure_snapshot(const std::string& policy, size_t n) {
  bench::scratch_directory dir{"memory"};
  bench::config cfg{dir.path(), policy};
  caf::actor_system sys{cfg};
  std::vector<caf::actor> actors;
  actors.reserve(n);
  for (size_t i = 0; i < n; ++i)
    actors.emplace_back(
      sys.spawn(idle_fn<caf::snapshot::stateful_actor<bench::payload>>));
  settle(sys, actors);
  auto before = bench::resident_bytes();
  auto reset = bench::reset_peak_resident();
  caf::snapshot::snapshot_info info;
  {
    caf::scoped_actor self{sys};
    info = bench::take_snapshot_or_exit(sys, self);
  }
  auto peak = bench::peak_resident_bytes();
  stop_all(actors);
  auto file = static_cast<double>(info.bytes);
  auto suffix = bench::policy_suffix(policy);
  bench::print("memory_snapshot_actors" + suffix,
               static_cast<double>(info.actors));
  bench::print("memory_snapshot_file_bytes" + suffix, file);
  bench::print("memory_snapshot_rss_before_bytes" + suffix,
               static_cast<double>(before));
  bench::print("memory_snapshot_peak_rss_bytes" + suffix,
               static_cast<double>(peak));
  bench::print("memory_snapshot_peak_extra_bytes" + suffix,
               static_cast<double>(peak - before));
  bench::print("memory_snapshot_peak_extra_per_file_byte" + suffix,
               static_cast<double>(peak - before) / file);
  bench::print("memory_snapshot_peak_reset" + suffix, reset ? 1 : 0);
}

// Runs `f` in a child process; returns what it wrote with `report`, or
// exits if the child failed.
template <class F>
footprint in_child(F f) {
  int fds[2];
  if (::pipe(fds) != 0)
    bench::options::fail("pipe failed");
  std::fflush(stdout);
  auto pid = ::fork();
  if (pid < 0)
    bench::options::fail("fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    auto result = f();
    std::fflush(stdout);
    auto ok = ::write(fds[1], &result, sizeof(result)) == sizeof(result);
    ::close(fds[1]);
    std::_Exit(ok ? 0 : 1);
  }
  ::close(fds[1]);
  footprint result;
  auto got = ::read(fds[0], &result, sizeof(result));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (got != sizeof(result) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "error: memory: a measurement failed\n");
    std::exit(1);
  }
  return result;
}

} // namespace

int main(int argc, char** argv) {
  bench::options opts{argc, argv};
  auto n = opts.get("n", opts.pick<size_t>(1000, 100000, 1000000));
  auto snapshot_n = opts.get("snapshot-n",
                             opts.pick<size_t>(1000, 100000, 1000000));
  auto policy = bench::scheduler_policy(opts);
  opts.reject_unknown();
  auto plain = in_child([&] {
    return measure_idle<caf::stateful_actor<bench::payload>>(policy, n);
  });
  auto part = in_child([&] {
    return measure_idle<caf::snapshot::stateful_actor<bench::payload>>(policy,
                                                                       n);
  });
  auto per_actor = [n](double x) { return x / static_cast<double>(n); };
  bench::print("memory_actors", static_cast<double>(n));
  bench::print("memory_plain_bytes_per_actor", per_actor(plain.resident));
  bench::print("memory_participant_bytes_per_actor", per_actor(part.resident));
  bench::print("memory_extra_bytes_per_participant",
               per_actor(part.resident - plain.resident));
  bench::print("memory_extra_heap_bytes_per_participant",
               per_actor(part.heap - plain.heap));
  in_child([&] {
    measure_snapshot(policy, snapshot_n);
    return footprint{};
  });
}
