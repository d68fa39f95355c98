// The set of live participants of one actor system and the epoch word that
// the hot paths read. Participants register when constructed and leave
// when they terminate; the coordinator activates and closes snapshots.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>
#include <unordered_map>
#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_addr.hpp"

namespace caf::snapshot::detail {

/// Thread-safe registry of participants. All members are safe to call from
/// any thread; `word` is lock-free, everything else takes a mutex.
class registry {
public:
  /// Participants and ID of a newly activated snapshot.
  struct activation {
    uint64_t id;
    std::vector<caf::actor_addr> participants;
  };

  /// Returns `(latest activated snapshot ID << 1) | any snapshot active`.
  /// Read with relaxed ordering on the enqueue path.
  uint64_t word() const noexcept {
    return word_.load(std::memory_order_relaxed);
  }

  /// Registers a participant. `parent_epoch` is the epoch of the spawning
  /// participant, if any. Returns the participant's first epoch. Tells the
  /// coordinator when a newborn must still take part in a running snapshot.
  uint64_t add(const caf::actor_addr& who, const uint64_t* parent_epoch);

  /// Removes a participant and returns the highest active snapshot ID
  /// (0 if none), atomically with respect to `activate`.
  uint64_t remove(caf::actor_id who);

  /// Returns the highest active snapshot ID (0 if none).
  uint64_t highest_active() const;

  /// Starts a new snapshot and lists the participants that must cut for it.
  activation activate();

  /// Marks snapshot `id` as finished (stored, failed or timed out).
  void close(uint64_t id);

  /// Whether `who` is a registered participant.
  bool contains(caf::actor_id who) const;

  /// Number of registered participants.
  size_t size() const;

  /// Sets the actor that receives join notices.
  void set_coordinator(caf::actor coordinator);

private:
  void update_word_locked() noexcept;

  // Read on every enqueue: keep it off the cache line of the mutex, which
  // spawns and exits write.
  alignas(64) std::atomic<uint64_t> word_{0};
  alignas(64) mutable std::mutex mtx_;
  uint64_t latest_ = 0;
  std::set<uint64_t> active_;
  std::unordered_map<caf::actor_id, caf::actor_addr> members_;
  caf::actor coordinator_;
};

} // namespace caf::snapshot::detail
