// The in-memory form of a stored snapshot: actor records and in-flight
// message records, as returned by `caf::snapshot::load`.
//
// Usage:
//   auto snap = caf::snapshot::load(path);
//   for (auto& a : snap->actors) { account st; a.load_state(st); }
//   for (auto& m : snap->in_flight) { auto msg = m.decode(sys); }
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <boost/archive/binary_iarchive.hpp>

#include "caf/actor_system.hpp"
#include "caf/error.hpp"
#include "caf/expected.hpp"
#include "caf/fwd.hpp"
#include "caf/message.hpp"
#include "caf/meta/type_name.hpp"

#include "caf/snapshot/detail/bounded_bytes.hpp"
#include "caf/snapshot/errc.hpp"

namespace caf::snapshot {

/// Life-cycle status of a recorded participant at its cut point.
enum class actor_status : uint8_t {
  /// The actor was running; its state is the state between two handlers.
  running = 0,
  /// The actor terminated before reaching its cut point; its state is its
  /// final state and `exit_reason` says why it terminated.
  exited = 1,
};

/// Returns `"running"` or `"exited"`.
std::string to_string(actor_status x);

/// Where a message in flight was found at the cut.
enum class message_location : uint8_t {
  /// Waiting in the receiver's normal-priority queue.
  queue = 0,
  /// Waiting in the receiver's urgent queue (`message_priority::high`).
  urgent = 1,
  /// Skipped by the receiver and stashed for a later behavior.
  stash = 2,
  /// Held by the actor clock (`delayed_send`), not yet delivered.
  clock = 3,
  /// Sent before the sender's cut but delivered after the receiver's cut.
  wire = 4,
};

/// Returns `"queue"`, `"urgent"`, `"stash"`, `"clock"` or `"wire"`.
std::string to_string(message_location x);

/// A request an actor awaited a response for at its cut, with the actor it
/// was sent to.
struct awaited_request {
  /// Request ID (`caf::message_id::integer_value()` of the request).
  uint64_t id = 0;
  /// ID of the actor the request was sent to.
  caf::actor_id target = 0;
  /// Node of the actor the request was sent to.
  std::string target_node;
};

/// @relates awaited_request
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, awaited_request& x) {
  return f(caf::meta::type_name("awaited_request"), x.id, x.target,
           x.target_node);
}

/// One participant as recorded at its cut point.
struct actor_record {
  /// ID of the actor on its node.
  caf::actor_id id = 0;
  /// The actor's node, equal to `caf::to_string(sys.node())` there.
  std::string node;
  /// Type name of the actor (its state's name where known).
  std::string name;
  /// Whether the actor ran or had terminated at its cut.
  actor_status status = actor_status::running;
  /// Rendered exit reason if `status == actor_status::exited`.
  std::string exit_reason;
  /// Boost binary archive of the actor's state (empty for stateless).
  std::vector<char> state;
  /// Human-readable rendering of the state.
  std::string state_text;
  /// Request IDs the actor awaited responses for at its cut.
  std::vector<uint64_t> pending_requests;
  /// The pending requests whose receiver is known (requests sent with the
  /// participant's `request`), each with the actor it awaits: the edges of
  /// the wait-for graph.
  std::vector<awaited_request> awaited;

  /// Restores a recorded state with Boost.Serialization.
  /// @returns `errc::state_mismatch` if the archive cannot be read as `T`.
  template <class T>
  caf::error load_state(T& x) const {
    try {
      std::istringstream in{std::string{state.begin(), state.end()}};
      boost::archive::binary_iarchive ar{in};
      ar >> x;
      return caf::none;
    } catch (std::exception& e) {
      return make_error(errc::state_mismatch,
                        "actor " + std::to_string(id) + ": " + e.what());
    }
  }
};

/// @relates actor_record
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, actor_record& x) {
  // Lengths read from the wire are checked before allocating.
  detail::bounded_bytes state{x.state};
  return f(caf::meta::type_name("actor_record"), x.id, x.node, x.name,
           x.status, x.exit_reason, state, x.state_text,
           x.pending_requests, x.awaited);
}

/// One message that was in a channel at the cut.
struct message_record {
  /// ID of the sending actor (0 for anonymous senders).
  caf::actor_id sender = 0;
  /// Node of the sending actor (empty for anonymous senders).
  std::string sender_node;
  /// ID of the receiving actor.
  caf::actor_id receiver = 0;
  /// Node of the receiving actor.
  std::string receiver_node;
  /// CAF message ID (`caf::message_id::integer_value()`).
  uint64_t mid = 0;
  /// 0 for normal priority, 1 for `message_priority::high`.
  uint8_t priority = 0;
  /// Where the message was found.
  message_location location = message_location::queue;
  /// Whether the sender was a participant (false: external input).
  bool from_participant = true;
  /// The content, serialized with CAF's binary serializer; empty if the
  /// content holds a type the sender's system could not serialize.
  std::vector<char> content;
  /// Human-readable rendering of the content (`caf::to_string`).
  std::string text;

  /// Deserializes the content with the types known to `sys`. Actor handles
  /// in the content resolve to `sys`'s own actors if they still exist (else
  /// to invalid handles); a handle to an actor on another node cannot be
  /// resolved here (CAF 0.17.6 creates proxies only inside actors), so such
  /// content fails with CAF's `no_proxy_registry` in the error's text.
  /// @returns `errc::unknown_type` if the content could not be serialized
  ///          when recorded, holds a type `sys` does not know, or holds a
  ///          handle to an actor on another node.
  caf::expected<caf::message> decode(caf::actor_system& sys) const;
};

/// @relates message_record
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, message_record& x) {
  detail::bounded_bytes content{x.content};
  return f(caf::meta::type_name("message_record"), x.sender, x.sender_node,
           x.receiver, x.receiver_node, x.mid, x.priority, x.location,
           x.from_participant, content, x.text);
}

/// A consistent global snapshot.
struct global_snapshot {
  /// Sequence number of the snapshot at its coordinator.
  uint64_t id = 0;
  /// Node of the coordinator that took the snapshot.
  std::string coordinator_node;
  /// Wall-clock time the snapshot was requested (ms since the Unix epoch).
  uint64_t requested_at_ms = 0;
  /// Wall-clock time the snapshot completed (ms since the Unix epoch).
  uint64_t completed_at_ms = 0;
  /// Whether every expected participant was recorded.
  bool complete = true;
  /// Why the snapshot is incomplete (empty if complete).
  std::string incomplete_reason;
  /// All participants at the cut, each exactly once.
  std::vector<actor_record> actors;
  /// All messages in channels at the cut, each exactly once.
  std::vector<message_record> in_flight;
};

} // namespace caf::snapshot
