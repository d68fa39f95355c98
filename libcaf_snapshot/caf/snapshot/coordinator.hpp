// The snapshot coordinator: triggers cuts, collects the records of every
// participant and stores each snapshot as one file.
//
// Protocol (pseudo-code of its interface):
//   take_atom -> snapshot_info | error
//
// Usage:
//   auto coord = caf::snapshot::coordinator(sys);
//   self->request(coord, 30s, caf::snapshot::take_atom::value)
//     .receive([](caf::snapshot::snapshot_info& info) { ... },
//              [](caf::error& err) { ... });
#pragma once

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/atom.hpp"

#include "caf/snapshot/module.hpp"

namespace caf::snapshot {

/// Requests a snapshot; the coordinator replies with `snapshot_info` or a
/// `caf::error` of category `snapshot`.
using take_atom = caf::atom_constant<caf::atom("snp_take")>;

/// Returns the coordinator of `sys`, or an invalid handle if the module is
/// not loaded (requests to it fail at once with CAF's invalid-actor error).
caf::actor coordinator(const caf::actor_system& sys);

namespace detail {

/// Spawns the coordinator actor of `mod` (called by the module); `sink`
/// receives other nodes' epoch announcements.
caf::actor spawn_coordinator(module& mod, caf::actor sink);

} // namespace detail

} // namespace caf::snapshot
