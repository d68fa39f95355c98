// The set of live participants of one actor system and the epoch word that
// the hot paths read. Participants register when constructed and leave
// when they terminate; the coordinator activates and closes snapshots.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_addr.hpp"

#include "caf/snapshot/detail/cluster_view.hpp"
#include "caf/snapshot/detail/handoff_stack.hpp"
#include "caf/snapshot/detail/protocol.hpp"

namespace caf::snapshot::detail {

class participant_core;

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

  /// Registers a participant and sets its first epoch: the epoch of the
  /// spawning participant `spawner`, if any, else the latest snapshot. Tells
  /// the coordinator when a newborn must still take part in a running
  /// snapshot. The registry links participants into an intrusive list: no
  /// allocation per participant.
  void add(participant_core* who, const participant_core* spawner);

  /// Removes a participant (if registered) and returns the highest active
  /// snapshot ID (0 if none), atomically with respect to `activate`.
  uint64_t remove(participant_core* who);

  /// Returns the highest active snapshot ID (0 if none).
  uint64_t highest_active() const;

  /// Starts a new snapshot and lists the participants that must cut for it.
  activation activate();

  /// Starts a new snapshot unless one is active (for post-mortems, which
  /// must not pile up when many actors fail at once) or this node is a
  /// cluster member (whose snapshots the root numbers).
  std::optional<activation> activate_if_idle();

  /// Starts snapshot `id`, chosen by the cluster's root coordinator.
  activation activate(uint64_t id);

  /// Makes future snapshot IDs larger than `id` (when joining a cluster).
  void raise_latest(uint64_t id);

  /// The latest activated snapshot ID.
  uint64_t latest() const;

  /// Whether this system takes part in a cluster: enqueue must then look
  /// at messages from other nodes. Read with relaxed ordering.
  bool clustered() const noexcept {
    return clustered_.load(std::memory_order_relaxed);
  }

  /// What this node knows about the other nodes of its cluster.
  cluster_view& cluster() noexcept {
    return cluster_;
  }

  /// Marks this system as part of a cluster.
  void set_clustered() noexcept {
    clustered_.store(true, std::memory_order_seq_cst);
  }

  /// Marks this system as a member (not the root) of a cluster, or no longer.
  void set_member(bool value);

  /// Whether this system is a member (not the root) of a cluster.
  bool is_member() const;

  /// Marks snapshot `id` as finished (stored, failed or timed out).
  void close(uint64_t id);

  /// Number of registered participants.
  size_t size() const;

  /// The actor that receives join notices.
  caf::actor coordinator() const;

  /// Sets the actor that receives join notices.
  void set_coordinator(caf::actor coordinator);

  /// Channel reports of participants that consumed their flush, for the
  /// coordinator (lock-free; see `drain_atom`).
  handoff_stack<channel_report>& finals() noexcept {
    return finals_;
  }

private:
  void update_word_locked() noexcept;

  activation activate_locked(uint64_t id);

  // Read on every enqueue: keep it off the cache line of the mutex, which
  // spawns and exits write.
  alignas(64) std::atomic<uint64_t> word_{0};
  std::atomic<bool> clustered_{false};
  alignas(64) mutable std::mutex mtx_;
  uint64_t latest_ = 0;
  bool member_ = false;
  std::set<uint64_t> active_;
  // All registered participants.
  participant_core* head_ = nullptr;
  size_t size_ = 0;
  // Participants born with an epoch past the latest snapshot activated here
  // (children of a parent that cut early for a snapshot another node
  // started) and that epoch: they take no part in snapshots up to it. Rare,
  // hence a side table instead of a word in every participant.
  std::unordered_map<const participant_core*, uint64_t> born_ahead_;
  caf::actor coordinator_;
  cluster_view cluster_;
  handoff_stack<channel_report> finals_;
};

} // namespace caf::snapshot::detail
