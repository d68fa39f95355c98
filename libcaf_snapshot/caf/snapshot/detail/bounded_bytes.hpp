// Byte buffers whose length, when read from the wire, is checked before any
// memory is allocated for them.
//
// CAF 0.17.6's deserializer resizes a `std::vector<char>` to the length it
// reads before it checks that the bytes are there, so a 10-byte message could
// make a node allocate 4 GiB. Records that cross nodes wrap their byte
// fields in `bounded_bytes` inside `inspect`:
//
//   bounded_bytes state{x.state};
//   return f(x.id, state);
#pragma once

#include <cstddef>
#include <vector>

#include "caf/deserializer.hpp"
#include "caf/error.hpp"

namespace caf::snapshot::detail {

/// Largest byte buffer accepted from any deserializer in this process:
/// `snapshot.max-wire-bytes` of the last system started (default 256 MiB,
/// never above the file format's 1 GiB record limit). Binary deserializers
/// are bounded further by the bytes they have left.
size_t max_deserialized_bytes() noexcept;

/// Sets the limit returned by `max_deserialized_bytes` (0: the default).
void set_max_deserialized_bytes(uint64_t limit) noexcept;

/// A byte buffer that is loaded with a bounded length.
struct bounded_bytes {
  std::vector<char>& bytes;
};

/// Loads `xs` from `source`, refusing lengths above the bytes `source` has
/// left (for binary deserializers) or above `max_deserialized_bytes()`,
/// before allocating. @returns `sec::end_of_stream` for such lengths.
caf::error load_bounded(caf::deserializer& source, std::vector<char>& xs);

/// @relates bounded_bytes
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bounded_bytes& x) {
  if constexpr (Inspector::writes_state)
    return load_bounded(f, x.bytes);
  else
    return f(x.bytes);
}

} // namespace caf::snapshot::detail
