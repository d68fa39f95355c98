#include "actor_labels.hpp"

#include "format.hpp"

namespace caf_snapshot_tool {

void actor_labels::add(const caf::snapshot::global_snapshot& snap) {
  names_.reserve(names_.size() + snap.actors.size());
  for (auto& a : snap.actors)
    names_.emplace(actor_key{a.node, a.id}, a.name);
}

std::string actor_labels::operator()(const actor_key& x) const {
  if (x.id == 0 && x.node.empty())
    return "anonymous";
  auto i = names_.find(x);
  auto result = std::to_string(x.id);
  result += '(';
  result += i != names_.end() ? printable(i->second, max_len_) : "?";
  result += '@';
  result += printable(x.node, max_len_);
  result += ')';
  return result;
}

} // namespace caf_snapshot_tool
