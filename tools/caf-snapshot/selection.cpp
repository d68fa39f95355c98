#include "selection.hpp"

#include "command.hpp"

namespace caf_snapshot_tool {

bool selection::matches(caf::actor_id id, std::string_view node) const {
  if (!actor_ids.empty() && actor_ids.count(id) == 0)
    return false;
  if (nodes.empty())
    return true;
  for (auto& x : nodes)
    if (node.substr(0, x.size()) == x)
      return true;
  return false;
}

selection selection::from(const parsed_args& parsed) {
  selection result;
  for (auto& value : parsed.values("actor")) {
    size_t pos = 0;
    do {
      auto comma = value.find(',', pos);
      auto item = value.substr(
        pos, comma == std::string::npos ? std::string::npos : comma - pos);
      result.actor_ids.insert(parse_uint(item, "--actor"));
      pos = comma == std::string::npos ? comma : comma + 1;
    } while (pos != std::string::npos);
  }
  for (auto& value : parsed.values("node")) {
    if (value.empty())
      throw usage_error("--node needs a node (or a prefix of one)");
    result.nodes.push_back(value);
  }
  return result;
}

} // namespace caf_snapshot_tool
