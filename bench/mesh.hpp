// A random mesh: every actor forwards each token it receives to a peer
// chosen by its own pseudo-random generator (fixed seed), until the token's
// hops run out. Used as the application workload of interception_overhead
// and throughput_under_snapshots.
//
// Usage:
//   auto peers = std::make_shared<bench::mesh_peers>();
//   for (size_t i = 0; i < 1000; ++i)
//     peers->actors.emplace_back(
//       sys.spawn(bench::mesh_fn<caf::snapshot::stateful_actor<
//                   bench::mesh_state>>, peers, bench::mesh_seed(i)));
//   peers->done = done;                  // gets a token_done per token
//   caf::anon_send(peers->actors[0], int64_t{1000});   // 1000 hops
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "caf/all.hpp"

namespace bench {

/// Sent to `mesh_peers::done` when a token has no hops left.
using token_done_atom = caf::atom_constant<caf::atom("bn_tokdone")>;

/// State of a mesh actor.
struct mesh_state {
  /// xorshift64 state; never zero.
  uint64_t rng = 1;
  /// Tokens this actor forwarded.
  uint64_t forwarded = 0;

  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& rng& forwarded;
  }
};

/// Counts events from many threads without contention: one cache line per
/// thread slot, summed when read. Thread-safe; `read` is exact only once
/// the writers are quiet, else a value some writes behind.
class sharded_counter {
public:
  void add(uint64_t n) noexcept {
    slots_[slot()].value.fetch_add(n, std::memory_order_relaxed);
  }

  uint64_t read() const noexcept {
    uint64_t result = 0;
    for (auto& x : slots_)
      result += x.value.load(std::memory_order_relaxed);
    return result;
  }

private:
  static constexpr size_t num_slots = 64;

  struct alignas(64) padded {
    std::atomic<uint64_t> value{0};
  };

  static size_t slot() noexcept {
    static std::atomic<size_t> next{0};
    thread_local size_t result = next.fetch_add(1) % num_slots;
    return result;
  }

  padded slots_[num_slots];
};

/// What every mesh actor knows; filled before the first token moves and
/// read-only afterwards.
struct mesh_peers {
  std::vector<caf::actor> actors;
  /// Receives one `token_done_atom` per finished token (may be unset for
  /// tokens that never finish).
  caf::actor done;
  /// Counts every forwarded token, if set.
  sharded_counter* hops = nullptr;
};

/// The fixed seed of the `i`-th mesh actor.
inline uint64_t mesh_seed(size_t i) {
  return (static_cast<uint64_t>(i) + 1) * 0x9E3779B97F4A7C15u ^ 42u;
}

/// A mesh actor; `Actor` is `caf::stateful_actor<mesh_state>` or
/// `caf::snapshot::stateful_actor<mesh_state>`.
template <class Actor>
caf::behavior
mesh_fn(Actor* self, std::shared_ptr<const mesh_peers> peers, uint64_t seed) {
  self->state.rng = seed != 0 ? seed : 1;
  return {
    [=](int64_t hops) {
      if (hops <= 0) {
        self->send(peers->done, token_done_atom::value);
        return;
      }
      auto& x = self->state.rng;
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      ++self->state.forwarded;
      if (peers->hops != nullptr)
        peers->hops->add(1);
      self->send(peers->actors[x % peers->actors.size()], hops - 1);
    },
  };
}

} // namespace bench
