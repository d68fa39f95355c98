// Helpers that turn a state into the bytes and text of an actor record.
//
// Usage:
//   std::vector<char> bytes; std::string text;
//   caf::snapshot::save_boost(my_state, bytes, text);
#pragma once

#include <string>
#include <type_traits>
#include <vector>

#include <boost/archive/binary_oarchive.hpp>

#include "caf/deep_to_string.hpp"
#include "caf/detail/stringification_inspector.hpp"
#include "caf/detail/type_traits.hpp"

#include "caf/snapshot/detail/vector_streambuf.hpp"

namespace caf::snapshot {

namespace detail {

template <class T, class = void>
struct has_to_string : std::false_type {};

template <class T>
struct has_to_string<
  T, std::void_t<decltype(to_string(std::declval<const T&>()))>>
  : std::true_type {};

} // namespace detail

/// Renders a state that has neither `to_string` nor `inspect`: its archive
/// size and its last 24 bytes in hex (where the values are; the first
/// bytes are Boost's header, the same for every state), e.g.
/// `<52 bytes of Boost archive, ends with: ... 2a 00 00 00>`.
std::string describe_archive(const std::vector<char>& bytes);

/// Saves `x` with a Boost binary archive into `bytes` and renders it into
/// `text`, choosing the first that the state provides:
/// 1. `to_string(x)`, found by ADL;
/// 2. CAF's `inspect` (rendered with `caf::deep_to_string`, as CAF prints
///    messages);
/// 3. else the archive's size and its last 24 bytes in hex.
/// Throws what Boost or `serialize` throws.
template <class T>
void save_boost(const T& x, std::vector<char>& bytes, std::string& text) {
  {
    // The same bytes as an archive over an std::ostringstream (binary
    // archives convert no characters), without the stream's locale set-up
    // and the final copy of the bytes.
    detail::vector_streambuf buf{bytes};
    boost::archive::binary_oarchive ar{buf, boost::archive::no_codecvt};
    ar << x;
  }
  if constexpr (detail::has_to_string<T>::value)
    text = to_string(x);
  else if constexpr (caf::detail::is_inspectable<
                       caf::detail::stringification_inspector, T>::value)
    text = caf::deep_to_string(x);
  else
    text = describe_archive(bytes);
}

} // namespace caf::snapshot
