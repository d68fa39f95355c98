// The snapshot coordinator: triggers cuts, collects the records of every
// participant and stores each snapshot as one file.
//
// Protocol (pseudo-code of its interface):
//   take_atom                -> snapshot_info | error
//   (cancel_atom)            -> uint64_t (number of snapshots cancelled)
//   (cancel_atom, uint64_t)  -> () | error
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

/// Cancels pending snapshots: `(cancel_atom)` all of them (the reply is how
/// many), `(cancel_atom, id)` one (the reply is empty, or
/// `errc::invalid_argument` if it is not pending). Their requesters get
/// `errc::cancelled`; participants stop recording, the temporary file is
/// removed. On a cluster member, cancel at the root.
using cancel_atom = caf::atom_constant<caf::atom("snp_cancel")>;

/// Returns the coordinator of `sys`, or an invalid handle if the module is
/// not loaded (requests to it fail at once with CAF's invalid-actor error).
caf::actor coordinator(const caf::actor_system& sys);

namespace detail {

/// Spawns the coordinator actor of `mod` (called by the module); `sink`
/// receives other nodes' epoch announcements.
caf::actor spawn_coordinator(module& mod, caf::actor sink);

} // namespace detail

} // namespace caf::snapshot
