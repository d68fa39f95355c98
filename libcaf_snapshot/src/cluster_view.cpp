#include "caf/snapshot/detail/cluster_view.hpp"

namespace caf::snapshot::detail {

uint64_t cluster_view::remote_epoch(const caf::node_id& node,
                                    caf::actor_id id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = epochs_.find(key{node, id});
  return i != epochs_.end() ? i->second : 0;
}

void cluster_view::announce(const caf::node_id& node, caf::actor_id id,
                            uint64_t epoch) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& x = epochs_[key{node, id}];
  if (epoch > x)
    x = epoch;
}

void cluster_view::forget(const caf::node_id& node) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto i = epochs_.begin(); i != epochs_.end();) {
    if (i->first.node == node)
      i = epochs_.erase(i);
    else
      ++i;
  }
}

std::vector<caf::actor> cluster_view::peer_sinks() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return sinks_;
}

void cluster_view::set_peer_sinks(std::vector<caf::actor> sinks) {
  std::lock_guard<std::mutex> guard{mtx_};
  sinks_ = std::move(sinks);
}

} // namespace caf::snapshot::detail
