// The caf-snapshot actor system module.
//
// Usage:
//   caf::actor_system_config cfg;
//   cfg.load<caf::snapshot::module>();
//   cfg.set("snapshot.directory", "/var/tmp/snaps");
//   caf::actor_system sys{cfg};
//   auto coord = caf::snapshot::coordinator(sys);
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/detail/type_list.hpp"
#include "caf/timespan.hpp"

#include "caf/snapshot/detail/file_system.hpp"
#include "caf/snapshot/detail/registry.hpp"
#include "caf/snapshot/detail/signal_trigger.hpp"

namespace caf::snapshot {

/// Settings read from the `snapshot.` options when the system starts.
struct settings {
  /// `snapshot.directory`: where snapshot files are stored.
  std::string directory = "snapshots";
  /// `snapshot.timeout`: a snapshot not stored by then fails.
  caf::timespan timeout = std::chrono::seconds{30};
  /// `snapshot.on-signal`: the signal that takes a snapshot (0: none), set
  /// as `SIGUSR1`, `USR1` or a number; one of SIGHUP, SIGUSR1, SIGUSR2,
  /// SIGWINCH or a real-time signal.
  int on_signal = 0;
  /// `snapshot.on-actor-failure`: a participant that terminates with an
  /// error (not `normal` or `user_shutdown`) takes a post-mortem snapshot of
  /// the whole system, with its own final state in it.
  bool on_actor_failure = false;
  /// `snapshot.keep`: how many snapshot files to keep in `directory`; older
  /// ones are removed after each stored snapshot (0: keep all).
  size_t keep = 0;
  /// `snapshot.max-bytes`: a snapshot whose file would grow beyond this
  /// fails with `limit_exceeded` (0: no limit).
  uint64_t max_bytes = 0;
  /// `snapshot.max-participants`: a snapshot of more participants (on one
  /// node) fails at once with `limit_exceeded` (0: no limit).
  size_t max_participants = 0;
  /// `snapshot.max-wire-bytes`: the largest state or message content this
  /// process accepts from another node, and sends to one (a participant
  /// whose record is larger fails the snapshot with `limit_exceeded`).
  uint64_t max_wire_bytes = uint64_t{256} << 20;
};

/// Loads with `cfg.load<caf::snapshot::module>()`. Occupies CAF's
/// `network_manager` module slot, which CAF 0.17.6 does not use.
class module : public caf::actor_system::module {
public:
  // -- constructors, destructors, and assignment operators --------------------

  explicit module(caf::actor_system& sys);

  ~module() override;

  /// Factory used by `actor_system_config::load`.
  static caf::actor_system::module* make(caf::actor_system& sys,
                                         caf::detail::type_list<>);

  // -- overrides --------------------------------------------------------------

  void start() override;

  void stop() override;

  void init(caf::actor_system_config& cfg) override;

  id_t id() const override;

  void* subtype_ptr() override;

  // -- properties -------------------------------------------------------------

  /// Returns the module of `sys`, or `nullptr` if it was not loaded.
  static module* find(const caf::actor_system& sys) noexcept;

  /// The snapshot coordinator of this system, or an invalid handle once the
  /// module stopped. Safe to call from any thread (participants call it at
  /// their cuts while the system shuts down).
  caf::actor coordinator() const {
    return registry_.coordinator();
  }

  /// Participants of this system.
  detail::registry& participants() noexcept {
    return registry_;
  }

  /// Options in effect.
  const snapshot::settings& settings() const noexcept {
    return settings_;
  }

  /// Makes the coordinator store snapshots through `fs` (tests inject
  /// storage faults this way); `nullptr` restores the operating system's.
  /// `fs` must outlive the actor system. Thread-safe; applies to the next
  /// file operation.
  void use_file_system(detail::file_system* fs) noexcept {
    file_system_.store(fs, std::memory_order_release);
  }

  /// The file system snapshots are stored through.
  detail::file_system& file_system() const noexcept {
    auto fs = file_system_.load(std::memory_order_acquire);
    return fs != nullptr ? *fs : detail::default_file_system();
  }

  caf::actor_system& system() noexcept {
    return sys_;
  }

private:
  caf::actor_system& sys_;
  detail::registry registry_;
  snapshot::settings settings_;
  // Used by start() and stop() only; other threads read the coordinator
  // through registry_, which guards it.
  caf::actor coordinator_;
  caf::actor sink_;
  std::unique_ptr<detail::signal_trigger> signal_trigger_;
  std::atomic<detail::file_system*> file_system_{nullptr};
};

} // namespace caf::snapshot

namespace caf {

/// Loads the snapshot module and declares its options (`snapshot.directory`,
/// `snapshot.timeout`, `snapshot.on-signal`, `snapshot.on-actor-failure`),
/// so that `cfg.set("snapshot.directory", ...)`, the
/// command line and `caf-application.ini` accept them.
template <>
actor_system_config& actor_system_config::load<caf::snapshot::module>();

} // namespace caf
