#include "wait_for_graph.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <limits>
#include <unordered_set>

#include "caf/message_id.hpp"

namespace caf_snapshot_tool {

namespace cs = caf::snapshot;

namespace {

constexpr size_t npos = std::numeric_limits<size_t>::max();

// A request message: its sender and its request number.
struct request_key {
  actor_key sender;
  uint64_t number;

  bool operator==(const request_key& other) const {
    return number == other.number && sender == other.sender;
  }
};

struct request_key_hash {
  size_t operator()(const request_key& x) const {
    return hash_combine(actor_key_hash{}(x.sender),
                        std::hash<uint64_t>{}(x.number));
  }
};

} // namespace

wait_for_graph::wait_for_graph(const cs::global_snapshot& snap) {
  // The requests still in flight, by sender and number (their responses are
  // no evidence of waiting: the sender of a response waits for nothing).
  std::unordered_map<request_key, const cs::message_record*, request_key_hash>
    requests;
  for (auto& m : snap.in_flight)
    if (caf::message_id{m.mid}.is_request()
        && (m.sender != 0 || !m.sender_node.empty()))
      requests.emplace(request_key{actor_key{m.sender_node, m.sender},
                                   request_number(m.mid)},
                       &m);
  auto find_request = [&](const actor_key& from, uint64_t number) {
    auto i = requests.find(request_key{from, number});
    return i != requests.end() ? i->second : nullptr;
  };
  keys_.reserve(snap.actors.size());
  vertices_.reserve(snap.actors.size());
  std::unordered_set<uint64_t> known;
  for (auto& a : snap.actors) {
    actor_key self{a.node, a.id};
    vertex(self);
    if (a.awaited.empty() && a.pending_requests.empty())
      continue;
    known.clear();
    for (auto& x : a.awaited) {
      auto number = request_number(x.id);
      if (!known.insert(number).second)
        continue;
      wait_edge edge{
        self, actor_key{x.target_node, x.target}, number, {}, false};
      if (auto m = find_request(self, number);
          m != nullptr && actor_key{m->receiver_node, m->receiver} == edge.to)
        edge.location = m->location;
      add_edge(edge);
    }
    for (auto id : a.pending_requests) {
      auto number = request_number(id);
      if (!known.insert(number).second)
        continue;
      if (auto m = find_request(self, number))
        add_edge(wait_edge{self, actor_key{m->receiver_node, m->receiver},
                           number, m->location, true});
      else
        unresolved_.push_back(unresolved_request{self, number});
    }
  }
  // Visit successors by key, so that the cycles shown do not depend on the
  // order of the records in the file.
  for (auto& xs : out_)
    std::sort(xs.begin(), xs.end(), [this](size_t x, size_t y) {
      auto& kx = keys_[targets_[x]];
      auto& ky = keys_[targets_[y]];
      if (kx != ky)
        return kx < ky;
      return edges_[x].request < edges_[y].request;
    });
}

size_t wait_for_graph::vertex(const actor_key& x) {
  auto [i, added] = vertices_.emplace(x, keys_.size());
  if (added) {
    keys_.push_back(x);
    out_.emplace_back();
  }
  return i->second;
}

void wait_for_graph::add_edge(wait_edge x) {
  auto from = vertex(x.from);
  auto to = vertex(x.to);
  out_[from].push_back(edges_.size());
  targets_.push_back(to);
  edges_.push_back(std::move(x));
}

std::vector<deadlock> wait_for_graph::deadlocks() const {
  auto n = keys_.size();
  // Tarjan's algorithm with an explicit stack of calls: a chain of 100,000
  // waiting actors must not overflow the thread's stack.
  std::vector<size_t> index(n, npos);
  std::vector<size_t> low(n, 0);
  std::vector<size_t> component(n, npos);
  std::vector<bool> on_stack(n, false);
  std::vector<size_t> stack;
  std::vector<std::vector<size_t>> components;
  struct frame {
    size_t vertex;
    size_t next_edge;
  };
  std::vector<frame> calls;
  size_t counter = 0;
  auto visit = [&](size_t v) {
    index[v] = low[v] = counter++;
    stack.push_back(v);
    on_stack[v] = true;
    calls.push_back(frame{v, 0});
  };
  for (size_t root = 0; root < n; ++root) {
    if (index[root] != npos)
      continue;
    visit(root);
    while (!calls.empty()) {
      auto v = calls.back().vertex;
      auto& next = calls.back().next_edge;
      if (next < out_[v].size()) {
        auto w = targets_[out_[v][next++]];
        if (index[w] == npos)
          visit(w); // invalidates `next`
        else if (on_stack[w])
          low[v] = std::min(low[v], index[w]);
        continue;
      }
      calls.pop_back();
      if (!calls.empty()) {
        auto u = calls.back().vertex;
        low[u] = std::min(low[u], low[v]);
      }
      if (low[v] != index[v])
        continue;
      std::vector<size_t> members;
      size_t w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        component[w] = components.size();
        members.push_back(w);
      } while (w != v);
      components.push_back(std::move(members));
    }
  }
  // Each component with a cycle is one deadlock.
  auto by_key = [this](size_t x, size_t y) { return keys_[x] < keys_[y]; };
  auto requests_between = [this](size_t from, size_t to) {
    std::vector<uint64_t> result;
    for (auto e : out_[from])
      if (targets_[e] == to)
        result.push_back(edges_[e].request);
    std::sort(result.begin(), result.end());
    result.erase(std::unique(result.begin(), result.end()), result.end());
    return result;
  };
  std::vector<deadlock> result;
  std::vector<size_t> parent(n, npos);
  for (size_t c = 0; c < components.size(); ++c) {
    auto& members = components[c];
    auto start = *std::min_element(members.begin(), members.end(), by_key);
    std::vector<size_t> cycle;
    if (members.size() == 1) {
      if (requests_between(start, start).empty())
        continue;
      cycle.push_back(start);
    } else {
      // Breadth-first search from `start` within the component for the
      // shortest way back to `start`; self-loops are no way anywhere.
      std::vector<size_t> touched{start};
      std::deque<size_t> queue{start};
      parent[start] = start;
      size_t last = npos;
      while (!queue.empty() && last == npos) {
        auto u = queue.front();
        queue.pop_front();
        for (auto e : out_[u]) {
          auto w = targets_[e];
          if (w == u || component[w] != c)
            continue;
          if (w == start) {
            last = u;
            break;
          }
          if (parent[w] == npos) {
            parent[w] = u;
            touched.push_back(w);
            queue.push_back(w);
          }
        }
      }
      // A strongly connected component always leads back to `start`.
      for (auto v = last; v != start; v = parent[v])
        cycle.push_back(v);
      cycle.push_back(start);
      std::reverse(cycle.begin(), cycle.end());
      for (auto v : touched)
        parent[v] = npos;
    }
    deadlock d;
    for (size_t i = 0; i < cycle.size(); ++i) {
      d.cycle.push_back(keys_[cycle[i]]);
      d.requests.push_back(
        requests_between(cycle[i], cycle[(i + 1) % cycle.size()]));
    }
    std::vector<size_t> others;
    std::unordered_set<size_t> on_cycle{cycle.begin(), cycle.end()};
    for (auto v : members)
      if (on_cycle.count(v) == 0)
        others.push_back(v);
    std::sort(others.begin(), others.end(), by_key);
    for (auto v : others)
      d.others.push_back(keys_[v]);
    result.push_back(std::move(d));
  }
  std::sort(result.begin(), result.end(),
            [](const deadlock& x, const deadlock& y) {
              return x.cycle.front() < y.cycle.front();
            });
  return result;
}

} // namespace caf_snapshot_tool
