// The reply to a `take_atom` request.
//
// Usage:
//   self->request(coord, 30s, caf::snapshot::take_atom::value)
//     .receive([](const caf::snapshot::snapshot_info& info) {
//                std::cout << info.id << " stored at " << info.path;
//              },
//              [](caf::error&) {});
#pragma once

#include <cstdint>
#include <string>

#include "caf/meta/type_name.hpp"

namespace caf::snapshot {

/// Describes a stored snapshot.
struct snapshot_info {
  /// Sequence number of the snapshot, unique per coordinator.
  uint64_t id = 0;
  /// Path of the stored snapshot file.
  std::string path;
  /// Number of participants recorded.
  uint64_t actors = 0;
  /// Number of messages recorded as in flight.
  uint64_t in_flight = 0;
  /// Size of the file in bytes.
  uint64_t bytes = 0;
  /// Milliseconds from the request until the file was stored.
  uint64_t duration_ms = 0;
};

/// @relates snapshot_info
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_info& x) {
  return f(caf::meta::type_name("snapshot_info"), x.id, x.path, x.actors,
           x.in_flight, x.bytes, x.duration_ms);
}

} // namespace caf::snapshot
