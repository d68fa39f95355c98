// The state of the benchmarks' idle actors: 64 bytes, saved with
// Boost.Serialization.
//
// Usage:
//   caf::behavior idle_fn(caf::snapshot::stateful_actor<bench::payload>*);
#pragma once

#include <array>

#include <boost/serialization/array.hpp>

namespace bench {

/// A 64-byte state, the same for participants and their plain twins.
struct payload {
  std::array<char, 64> bytes{};

  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& bytes;
  }
};

} // namespace bench
