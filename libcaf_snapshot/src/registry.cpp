#include "caf/snapshot/detail/registry.hpp"

#include <algorithm>

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"

#include "caf/snapshot/detail/participant_core.hpp"
#include "caf/snapshot/detail/protocol.hpp"

namespace caf::snapshot::detail {

void registry::add(participant_core* who, const participant_core* spawner) {
  caf::actor coordinator;
  uint64_t epoch;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    // Newborns of non-participants start after every activated snapshot:
    // they are not part of any cut taken so far.
    epoch = spawner != nullptr ? spawner->epoch() : latest_;
    who->set_epoch(epoch);
    who->prev_ = nullptr;
    who->next_ = head_;
    if (head_ != nullptr)
      head_->prev_ = who;
    head_ = who;
    ++size_;
    if (epoch > latest_)
      born_ahead_.emplace(who, epoch);
    if (!active_.empty() && epoch < *active_.rbegin())
      coordinator = coordinator_;
  }
  // The parent has not reached its cut for a running snapshot, so neither
  // has its child: the coordinator must wait for it. Sent from the parent's
  // thread, this notice precedes the parent's own report.
  if (coordinator) {
    auto self = caf::actor_cast<caf::actor>(who->self_);
    caf::send_as(self, coordinator, joined_atom::value,
                 caf::actor_cast<caf::strong_actor_ptr>(self), epoch);
  }
}

uint64_t registry::remove(participant_core* who) {
  std::lock_guard<std::mutex> guard{mtx_};
  // `prev_ == who` marks a participant that is not (or no longer) linked.
  if (who->prev_ != who) {
    if (who->prev_ != nullptr)
      who->prev_->next_ = who->next_;
    else
      head_ = who->next_;
    if (who->next_ != nullptr)
      who->next_->prev_ = who->prev_;
    who->prev_ = who;
    who->next_ = nullptr;
    --size_;
    if (!born_ahead_.empty())
      born_ahead_.erase(who);
  }
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
  result.participants.reserve(size_);
  // Every listed participant is alive: it leaves the list (under this
  // mutex) in its cleanup or destructor, before its actor is gone. One that
  // already cut for `id` (early, on a member) still gets listed: the
  // coordinator must wait for its report.
  for (auto x = head_; x != nullptr; x = x->next_) {
    if (!born_ahead_.empty()) {
      auto i = born_ahead_.find(x);
      if (i != born_ahead_.end() && i->second >= id)
        continue;
    }
    result.participants.emplace_back(x->self_->address());
  }
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

size_t registry::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return size_;
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
