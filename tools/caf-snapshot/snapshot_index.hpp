// Indexes over one loaded snapshot, shared by the subcommands that render
// it (`show`, `show --json`, `dot`): actor keys, request numbers, the
// recorded actors and their nodes, the messages waiting for each actor and
// the channels. Built in one pass over actors and one over messages, so
// rendering stays linear for snapshots with 100,000 actors and millions of
// messages.
//
// Usage:
//   snapshot_index idx{snap};
//   for (auto i : idx.waiting({rec.node, rec.id})) print(snap.in_flight[i]);
//   for (auto& ch : idx.channels(sel)) ...
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "caf/snapshot/global_snapshot.hpp"

#include "selection.hpp"

namespace caf_snapshot_tool {

/// Number of `caf::snapshot::message_location` values.
constexpr size_t num_locations = 5;

/// Identifies an actor across nodes. Views into the indexed snapshot.
struct actor_key {
  std::string_view node;
  caf::actor_id id = 0;

  bool operator==(const actor_key& other) const {
    return id == other.id && node == other.node;
  }

  bool operator!=(const actor_key& other) const {
    return !(*this == other);
  }

  /// Orders by node, then by ID.
  bool operator<(const actor_key& other) const {
    return node != other.node ? node < other.node : id < other.id;
  }
};

/// Returns the request number of a message ID (`caf::message_id::
/// request_id()`): the same for a request, its response ID and the ID of
/// the response message, whatever the flags and priority.
uint64_t request_number(uint64_t message_id);

/// Mixes `x` into the hash `seed`.
size_t hash_combine(size_t seed, size_t x);

struct actor_key_hash {
  size_t operator()(const actor_key& x) const {
    return hash_combine(std::hash<std::string_view>{}(x.node),
                        std::hash<caf::actor_id>{}(x.id));
  }
};

/// The messages in flight from one sender to one receiver.
struct channel {
  actor_key from;
  actor_key to;
  /// Indexes into `global_snapshot::in_flight`, in file order.
  std::vector<size_t> messages;
  /// How many of them are external input (`from_participant == false`).
  size_t external = 0;
};

/// Read-only indexes over a snapshot that must outlive the index.
class snapshot_index {
public:
  explicit snapshot_index(const caf::snapshot::global_snapshot& snap);

  const caf::snapshot::global_snapshot& snapshot() const {
    return snap_;
  }

  /// Whether `x` is a recorded actor.
  bool recorded(const actor_key& x) const {
    return recorded_.count(x) > 0;
  }

  /// The nodes of the recorded actors, sorted.
  const std::vector<std::string_view>& nodes() const {
    return nodes_;
  }

  /// Number of recorded actors on `node`.
  size_t actors_on(std::string_view node) const;

  /// Indexes into `in_flight` of the messages for `x`, in file order.
  const std::vector<size_t>& waiting(const actor_key& x) const;

  /// Number of messages in flight per `message_location`.
  const std::array<size_t, num_locations>& by_location() const {
    return by_location_;
  }

  /// Number of messages in flight that are external input.
  size_t external() const {
    return external_;
  }

  /// Number of messages in flight to actors that are not recorded.
  size_t unrecorded_receivers() const {
    return unrecorded_receivers_;
  }

  /// Whether every actor and message is on the same node.
  bool single_node() const {
    return single_node_;
  }

  /// The channels with a sender or receiver selected by `sel`, busiest
  /// first, then by sender and receiver.
  std::vector<channel> channels(const selection& sel) const;

private:
  const caf::snapshot::global_snapshot& snap_;
  std::unordered_set<actor_key, actor_key_hash> recorded_;
  std::vector<std::string_view> nodes_;
  std::unordered_map<std::string_view, size_t> actors_per_node_;
  std::unordered_map<actor_key, std::vector<size_t>, actor_key_hash> waiting_;
  std::array<size_t, num_locations> by_location_{};
  size_t external_ = 0;
  size_t unrecorded_receivers_ = 0;
  bool single_node_ = true;
};

} // namespace caf_snapshot_tool
