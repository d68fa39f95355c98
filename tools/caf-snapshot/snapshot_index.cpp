#include "snapshot_index.hpp"

#include <algorithm>

#include "caf/message_id.hpp"

namespace caf_snapshot_tool {

uint64_t request_number(uint64_t message_id) {
  return caf::message_id{message_id}.request_id().integer_value();
}

size_t hash_combine(size_t seed, size_t x) {
  return seed ^ (x + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2));
}

snapshot_index::snapshot_index(const caf::snapshot::global_snapshot& snap)
  : snap_(snap) {
  std::unordered_set<std::string_view> nodes;
  recorded_.reserve(snap.actors.size());
  for (auto& a : snap.actors) {
    recorded_.insert(actor_key{a.node, a.id});
    if (nodes.insert(a.node).second)
      nodes_.push_back(a.node);
    ++actors_per_node_[a.node];
  }
  waiting_.reserve(snap.actors.size());
  for (size_t i = 0; i < snap.in_flight.size(); ++i) {
    auto& m = snap.in_flight[i];
    nodes.insert(m.receiver_node);
    if (m.sender != 0 || !m.sender_node.empty())
      nodes.insert(m.sender_node);
    actor_key to{m.receiver_node, m.receiver};
    waiting_[to].push_back(i);
    if (recorded_.count(to) == 0)
      ++unrecorded_receivers_;
    auto loc = static_cast<size_t>(m.location);
    if (loc < by_location_.size())
      ++by_location_[loc];
    if (!m.from_participant)
      ++external_;
  }
  std::sort(nodes_.begin(), nodes_.end());
  single_node_ = nodes.size() <= 1;
}

size_t snapshot_index::actors_on(std::string_view node) const {
  auto i = actors_per_node_.find(node);
  return i != actors_per_node_.end() ? i->second : 0;
}

const std::vector<size_t>& snapshot_index::waiting(const actor_key& x) const {
  static const std::vector<size_t> none;
  auto i = waiting_.find(x);
  return i != waiting_.end() ? i->second : none;
}

namespace {

struct channel_key_hash {
  size_t operator()(const std::pair<actor_key, actor_key>& x) const {
    actor_key_hash h;
    return hash_combine(h(x.first), h(x.second));
  }
};

} // namespace

std::vector<channel> snapshot_index::channels(const selection& sel) const {
  std::unordered_map<std::pair<actor_key, actor_key>, size_t, channel_key_hash>
    positions;
  std::vector<channel> result;
  for (size_t i = 0; i < snap_.in_flight.size(); ++i) {
    auto& m = snap_.in_flight[i];
    if (sel.filtered() && !sel.matches(m.sender, m.sender_node)
        && !sel.matches(m.receiver, m.receiver_node))
      continue;
    actor_key from{m.sender_node, m.sender};
    actor_key to{m.receiver_node, m.receiver};
    auto [pos, added] = positions.emplace(std::make_pair(from, to),
                                          result.size());
    if (added)
      result.push_back(channel{from, to, {}, 0});
    auto& ch = result[pos->second];
    ch.messages.push_back(i);
    if (!m.from_participant)
      ++ch.external;
  }
  std::sort(result.begin(), result.end(),
            [](const channel& x, const channel& y) {
              if (x.messages.size() != y.messages.size())
                return x.messages.size() > y.messages.size();
              if (x.from != y.from)
                return x.from < y.from;
              return x.to < y.to;
            });
  return result;
}

} // namespace caf_snapshot_tool
