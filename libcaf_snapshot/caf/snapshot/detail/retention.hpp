// Keeps the newest N snapshot files of a directory (`snapshot.keep`).
//
// Usage:
//   auto removed = prune_snapshots(default_file_system(), dir, 10, path);
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "caf/expected.hpp"

#include "caf/snapshot/detail/file_system.hpp"

namespace caf::snapshot::detail {

/// Removes the oldest committed snapshot files in `directory` (names
/// `snapshot-<id>-<ms>[-<n>].cafsnap`, ordered by request time `ms`, then
/// ID: IDs restart with each run of a coordinator) until at most `keep`
/// remain. Never removes `just_written`, temporary files or anything else.
/// @returns the removed paths, or `errc::storage_failed` naming the first
///          file that could not be removed (files before it are gone).
caf::expected<std::vector<std::string>>
prune_snapshots(file_system& fs, const std::string& directory, size_t keep,
                const std::string& just_written);

} // namespace caf::snapshot::detail
