// Messages per second of participants relative to plain CAF actors with the
// same behaviour (ping-pong between two actors), no snapshot running.
//
// Usage: interception_overhead [messages] [rounds]

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include "caf/all.hpp"
#include "caf/snapshot/all.hpp"

namespace {

template <class Self>
caf::behavior pong_fn(Self* self) {
  return {[=](int x) { return x; }};
}

template <class Self>
caf::behavior ping_fn(Self* self, caf::actor pong, int n,
                      caf::actor done) {
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

template <class Self>
double run(caf::actor_system& sys, int n) {
  caf::scoped_actor self{sys};
  auto pong = sys.spawn(pong_fn<Self>);
  auto start = std::chrono::steady_clock::now();
  sys.spawn(ping_fn<Self>, pong, n, caf::actor{self});
  self->receive([](bool) {});
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                            - start)
                .count();
  caf::anon_send_exit(pong, caf::exit_reason::user_shutdown);
  return 2.0 * n / secs;
}

} // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 1000000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  // Optional third argument runs one kind only (for callgrind): plain or
  // participant.
  std::string only = argc > 3 ? argv[3] : "";
  caf::actor_system_config cfg;
  cfg.load<caf::snapshot::module>();
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  double plain_best = 0;
  double part_best = 0;
  for (int i = 0; i < rounds; ++i) {
    if (only != "participant")
      plain_best = std::max(plain_best, run<caf::event_based_actor>(sys, n));
    if (only != "plain")
      part_best = std::max(part_best,
                           run<caf::snapshot::event_based_actor>(sys, n));
  }
  std::cout << "pingpong_plain_msgs_per_s: " << plain_best << "\n"
            << "pingpong_participant_msgs_per_s: " << part_best << "\n"
            << "pingpong_ratio: " << part_best / plain_best << "\n";
}
