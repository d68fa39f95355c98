// Error codes of caf-snapshot, registered with CAF as the error category
// `snapshot`.
//
// Usage:
//   caf::error err = caf::snapshot::make_error(caf::snapshot::errc::timed_out,
//                                              "waited for actor 42");
//   std::cout << sys.render(err);  // "snapshot: timed_out (waited for ...)"
#pragma once

#include <cstdint>
#include <string>

#include "caf/atom.hpp"
#include "caf/error.hpp"

namespace caf::snapshot {

/// Category atom under which caf-snapshot errors are registered.
constexpr caf::atom_value error_category = caf::atom("snapshot");

/// Everything that can go wrong when taking, storing or loading snapshots.
/// Numbers are stable: they are stored in files and sent between nodes.
enum class errc : uint8_t {
  /// Not an error.
  none = 0,
  /// The snapshot did not complete within `snapshot.timeout`. The context
  /// names what the coordinator still waited for. Retrying can help.
  timed_out = 1,
  /// A participant's state could not be serialized (its `serialize` threw).
  /// The context names the actor. Retrying helps only if the state changes.
  state_not_serializable = 2,
  /// Writing the snapshot file failed (disk full, permissions, I/O error).
  /// The context holds the path and the system's reason. Retrying can help
  /// once the cause is removed.
  storage_failed = 3,
  /// A snapshot file is damaged: checksum mismatch, truncation, impossible
  /// sizes. Retrying does not help.
  file_damaged = 4,
  /// A message holds a type that the actor system does not know, so it
  /// cannot be decoded. Register the type and retry.
  unknown_type = 5,
  /// The file is not a caf-snapshot file (wrong magic number).
  not_a_snapshot = 6,
  /// The file was written by an unsupported format version.
  unsupported_version = 7,
  /// A participant uses CAF streams, which snapshots do not capture.
  streams_unsupported = 8,
  /// The snapshot module is not loaded into this actor system.
  module_not_loaded = 9,
  /// An argument or option has an invalid value.
  invalid_argument = 10,
  /// The file could not be opened or read.
  cannot_open = 11,
  /// The recorded state cannot be loaded into the given type.
  state_mismatch = 12,
  /// The actor system shut down before the snapshot completed.
  shutting_down = 13,
  /// A node speaks another version of the snapshot protocol and was refused.
  /// Retrying does not help; upgrade one side.
  incompatible_version = 14,
  /// A node of the cluster was lost (shutdown, crash, disconnect). The
  /// context names it. Retrying helps: later snapshots leave it out.
  node_lost = 15,
  /// The snapshot was cancelled (`cancel_atom`) before it was stored.
  cancelled = 16,
  /// A configured limit (`snapshot.max-bytes`, `snapshot.max-participants`,
  /// `snapshot.max-wire-bytes`) was exceeded; the context names the limit,
  /// its value and what exceeded it. Raise the limit or shrink the system.
  limit_exceeded = 17,
};

/// Returns the enumerator name of `x`, e.g., `"timed_out"`.
std::string to_string(errc x);

/// Creates an error of the `snapshot` category.
caf::error make_error(errc x);

/// Creates an error of the `snapshot` category with a context string.
caf::error make_error(errc x, std::string context);

/// Renders any error produced by caf-snapshot without an actor system,
/// e.g., `"snapshot: file_damaged (checksum mismatch in record 3)"`.
std::string render(const caf::error& x);

} // namespace caf::snapshot
