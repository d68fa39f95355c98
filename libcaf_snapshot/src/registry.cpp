#include "caf/snapshot/detail/registry.hpp"

#include <algorithm>

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"

#include "caf/snapshot/detail/protocol.hpp"

namespace caf::snapshot::detail {

uint64_t registry::add(const caf::actor_addr& who,
                       const uint64_t* parent_epoch) {
  caf::actor coordinator;
  uint64_t epoch;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    // Newborns of non-participants start after every activated snapshot:
    // they are not part of any cut taken so far.
    epoch = parent_epoch != nullptr ? *parent_epoch : latest_;
    members_.emplace(who.id(), member{who, epoch});
    if (!active_.empty() && epoch < *active_.rbegin())
      coordinator = coordinator_;
  }
  // The parent has not reached its cut for a running snapshot, so neither
  // has its child: the coordinator must wait for it. Sent from the parent's
  // thread, this notice precedes the parent's own report.
  if (coordinator)
    caf::send_as(caf::actor_cast<caf::actor>(who), coordinator,
                 joined_atom::value,
                 caf::actor_cast<caf::strong_actor_ptr>(who), epoch);
  return epoch;
}

uint64_t registry::remove(caf::actor_id who) {
  std::lock_guard<std::mutex> guard{mtx_};
  members_.erase(who);
  return active_.empty() ? 0 : *active_.rbegin();
}

uint64_t registry::highest_active() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return active_.empty() ? 0 : *active_.rbegin();
}

registry::activation registry::activate() {
  std::lock_guard<std::mutex> guard{mtx_};
  return activate_locked(latest_ + 1);
}

std::optional<registry::activation> registry::activate_if_idle() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (member_ || !active_.empty())
    return std::nullopt;
  return activate_locked(latest_ + 1);
}

void registry::set_member(bool value) {
  std::lock_guard<std::mutex> guard{mtx_};
  member_ = value;
}

bool registry::is_member() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return member_;
}

registry::activation registry::activate(uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  return activate_locked(id);
}

registry::activation registry::activate_locked(uint64_t id) {
  activation result;
  result.id = id;
  latest_ = std::max(latest_, id);
  active_.insert(id);
  update_word_locked();
  result.participants.reserve(members_.size());
  for (auto& kvp : members_)
    if (kvp.second.first_epoch < id)
      result.participants.emplace_back(kvp.second.addr);
  return result;
}

void registry::raise_latest(uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  latest_ = std::max(latest_, id);
  update_word_locked();
}

uint64_t registry::latest() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return latest_;
}

void registry::close(uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  active_.erase(id);
  update_word_locked();
}

bool registry::contains(caf::actor_id who) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return members_.count(who) != 0;
}

size_t registry::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return members_.size();
}

caf::actor registry::coordinator() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return coordinator_;
}

void registry::set_coordinator(caf::actor coordinator) {
  std::lock_guard<std::mutex> guard{mtx_};
  coordinator_ = std::move(coordinator);
}

void registry::update_word_locked() noexcept {
  word_.store((latest_ << 1) | (active_.empty() ? 0u : 1u),
              std::memory_order_seq_cst);
}

} // namespace caf::snapshot::detail
