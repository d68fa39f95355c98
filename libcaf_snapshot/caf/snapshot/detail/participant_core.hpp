// The per-participant marker handler: a small state machine that takes the
// participant's cut, records the messages in its channels and talks to the
// coordinator. Everything here runs on the participant's own thread, except
// `current()` and the fields read by `enqueue`, which are documented.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <typeinfo>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "caf/abstract_actor.hpp"
#include "caf/actor_clock.hpp"
#include "caf/actor_system.hpp"
#include "caf/fwd.hpp"
#include "caf/mailbox_element.hpp"
#include "caf/node_id.hpp"

#include "caf/snapshot/detail/registry.hpp"
#include "caf/snapshot/detail/tagged_element.hpp"
#include "caf/snapshot/global_snapshot.hpp"

namespace caf::snapshot::detail {

/// Returns the demangled name of `x`, e.g., `"account"`.
std::string demangle(const std::type_info& x);

/// State a participant needs only while it records channels (allocated at a
/// cut, freed when the last recording ends).
struct recording_state;

/// State few participants need: skipped elements, tracked delayed sends,
/// receivers of requests (allocated on first use).
struct participant_extras;

/// Bit in CAF's actor flags that marks participants. CAF reserves bits
/// 0xFFF00000 for channels and uses 0x0004..0x2000; this one is free.
constexpr int participant_flag = 0x80000;

/// Whether `x` is a participant (of any system; compare `home_system()`).
bool is_participant(const caf::abstract_actor* x) noexcept;

/// Non-template part of `caf::snapshot::participant`.
class participant_core {
public:
  // -- member types -----------------------------------------------------------

  /// Visits a queued element and where it was found.
  using scan_fun = std::function<void(const caf::mailbox_element&,
                                      message_location)>;

  // -- constructors, destructors, and assignment operators --------------------

  participant_core(caf::abstract_actor* self, caf::actor_system& sys);

  participant_core(const participant_core&) = delete;
  participant_core& operator=(const participant_core&) = delete;

  virtual ~participant_core();

  /// Enters the registry of the actor's system (if the module is loaded),
  /// taking the spawner's epoch when a participant on this thread spawned
  /// it. Called when CAF launches the actor, on the spawning thread: once
  /// the object is fully constructed, so that no other thread can reach a
  /// half-built actor through the registry or a `joined` notice.
  void enter_registry();

  // -- thread context ---------------------------------------------------------

  /// Returns the participant whose code runs on this thread, if any.
  static participant_core* current() noexcept {
    return current_;
  }

  /// Marks the calling thread as running this participant while in scope.
  class scope {
  public:
    explicit scope(participant_core* self) noexcept : prev_(current_) {
      current_ = self;
    }
    ~scope() {
      current_ = prev_;
    }
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;

  private:
    participant_core* prev_;
  };

  // -- hot path ---------------------------------------------------------------

  /// Returns whether a message entering this participant's mailbox on the
  /// calling thread must carry a colour. Lock-free, no atomic RMW.
  bool must_stamp() const noexcept {
    if (registry_ == nullptr)
      return false;
    auto word = registry_->word();
    auto src = current_;
    if (src == nullptr || src->registry_ != registry_)
      return (word & 1) != 0 || registry_->clustered();
    return word != (src->epoch() << 1);
  }

  /// Re-packs `x` with the colour of the sending context.
  caf::mailbox_element_ptr stamp_incoming(caf::mailbox_element_ptr x) const;

  /// Whether the slow consume path must run for elements that carry no
  /// colour (only while recording channels).
  bool recording() const noexcept {
    return recording_ != nullptr;
  }

  // -- consume path (owner thread) --------------------------------------------

  /// Handles a control element.
  void on_control(const tagged_element& x);

  /// Classifies `x` before the user's behavior sees it: takes the cut first
  /// if `x` comes from after its sender's cut, records `x` if it was in a
  /// channel at the cut. Returns whether this is the first observation.
  bool observe(const caf::mailbox_element& x);

  /// Remembers which elements the behavior skipped, so that the cut labels
  /// them `stash` even after CAF moved them back into the queue. Costs one
  /// branch for actors that never skip.
  void track_stash(const caf::mailbox_element& x, bool skipped) {
    if (skipped)
      remember_skipped(x);
    else if (extras_ != nullptr)
      forget_skipped(x);
  }

  /// Bookkeeping after the user's behavior handled (or skipped) `x`.
  void after_consume(const caf::mailbox_element& x, bool skipped,
                     bool first_observation);

  /// Takes the cut for all active snapshots up to `id`.
  void cut(uint64_t id);

  /// Called before the actor's cleanup: takes a final cut if a snapshot
  /// still waits for it and closes all recordings.
  void on_terminate(const caf::error& reason);

  // -- delayed sends ----------------------------------------------------------

  /// Schedules a message like `delayed_send` and remembers it, so that it
  /// is recorded as in flight if it is still in the clock at the cut.
  void schedule_tracked(caf::actor_clock::time_point at,
                        caf::strong_actor_ptr receiver, caf::message_id mid,
                        caf::message content);

  // -- requests ---------------------------------------------------------------

  /// Remembers that the request answered by `response_id` went to `dest`,
  /// so that a cut can name whom the actor awaits. Amortized O(log n): old
  /// entries are pruned when the list outgrows the pending requests.
  void note_request(uint64_t response_id, const caf::strong_actor_ptr& dest);

  /// Epoch of this participant (the last snapshot it took its cut for).
  /// Written on the participant's thread; read there by `enqueue` and by the
  /// registry under its mutex (relaxed: no ordering needed).
  uint64_t epoch() const noexcept {
    return epoch_.load(std::memory_order_relaxed);
  }

protected:
  /// The participant this core belongs to.
  caf::abstract_actor* self() const noexcept {
    return self_;
  }

  // -- hooks for the mixin ----------------------------------------------------

  /// Visits all queued and stashed elements (calls `fetch_more` first).
  virtual void scan_mailbox(const scan_fun& f) = 0;

  /// Serializes the actor's state. May throw; exceptions are caught.
  virtual void save_state(std::vector<char>& bytes, std::string& text) = 0;

  /// Lists the request IDs whose responses the actor awaits.
  virtual std::vector<uint64_t> pending_requests() const = 0;

  /// Whether the actor has active streams.
  virtual bool uses_streams() const = 0;

  /// Whether the urgent queue holds no element (fetched elements only; the
  /// stash does not count).
  virtual bool urgent_queue_empty() = 0;

  /// Type name of the actor.
  virtual std::string type_name() const = 0;

private:
  friend class registry;

  caf::actor_system& system() const noexcept {
    return self_->home_system();
  }

  participant_extras& extras();

  void set_epoch(uint64_t x) noexcept {
    epoch_.store(x, std::memory_order_relaxed);
  }

  void announce(uint64_t prev, uint64_t next);

  void post_mortem(const caf::error& reason);

  void send_relayed(const delayed_token& x);

  void remember_skipped(const caf::mailbox_element& x);

  void forget_skipped(const caf::mailbox_element& x);

  bool is_local_participant(const caf::strong_actor_ptr& x) const;

  message_record make_record(const caf::mailbox_element& x,
                             message_location loc) const;

  message_record make_record(const delayed_token& x) const;

  void take_cut(uint64_t id, actor_status status, const caf::error& reason);

  // Ends recording `index` and reports its channels: through the registry's
  // `finals` stack after a flush, as a message when exiting before one.
  void finish(size_t index, bool flushed);

  std::vector<awaited_request> awaited(const std::vector<uint64_t>& pending);

  static thread_local participant_core* current_;

  // Eight words per participant (the memory target is 64 bytes over a plain
  // actor): keep rarely used state in `extras_`.
  caf::abstract_actor* self_;
  registry* registry_;
  std::atomic<uint64_t> epoch_{0};
  std::unique_ptr<recording_state> recording_;
  std::unique_ptr<participant_extras> extras_;
  // Links of the registry's list of participants (guarded by its mutex);
  // `prev_ == this` while not linked.
  participant_core* prev_ = this;
  participant_core* next_ = nullptr;
};

} // namespace caf::snapshot::detail
