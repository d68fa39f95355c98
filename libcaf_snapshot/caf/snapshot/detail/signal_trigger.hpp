// Takes snapshots when the process receives a signal (`snapshot.on-signal`).
//
// The signal handler only writes the signal number into a pipe; one
// process-wide thread reads it and sends `trigger_atom` to the coordinator
// of every system that asked for that signal. The previous handler comes
// back when the last such system stops.
//
// Usage:
//   auto signo = signal_trigger::parse("SIGUSR1");    // expected<int>
//   signal_trigger trigger{*signo, coordinator};       // until destroyed
#pragma once

#include <string>

#include "caf/actor.hpp"
#include "caf/expected.hpp"

namespace caf::snapshot::detail {

/// Sends `trigger_atom` to a coordinator on each arrival of a signal.
class signal_trigger {
public:
  /// Installs the handler for `signo` (if this is its first trigger).
  signal_trigger(int signo, caf::actor coordinator);

  /// Stops sending; restores the previous handler if this was the last
  /// trigger for the signal. No message is sent once this returns.
  ~signal_trigger();

  signal_trigger(const signal_trigger&) = delete;
  signal_trigger& operator=(const signal_trigger&) = delete;

  /// Parses `SIGUSR1`, `USR1` or `10`. Accepts SIGHUP, SIGUSR1, SIGUSR2,
  /// SIGWINCH and real-time signals: signals whose default action is not
  /// needed by debugging tools or the runtime.
  /// @returns the signal number or `errc::invalid_argument` saying why.
  static caf::expected<int> parse(const std::string& name);

  /// Returns `"SIGUSR1"` for `SIGUSR1`, `"SIGRTMIN+2"`, or the number.
  static std::string name(int signo);

private:
  int signo_;
};

} // namespace caf::snapshot::detail
