// Names the actors of findings and differences on one line each:
// `ID(NAME@NODE)`, escaped for the terminal, so that an actor is identified
// across nodes (actor IDs are unique per node only) and recognisable by its
// type.
//
// Usage:
//   actor_labels labels;
//   labels.add(snap);
//   std::cout << labels(actor_key{m.receiver_node, m.receiver}) << '\n';
//   // 42(account@0123...#4711)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "caf/snapshot/global_snapshot.hpp"

#include "snapshot_index.hpp"

namespace caf_snapshot_tool {

/// The names of the recorded actors of one or more snapshots, which must
/// outlive this object.
class actor_labels {
public:
  /// Cuts names and nodes after `max_len` bytes each (see `printable`).
  explicit actor_labels(size_t max_len = 200) : max_len_(max_len) {
    // nop
  }

  /// Adds the names of the actors recorded in `snap`. An actor recorded
  /// in several snapshots keeps the name it was first added with.
  void add(const caf::snapshot::global_snapshot& snap);

  /// Returns `ID(NAME@NODE)`, with `?` as NAME for actors that are not
  /// recorded, or `anonymous` for ID 0 on no node (external senders).
  std::string operator()(const actor_key& x) const;

private:
  size_t max_len_;
  std::unordered_map<actor_key, std::string_view, actor_key_hash> names_;
};

} // namespace caf_snapshot_tool
