// Snapshots across several actor systems connected by CAF's middleman.
//
// Usage:
//   // node A (the root: it numbers and stores the cluster's snapshots)
//   caf::expected<uint16_t> port = caf::snapshot::publish(sys_a, 0);
//   // node B
//   caf::error err = caf::snapshot::join(sys_b, "127.0.0.1", *port);
//   // from now on, take_atom at either coordinator snapshots both nodes
//
// Both systems need `cfg.load<caf::io::middleman>()` and
// `cfg.load<caf::snapshot::module>()`.
#pragma once

#include <cstdint>
#include <string>

#include "caf/actor_system.hpp"
#include "caf/error.hpp"
#include "caf/expected.hpp"

namespace caf::snapshot {

/// Makes the coordinator of `sys` reachable for `join` (and for
/// `caf-snapshot take --connect`) at `address:port`. Port 0 picks a free
/// port. Binds 127.0.0.1 unless told otherwise.
/// @returns the port, or an error if the middleman or the snapshot module
///          is not loaded or the port cannot be opened.
caf::expected<uint16_t> publish(caf::actor_system& sys, uint16_t port,
                                const std::string& address = "127.0.0.1");

/// Joins the cluster whose root published its coordinator at `host:port`.
/// Blocks until the root accepted (or refused) the node.
/// @returns `caf::none`, `errc::incompatible_version` if the root speaks
///          another snapshot protocol, or the middleman's error.
caf::error join(caf::actor_system& sys, const std::string& host,
                uint16_t port);

} // namespace caf::snapshot
