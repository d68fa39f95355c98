// A mailbox element that carries caf-snapshot's colour (the sender's epoch)
// or a control message (marker, flush). Only created while a snapshot runs,
// for delayed sends of participants, and for control traffic.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <typeinfo>

#include "caf/actor_clock.hpp"
#include "caf/actor_control_block.hpp"
#include "caf/mailbox_element.hpp"
#include "caf/message.hpp"
#include "caf/message_id.hpp"

namespace caf::snapshot::detail {

/// Colour of messages that non-participants sent while a snapshot ran.
constexpr uint64_t external_colour = std::numeric_limits<uint64_t>::max();

/// Kinds of control elements the coordinator sends to participants.
enum class control_kind : uint8_t {
  /// An application message, not control traffic.
  none,
  /// Asks the receiver to take its cut for snapshot `snapshot_id`.
  marker,
  /// Tells the receiver that all messages of colour < `snapshot_id` sent to
  /// it are ahead of this element in its queue of the same priority.
  flush,
  /// A participant's `delayed_send` to another node, due now: the
  /// participant sends it on, so that it leaves with its current epoch.
  relay,
};

/// Shared between a participant that issued a `delayed_send` and the element
/// in the actor clock. Exactly one side decides where the message belongs:
/// the receiver when it first sees the element (then it is handled or
/// recorded by the receiver like any message), or the sender at its cut for
/// snapshot k (then it is in flight for k, and the receiver takes its cut
/// for k before handling it, as if the message had colour k).
struct delayed_token {
  /// The receiver has seen the element.
  static constexpr uint64_t observed = std::numeric_limits<uint64_t>::max();

  /// 0: in the clock; `observed`; otherwise the highest snapshot ID for
  /// which the sender recorded the message at its cut.
  std::atomic<uint64_t> state{0};
  caf::message content;
  caf::message_id mid;
  caf::actor_id receiver = 0;
  std::string receiver_node;
  /// For messages to other nodes: the receiver and the due time (the
  /// message travels through its sender, see `control_kind::relay`).
  caf::strong_actor_ptr relay_to;
  caf::actor_clock::time_point due;

  /// Marks the token as observed by the receiver and returns the highest
  /// snapshot ID the sender recorded it for (0 if none).
  uint64_t observe() noexcept {
    auto prev = state.exchange(observed, std::memory_order_acq_rel);
    return prev == observed ? 0 : prev;
  }

  /// Called by the sender at its cut for snapshot `id`. Returns whether the
  /// sender must record the message (it was still in the clock).
  bool capture(uint64_t id) noexcept {
    auto cur = state.load(std::memory_order_acquire);
    while (cur != observed && cur < id)
      if (state.compare_exchange_weak(cur, id, std::memory_order_acq_rel))
        return true;
    return false;
  }
};

using delayed_token_ptr = std::shared_ptr<delayed_token>;

/// A mailbox element with a colour and an optional control payload.
class tagged_element final : public caf::mailbox_element {
public:
  tagged_element(caf::strong_actor_ptr sender, caf::message_id mid,
                 forwarding_stack stages, caf::message content,
                 uint64_t colour);

  ~tagged_element() override;

  caf::type_erased_tuple& content() override;

  const caf::type_erased_tuple& content() const override;

  caf::message move_content_to_message() override;

  caf::message copy_content_to_message() const override;

  /// Epoch of the sender when it sent the message, or `external_colour`.
  uint64_t colour;

  /// Non-`none` for control traffic.
  control_kind control = control_kind::none;

  /// Snapshot ID of a control element.
  uint64_t snapshot_id = 0;

  /// Set for `delayed_send` messages from participants to participants.
  delayed_token_ptr token;

  /// Highest snapshot the sender recorded this delayed message for, as seen
  /// by the receiver when it first observed the token (owner thread only).
  mutable uint64_t recorded_by_sender = 0;

private:
  caf::message msg_;
};

/// Cheap test on the consume path: compares type-info addresses only. The
/// type info of `tagged_element` is emitted once, next to its key function
/// (the out-of-line destructor), hence its address is unique.
inline tagged_element* as_tagged(caf::mailbox_element& x) noexcept {
  return &typeid(x) == &typeid(tagged_element)
           ? static_cast<tagged_element*>(&x)
           : nullptr;
}

/// @copydoc as_tagged
inline const tagged_element*
as_tagged(const caf::mailbox_element& x) noexcept {
  return &typeid(x) == &typeid(tagged_element)
           ? static_cast<const tagged_element*>(&x)
           : nullptr;
}

/// Creates a control element.
caf::mailbox_element_ptr make_control(control_kind kind, uint64_t id,
                                      caf::message_priority prio);

/// Re-packs `x` as a tagged element with `colour`, keeping sender, message
/// ID, forwarding stages and content.
caf::mailbox_element_ptr stamp(caf::mailbox_element_ptr x, uint64_t colour);

} // namespace caf::snapshot::detail
