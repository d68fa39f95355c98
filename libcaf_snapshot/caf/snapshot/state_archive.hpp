// Helpers that turn a state into the bytes and text of an actor record.
//
// Usage:
//   std::vector<char> bytes; std::string text;
//   caf::snapshot::save_boost(my_state, bytes, text);
#pragma once

#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/archive/binary_oarchive.hpp>

namespace caf::snapshot {

namespace detail {

template <class T, class = void>
struct has_to_string : std::false_type {};

template <class T>
struct has_to_string<
  T, std::void_t<decltype(to_string(std::declval<const T&>()))>>
  : std::true_type {};

} // namespace detail

/// Saves `x` with a Boost binary archive into `bytes` and renders it into
/// `text`: with `to_string(x)` if the state provides one (found by ADL),
/// else as the archive's size. Throws what Boost or `serialize` throws.
template <class T>
void save_boost(const T& x, std::vector<char>& bytes, std::string& text) {
  std::ostringstream out;
  {
    boost::archive::binary_oarchive ar{out};
    ar << x;
  }
  auto str = std::move(out).str();
  bytes.assign(str.begin(), str.end());
  if constexpr (detail::has_to_string<T>::value)
    text = to_string(x);
  else
    text = "<" + std::to_string(bytes.size()) + " bytes of Boost archive>";
}

} // namespace caf::snapshot
