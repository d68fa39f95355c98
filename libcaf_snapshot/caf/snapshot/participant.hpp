// The mixin that makes an actor take part in snapshots.
//
// Usage (class-based participants):
//   class worker : public caf::snapshot::participant<caf::event_based_actor> {
//   public:
//     using super = caf::snapshot::participant<caf::event_based_actor>;
//     explicit worker(caf::actor_config& cfg) : super(cfg) {}
//     caf::behavior make_behavior() override { ... }
//   protected:
//     void save_state(std::vector<char>& bytes, std::string& text) override {
//       caf::snapshot::save_boost(count_, bytes, text);
//     }
//   private:
//     int count_ = 0;  // with a Boost `serialize` (int has one)
//   };
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "caf/actor_cast.hpp"
#include "caf/actor_config.hpp"
#include "caf/execution_unit.hpp"
#include "caf/invoke_message_result.hpp"
#include "caf/mailbox_element.hpp"
#include "caf/make_message.hpp"
#include "caf/message_priority.hpp"
#include "caf/resumable.hpp"

#include "caf/snapshot/detail/participant_core.hpp"
#include "caf/snapshot/global_snapshot.hpp"

namespace caf::snapshot {

/// Gives `Base` (an event-based actor type: `caf::event_based_actor`, a typed
/// interface's `base`, or a `caf::stateful_actor`) marker handling. Control
/// traffic never reaches the actor's behavior.
///
/// The marker handler is a member, not a second base class: CAF's scheduler
/// performs a `dynamic_cast` per resume, and multiple inheritance makes it
/// markedly slower (measured with callgrind).
///
/// Thread safety: as any CAF actor; the overrides run where CAF calls them.
template <class Base>
class participant : public Base {
public:
  // -- member types -----------------------------------------------------------

  using super = Base;

  using scan_fun = detail::participant_core::scan_fun;

  // -- constructors, destructors, and assignment operators --------------------

  template <class... Ts>
  explicit participant(caf::actor_config& cfg, Ts&&... xs)
      : Base(cfg, std::forward<Ts>(xs)...), core_(this) {
    this->setf(detail::participant_flag);
  }

  // -- overrides of CAF's interception points --------------------------------

  using Base::enqueue;

  /// Adds the sender's colour while a snapshot runs; otherwise forwards the
  /// element untouched (no lock, no atomic read-modify-write).
  void enqueue(caf::mailbox_element_ptr x, caf::execution_unit* eu) override {
    if (core_.must_stamp())
      x = core_.stamp_incoming(std::move(x));
    Base::enqueue(std::move(x), eu);
  }

  /// Handles control traffic and records channel state; everything else
  /// reaches `Base` unchanged.
  caf::invoke_message_result consume(caf::mailbox_element& x) override {
    if (detail::as_tagged(x) == nullptr && !core_.recording()) {
      auto result = Base::consume(x);
      core_.track_stash(x, result == caf::invoke_message_result::skipped);
      return result;
    }
    return consume_slow(x);
  }

  /// Marks the thread as running this participant, so that sends made
  /// anywhere in the actor (handlers, initialization, cleanup) carry its
  /// colour.
  caf::resumable::resume_result resume(caf::execution_unit* eu,
                                       size_t max_throughput) override {
    detail::participant_core::scope guard{&core_};
    return Base::resume(eu, max_throughput);
  }

  /// Enters the registry, then launches as `Base` does. CAF calls this on
  /// the spawning thread right after construction; a constructor must not
  /// publish `this` (the most derived part is not built yet).
  void launch(caf::execution_unit* eu, bool lazy, bool hide) override {
    core_.enter_registry();
    Base::launch(eu, lazy, hide);
  }

  bool cleanup(caf::error&& reason, caf::execution_unit* host) override {
    detail::participant_core::scope guard{&core_};
    core_.on_terminate(reason);
    return Base::cleanup(std::move(reason), host);
  }

  // -- sending ----------------------------------------------------------------

  using Base::delayed_send;

  /// Like CAF's `delayed_send`; a message still in the actor clock at the
  /// sender's cut is recorded as in flight (location `clock`).
  template <caf::message_priority P = caf::message_priority::normal,
            class Rep = int, class Period = std::ratio<1>,
            class Dest = caf::actor, class... Ts>
  void delayed_send(const Dest& dest,
                    std::chrono::duration<Rep, Period> rel_timeout,
                    Ts&&... xs) {
    static_assert(sizeof...(Ts) > 0, "no message to send");
    auto& clock = this->system().clock();
    core_.schedule_tracked(clock.now() + rel_timeout,
                           caf::actor_cast<caf::strong_actor_ptr>(dest),
                           caf::make_message_id(P),
                           caf::make_message(std::forward<Ts>(xs)...));
  }

  /// Like CAF's `request` (which it hides, so that every overload comes
  /// here); the participant also remembers the receiver, so that a snapshot
  /// names whom the actor awaits (`actor_record::awaited`).
  template <caf::message_priority P = caf::message_priority::normal,
            class Handle = caf::actor, class Timeout, class... Ts>
  auto request(const Handle& dest, const Timeout& timeout, Ts&&... xs) {
    auto result = Base::template request<P>(dest, timeout,
                                            std::forward<Ts>(xs)...);
    core_.note_request(result.id().integer_value(),
                       caf::actor_cast<caf::strong_actor_ptr>(dest));
    return result;
  }

  using Base::scheduled_send;

  /// Like CAF's `scheduled_send`, tracked like `delayed_send`.
  template <caf::message_priority P = caf::message_priority::normal,
            class Dest = caf::actor, class... Ts>
  void scheduled_send(const Dest& dest, caf::actor_clock::time_point at,
                      Ts&&... xs) {
    static_assert(sizeof...(Ts) > 0, "no message to send");
    core_.schedule_tracked(at, caf::actor_cast<caf::strong_actor_ptr>(dest),
                           caf::make_message_id(P),
                           caf::make_message(std::forward<Ts>(xs)...));
  }

protected:
  // -- hooks ------------------------------------------------------------------

  /// Serializes the actor's state; the default records no state. Override
  /// in class-based participants. May throw: the snapshot then fails with
  /// `errc::state_not_serializable` naming this actor.
  virtual void save_state(std::vector<char>& bytes, std::string& text) {
    bytes.clear();
    text.clear();
  }

  /// CAF's `name()` if the actor sets one, else its C++ type.
  virtual std::string type_name() const {
    std::string result = this->name();
    if (result == "scheduled_actor" || result == "user.scheduled-actor")
      result = detail::demangle(typeid(*this));
    return result;
  }

  void scan_mailbox(const scan_fun& f) {
    this->mailbox().fetch_more();
    auto& normal = this->get_normal_queue();
    auto& urgent = this->get_urgent_queue();
    visit_queue(urgent, message_location::urgent, f);
    visit_cache(urgent.cache(), message_location::stash, f);
    visit_queue(normal, message_location::queue, f);
    visit_cache(normal.cache(), message_location::stash, f);
  }

  std::vector<uint64_t> pending_requests() const {
    std::vector<uint64_t> result;
    for (auto& x : this->awaited_responses_)
      result.emplace_back(x.first.integer_value());
    for (auto& x : this->multiplexed_responses_)
      result.emplace_back(x.first.integer_value());
    return result;
  }

  bool uses_streams() const {
    return !this->stream_managers_.empty()
           || !this->pending_stream_managers_.empty();
  }

private:
  // Both visitors walk the nodes directly: CAF's `peek_all` casts the tail
  // sentinel to an element when advancing, which UBSan rightly reports.

  // Each element of a mailbox queue has task size 1.
  template <class Queue>
  static void visit_queue(Queue& xs, message_location loc,
                          const scan_fun& f) {
    const caf::intrusive::singly_linked<caf::mailbox_element>* node
      = xs.peek();
    for (size_t n = xs.total_task_size(); n > 0 && node != nullptr; --n) {
      f(*static_cast<const caf::mailbox_element*>(node), loc);
      node = node->next;
    }
  }

  template <class Cache>
  static void visit_cache(const Cache& xs, message_location loc,
                          const scan_fun& f) {
    for (auto node = xs.begin().ptr; node != xs.end().ptr; node = node->next)
      f(*static_cast<const caf::mailbox_element*>(node), loc);
  }

  caf::invoke_message_result consume_slow(caf::mailbox_element& x) {
    auto tagged = detail::as_tagged(x);
    if (tagged != nullptr && tagged->control != detail::control_kind::none) {
      core_.on_control(*tagged);
      // `dropped` keeps `after(...)` timeouts undisturbed.
      return caf::invoke_message_result::dropped;
    }
    auto first = core_.observe(x);
    auto result = Base::consume(x);
    auto skipped = result == caf::invoke_message_result::skipped;
    core_.track_stash(x, skipped);
    core_.after_consume(x, skipped, first);
    return result;
  }

  // Connects the marker handler to this actor's mailbox and state. Finds
  // its owner through `self_` instead of storing a pointer: every word here
  // counts for each participant.
  class core_type final : public detail::participant_core {
  public:
    explicit core_type(participant* owner)
        : detail::participant_core(owner, owner->home_system()) {
      // nop
    }

  protected:
    void scan_mailbox(const scan_fun& f) override {
      owner()->scan_mailbox(f);
    }

    void save_state(std::vector<char>& bytes, std::string& text) override {
      owner()->save_state(bytes, text);
    }

    std::vector<uint64_t> pending_requests() const override {
      return owner()->pending_requests();
    }

    bool uses_streams() const override {
      return owner()->uses_streams();
    }

    bool urgent_queue_empty() override {
      return owner()->get_urgent_queue().empty();
    }

    std::string type_name() const override {
      return owner()->type_name();
    }

  private:
    participant* owner() const noexcept {
      return static_cast<participant*>(self());
    }
  };

  core_type core_;
};

} // namespace caf::snapshot
