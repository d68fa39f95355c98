#include "mailbox_counts.hpp"

namespace caf_snapshot_tool {

uint64_t total(const location_counts& xs) {
  uint64_t result = 0;
  for (auto x : xs)
    result += x;
  return result;
}

std::unordered_map<actor_key, location_counts, actor_key_hash>
count_mailboxes(const caf::snapshot::global_snapshot& snap) {
  std::unordered_map<actor_key, location_counts, actor_key_hash> result;
  for (auto& m : snap.in_flight) {
    auto loc = location_index(m.location);
    if (loc < num_locations) // the loader checks the range already
      ++result[actor_key{m.receiver_node, m.receiver}][loc];
  }
  return result;
}

} // namespace caf_snapshot_tool
