// Loads the snapshot file a subcommand was given and reports a failure the
// way every subcommand does: as one escaped line on stderr.
//
// Usage:
//   auto snap = load_or_report(opts.file);
//   if (!snap)
//     return exit_bad_file;
#pragma once

#include <optional>
#include <string>

#include "caf/snapshot/global_snapshot.hpp"

namespace caf_snapshot_tool {

/// Loads the snapshot at `path`; on failure prints the error as one line on
/// stderr and returns nothing.
std::optional<caf::snapshot::global_snapshot>
load_or_report(const std::string& path);

} // namespace caf_snapshot_tool
