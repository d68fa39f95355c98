// The options of `caf-snapshot show` and its JSON renderer (show_json.cpp);
// the text renderer and the command itself live in show.cpp.
#pragma once

#include <cstddef>
#include <limits>
#include <ostream>
#include <string>

#include "caf/snapshot/global_snapshot.hpp"

#include "selection.hpp"
#include "snapshot_index.hpp"

namespace caf_snapshot_tool {

/// Default number of actors, messages per actor, nodes and channels shown.
constexpr size_t show_default_limit = 20;

/// Default number of bytes shown of a state or message text.
constexpr size_t show_default_text_limit = 1000;

/// Stands for "no limit".
constexpr size_t show_unlimited = std::numeric_limits<size_t>::max();

/// The parsed command line of `caf-snapshot show`.
struct show_options {
  /// The snapshot file.
  std::string file;
  /// Which actors (and channels) to show.
  selection select;
  /// Maximum number of actors, messages per actor or channel, nodes and
  /// channels.
  size_t limit = show_default_limit;
  /// Maximum number of bytes of a state or message text.
  size_t text_limit = show_default_text_limit;
  /// Whether to print JSON instead of text.
  bool json = false;
};

/// Prints `snap` (indexed by `idx`) as one JSON document of the schema
/// `caf-snapshot/show` (docs/json.md) to `out`.
void print_show_json(const snapshot_index& idx, const show_options& opts,
                     std::ostream& out);

} // namespace caf_snapshot_tool
