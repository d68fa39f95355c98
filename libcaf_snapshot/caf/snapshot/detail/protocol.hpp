// Messages between participants and the coordinator. Internal: users talk
// to the coordinator with `take_atom` only.
#pragma once

#include <cstdint>
#include <vector>

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

/// A participant was born before its parent's cut and must take part.
using joined_atom = caf::atom_constant<caf::atom("snp_joined")>;

/// A snapshot's deadline passed.
using deadline_atom = caf::atom_constant<caf::atom("snp_dline")>;

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
