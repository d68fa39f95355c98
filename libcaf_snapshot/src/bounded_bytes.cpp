#include "caf/snapshot/detail/bounded_bytes.hpp"

#include <algorithm>

#include "caf/binary_deserializer.hpp"
#include "caf/sec.hpp"

namespace caf::snapshot::detail {

caf::error load_bounded(caf::deserializer& source, std::vector<char>& xs) {
  size_t size = 0;
  if (auto err = source.begin_sequence(size))
    return err;
  auto limit = max_deserialized_bytes;
  if (auto binary = dynamic_cast<caf::binary_deserializer*>(&source))
    limit = std::min(limit, binary->remaining());
  if (size > limit)
    return caf::make_error(caf::sec::end_of_stream);
  xs.resize(size);
  if (size > 0)
    if (auto err = source.apply_raw(size, xs.data()))
      return err;
  return source.end_sequence();
}

} // namespace caf::snapshot::detail
