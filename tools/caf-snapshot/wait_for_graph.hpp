// The wait-for graph of a snapshot and its deadlocks. The graph has an edge
// A -> B for each request that participant A awaited a response to from B
// at its cut; a cycle of such edges is a deadlock if the actors on it await
// with `await` (or if their `then` handlers only reply after their own
// requests are answered).
//
// The receiver of a pending request comes from `actor_record::awaited`
// (format version 2). For a pending request without an entry (files of
// version 1, requests sent past the participant's `request`) it comes from
// the request message itself while that is still in flight: a message
// from A whose ID has the request's number. A pending request whose
// message was already handled has no known receiver: it is `unresolved`.
//
// Deadlocks are the strongly connected components (Tarjan's algorithm,
// iterative, linear in actors and edges) with more than one actor or with a
// self-loop.
//
// Usage:
//   wait_for_graph graph{snap};
//   for (auto& d : graph.deadlocks())
//     for (auto& x : d.cycle) std::cout << x.id << '@' << x.node << '\n';
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "caf/snapshot/global_snapshot.hpp"

#include "snapshot_index.hpp"

namespace caf_snapshot_tool {

/// One edge of the wait-for graph: `from` awaits the response to its
/// request `request` from `to`.
struct wait_edge {
  actor_key from;
  actor_key to;
  /// The request number (see `request_number`).
  uint64_t request = 0;
  /// Where the request message was at the cut if it was still in flight
  /// (not yet handled by `to`).
  std::optional<caf::snapshot::message_location> location;
  /// Whether `to` was taken from the request message in flight because the
  /// record of `from` names no receiver for this request.
  bool inferred = false;
};

/// A pending request whose receiver is unknown.
struct unresolved_request {
  actor_key from;
  /// The request number (see `request_number`).
  uint64_t request = 0;
};

/// One deadlock: a strongly connected component of the wait-for graph.
struct deadlock {
  /// A shortest cycle through the smallest member (by node, then ID):
  /// `cycle[i]` awaits `cycle[i + 1]`, the last one awaits `cycle[0]`. A
  /// single actor awaits itself.
  std::vector<actor_key> cycle;
  /// For each arrow of `cycle` (`cycle[i]` -> `cycle[(i + 1) % n]`), the
  /// numbers of the requests it stands for, sorted.
  std::vector<std::vector<uint64_t>> requests;
  /// The members of the component that are not on `cycle`, sorted.
  std::vector<actor_key> others;
};

/// The wait-for graph of a snapshot, which must outlive the graph.
class wait_for_graph {
public:
  explicit wait_for_graph(const caf::snapshot::global_snapshot& snap);

  /// All edges, in the order of the actor records and their requests.
  const std::vector<wait_edge>& edges() const noexcept {
    return edges_;
  }

  /// The pending requests without a known receiver, in record order.
  const std::vector<unresolved_request>& unresolved() const noexcept {
    return unresolved_;
  }

  /// Returns every deadlock, sorted by the first actor of its cycle.
  std::vector<deadlock> deadlocks() const;

private:
  // Returns the vertex of `x`, adding it if new.
  size_t vertex(const actor_key& x);

  void add_edge(wait_edge x);

  std::vector<wait_edge> edges_;
  std::vector<unresolved_request> unresolved_;
  // Vertices, their keys and their outgoing edges (indexes into `edges_`).
  std::unordered_map<actor_key, size_t, actor_key_hash> vertices_;
  std::vector<actor_key> keys_;
  std::vector<std::vector<size_t>> out_;
  // The target vertex of each edge.
  std::vector<size_t> targets_;
};

} // namespace caf_snapshot_tool
