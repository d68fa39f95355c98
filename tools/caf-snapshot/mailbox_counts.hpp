// The number of messages in flight to each actor of a snapshot, by where
// they waited at the cut (queue, urgent, stash, clock, wire). `diff`
// compares them between two snapshots, `check` looks for full queues and
// stashes.
//
// Usage:
//   for (auto& [to, counts] : count_mailboxes(snap))
//     if (counts[location_index(message_location::stash)] > 0) ...
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "caf/snapshot/global_snapshot.hpp"

#include "snapshot_index.hpp"

namespace caf_snapshot_tool {

/// Number of messages per `caf::snapshot::message_location`.
using location_counts = std::array<uint64_t, num_locations>;

/// Returns the position of `x` in a `location_counts`.
constexpr size_t location_index(caf::snapshot::message_location x) {
  return static_cast<size_t>(x);
}

/// Returns the number of messages in all locations.
uint64_t total(const location_counts& xs);

/// Returns the counts of the messages in flight to each receiver of `snap`
/// (a view into `snap`, which must outlive the result). Receivers without
/// messages are absent.
std::unordered_map<actor_key, location_counts, actor_key_hash>
count_mailboxes(const caf::snapshot::global_snapshot& snap);

} // namespace caf_snapshot_tool
