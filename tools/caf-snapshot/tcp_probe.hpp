// A quick look whether anything accepts TCP connections at an endpoint,
// with a deadline.
//
// CAF 0.17.6's middleman connects with a blocking `connect` inside its own
// actor: an address that drops packets would block it (and the shutdown of
// the actor system) until the kernel gives up, minutes later. Probing first
// turns that into a clear error within the caller's time limit.
//
// Usage:
//   auto reason = probe_tcp(ep, std::chrono::seconds{5});
//   if (!reason.empty())
//     std::cerr << "cannot connect: " << reason << '\n';
#pragma once

#include <chrono>
#include <string>

#include "endpoint.hpp"

namespace caf_snapshot_tool {

/// Resolves `ep.host` and opens (and closes again) one TCP connection to
/// `ep` on any of its addresses within `timeout`.
/// @returns an empty string on success, else why no connection was made
///          (e.g. "Connection refused").
std::string probe_tcp(const endpoint& ep, std::chrono::milliseconds timeout);

} // namespace caf_snapshot_tool
