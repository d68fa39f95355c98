// What one node knows about the other nodes of its cluster: where to
// announce its participants' epochs, and the epochs other nodes' participants
// announced. Written by the coordinator and the notice sink, read by
// participants. All members are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "caf/actor.hpp"
#include "caf/node_id.hpp"

namespace caf::snapshot::detail {

/// Announcements of remote participants and the sinks of remote nodes.
class cluster_view {
public:
  /// Latest epoch that participant `id` on `node` announced (0 if none).
  uint64_t remote_epoch(const caf::node_id& node, caf::actor_id id) const;

  /// Records an announcement; called in the order the middleman delivers
  /// messages from `node`.
  void announce(const caf::node_id& node, caf::actor_id id, uint64_t epoch);

  /// Forgets everything announced by participants of `node`.
  void forget(const caf::node_id& node);

  /// The notice sinks of all other nodes.
  std::vector<caf::actor> peer_sinks() const;

  /// Replaces the notice sinks of all other nodes.
  void set_peer_sinks(std::vector<caf::actor> sinks);

private:
  struct key {
    caf::node_id node;
    caf::actor_id id;
    bool operator==(const key& other) const noexcept {
      return id == other.id && node == other.node;
    }
  };

  struct key_hash {
    size_t operator()(const key& x) const noexcept {
      return std::hash<caf::node_id>{}(x.node) * 31 + x.id;
    }
  };

  mutable std::mutex mtx_;
  std::unordered_map<key, uint64_t, key_hash> epochs_;
  std::vector<caf::actor> sinks_;
};

} // namespace caf::snapshot::detail
