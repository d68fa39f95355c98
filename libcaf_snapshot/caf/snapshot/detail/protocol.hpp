// Messages between participants and the coordinator. Internal: users talk
// to the coordinator with `take_atom` only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_control_block.hpp"
#include "caf/atom.hpp"
#include "caf/error.hpp"
#include "caf/meta/type_name.hpp"

#include "caf/snapshot/global_snapshot.hpp"

namespace caf::snapshot::detail {

/// A participant's cut: its record and the messages queued at the cut.
using report_atom = caf::atom_constant<caf::atom("snp_report")>;

/// The messages a participant recorded between its cut and the flush.
using final_atom = caf::atom_constant<caf::atom("snp_final")>;

/// Participant -> coordinator of its node: channel reports wait in the
/// registry's `finals` stack (sent by the participant that made it
/// non-empty).
using drain_atom = caf::atom_constant<caf::atom("snp_drain")>;

/// Member coordinator -> itself: `(settle_atom, uint64_t id)` completes
/// the start of snapshot `id` once everything enqueued before its
/// activation has been handled.
using settle_atom = caf::atom_constant<caf::atom("snp_settle")>;

/// A participant was born before its parent's cut and must take part.
using joined_atom = caf::atom_constant<caf::atom("snp_joined")>;

/// A snapshot's deadline passed.
using deadline_atom = caf::atom_constant<caf::atom("snp_dline")>;

/// Anyone -> coordinator: which protocol version and node are you? The
/// reply is `(uint32_t protocol_version, std::string node)`.
using info_atom = caf::atom_constant<caf::atom("snp_info")>;

/// Anyone -> coordinator: `(fetch_atom, uint64_t id, uint64_t offset)`
/// reads the stored file of snapshot `id` (taken by this coordinator since
/// it started) from `offset`. The reply is `(std::vector<char> chunk,
/// uint64_t file_size)` with at most `fetch_chunk_size` bytes; an empty
/// chunk means `offset` is at the end. Errors: `errc::invalid_argument` for
/// unknown IDs or offsets past the end, `errc::storage_failed` if the file
/// cannot be read.
using fetch_atom = caf::atom_constant<caf::atom("snp_fetch")>;

/// Largest chunk of a snapshot file in one reply to `fetch_atom` (1 MiB).
constexpr uint64_t fetch_chunk_size = uint64_t{1} << 20;

/// Trigger -> coordinator: take a snapshot on behalf of a trigger (a
/// signal, a failed actor on a member) described by the string; the result
/// goes to standard error since nobody waits for it.
using trigger_atom = caf::atom_constant<caf::atom("snp_trig")>;

/// Failing participant -> coordinator: `(post_mortem_atom, id, participants,
/// reason)`: the participant activated snapshot `id` itself, so that it
/// takes its final cut for it; run it like a triggered snapshot.
using post_mortem_atom = caf::atom_constant<caf::atom("snp_pm")>;

/// A participant announces its new epoch to another node: `(old, new]` are
/// the snapshots it just took its cut for (empty at birth).
using notice_atom = caf::atom_constant<caf::atom("snp_notice")>;

// -- between the coordinators of a cluster ------------------------------------

/// Member -> root: join the cluster (protocol version, coordinator, sink,
/// latest snapshot ID of the member).
using join_atom = caf::atom_constant<caf::atom("snp_join")>;

/// Root -> members: the coordinators and sinks of all nodes.
using members_atom = caf::atom_constant<caf::atom("snp_membr")>;

/// Root -> members: start snapshot `id`.
using start_atom = caf::atom_constant<caf::atom("snp_start")>;

/// Any node -> all other nodes: my participants have all cut for `id`;
/// expect this many notices from me.
using cut_done_atom = caf::atom_constant<caf::atom("snp_cutdn")>;

/// Member -> root: a relayed cut report or channel report.
using relay_atom = caf::atom_constant<caf::atom("snp_relay")>;

/// Member -> root: all channels of my participants are recorded for `id`.
using node_done_atom = caf::atom_constant<caf::atom("snp_nodedn")>;

/// Any node -> root, root -> members: snapshot `id` failed.
using abort_atom = caf::atom_constant<caf::atom("snp_abort")>;

/// How far past the latest snapshot started on a node another node's
/// announcements and cut counts may reach: another node can be ahead by the
/// snapshots whose start message is still on its way. Anything further is
/// bogus and dropped (and would make a participant cut for absurd IDs).
constexpr uint64_t max_snapshots_ahead = 1024;

/// Version of the protocol between coordinators. Nodes speaking another
/// version are refused when they join.
constexpr uint32_t protocol_version = 1;

/// One node of a cluster as the coordinators see it.
struct node_info {
  caf::actor coordinator;
  caf::actor sink;
  std::string node;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_info& x) {
  return f(caf::meta::type_name("node_info"), x.coordinator, x.sink, x.node);
}

/// Payload of `report_atom`.
struct cut_report {
  uint64_t snapshot_id = 0;
  caf::strong_actor_ptr self;
  actor_record record;
  std::vector<message_record> queued;
  caf::error failure;
};

/// Payload of `final_atom`.
struct channel_report {
  uint64_t snapshot_id = 0;
  caf::actor_id participant = 0;
  std::vector<message_record> recorded;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cut_report& x) {
  return f(caf::meta::type_name("cut_report"), x.snapshot_id, x.self,
           x.record, x.queued, x.failure);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, channel_report& x) {
  return f(caf::meta::type_name("channel_report"), x.snapshot_id,
           x.participant, x.recorded);
}

} // namespace caf::snapshot::detail
