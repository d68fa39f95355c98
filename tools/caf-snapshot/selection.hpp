// The actor filter shared by the subcommands that render one snapshot:
// `--actor ID` (repeatable, or a comma list) and `--node NODE` (a node or a
// prefix of one, repeatable).
//
// Usage:
//   auto sel = selection::from(parse_args(args, {{"actor", true},
//                                               {"node", true}}));
//   if (sel.matches(rec.id, rec.node)) ...
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "caf/fwd.hpp"

#include "args.hpp"

namespace caf_snapshot_tool {

/// Selects actors by ID and by node.
struct selection {
  /// Selected IDs; empty selects every ID.
  std::unordered_set<caf::actor_id> actor_ids;
  /// Selected node prefixes; empty selects every node.
  std::vector<std::string> nodes;

  /// Whether any filter is set.
  bool filtered() const {
    return !actor_ids.empty() || !nodes.empty();
  }

  /// Whether the actor `id` on `node` passes both filters.
  bool matches(caf::actor_id id, std::string_view node) const;

  /// Reads the options `--actor` and `--node` of `parsed`.
  /// @throws usage_error for IDs that are no numbers and empty nodes.
  static selection from(const parsed_args& parsed);
};

} // namespace caf_snapshot_tool
