// Reads a stored snapshot file back into memory. Needs no actor system.
//
// Usage:
//   std::string path = "snaps/snapshot-00000001-1700000000000.cafsnap";
//   caf::expected<caf::snapshot::global_snapshot> snap
//     = caf::snapshot::load(path);
//   if (!snap) {
//     std::cerr << caf::snapshot::render(snap.error()) << '\n';
//     return;
//   }
//   for (const caf::snapshot::actor_record& a : snap->actors)
//     std::cout << a.id << '@' << a.node << ": " << a.state_text << '\n';
#pragma once

#include <string>

#include "caf/expected.hpp"

#include "caf/snapshot/global_snapshot.hpp"

namespace caf::snapshot {

/// Loads the snapshot stored at `path`. Verifies magic number, format
/// version, every record checksum, the record counts and the whole-file
/// checksum. Never crashes, hangs or allocates much more memory than the
/// file's size on damaged, truncated or hostile input.
/// @returns the snapshot or an error of the `snapshot` category:
///          - `errc::cannot_open` if the file is missing, unreadable or not
///            a regular file (context: path and reason);
///          - `errc::not_a_snapshot` if the magic number does not match;
///          - `errc::unsupported_version` for a format version this library
///            does not read;
///          - `errc::file_damaged` for truncation, checksum mismatches,
///            impossible lengths or values (context: path, record index and
///            byte offset).
caf::expected<global_snapshot> load(const std::string& path);

} // namespace caf::snapshot
