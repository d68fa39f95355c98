// Who may stop caf-snapshot's actors. CAF delivers an `exit_msg` from any
// sender, including other nodes and anonymous senders, and one with reason
// `kill` bypasses every exit handler. The coordinator and the notice sink
// are reachable from other nodes (published, or named in announcements),
// so they drop exit messages in `enqueue` unless an actor of their own node
// sent them; the module stops them with a sender.
//
// Usage (in an actor's enqueue override):
//   if (caf::snapshot::detail::is_foreign_exit(*x, node())) {
//     report_dropped_exit("coordinator", *x);
//     return;
//   }
#pragma once

#include "caf/system_messages.hpp"
#include "caf/mailbox_element.hpp"
#include "caf/node_id.hpp"

namespace caf::snapshot::detail {

/// Returns whether `x` holds an exit message not sent by an actor of node
/// `self_node` (anonymous senders count as foreign: a remote anonymous send
/// arrives without a sender).
inline bool is_foreign_exit(const caf::mailbox_element& x,
                            const caf::node_id& self_node) noexcept {
  return x.content().match_elements<caf::exit_msg>()
         && (!x.sender || x.sender->node() != self_node);
}

/// Prints one line saying that `who` dropped the exit message `x`.
void report_dropped_exit(const char* who, const caf::mailbox_element& x);

} // namespace caf::snapshot::detail
