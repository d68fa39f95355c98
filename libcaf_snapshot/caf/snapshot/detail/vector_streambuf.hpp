// A write-only stream buffer that appends to a std::vector<char>, so that a
// Boost archive can write a state straight into an actor record's bytes.
//
// Usage:
//   std::vector<char> bytes;
//   caf::snapshot::detail::vector_streambuf buf{bytes};
//   boost::archive::binary_oarchive ar{buf, boost::archive::no_codecvt};
//   ar << x;
#pragma once

#include <streambuf>
#include <vector>

namespace caf::snapshot::detail {

/// Appends everything written to it to a vector. Unlike an
/// `std::ostringstream`, it needs no `std::ostream` (whose construction
/// copies a locale) and no final copy of the bytes.
class vector_streambuf : public std::streambuf {
public:
  /// Empties `out` and appends to it from now on.
  explicit vector_streambuf(std::vector<char>& out) : out_(out) {
    out_.clear();
  }

protected:
  std::streamsize xsputn(const char* data, std::streamsize size) override {
    out_.insert(out_.end(), data, data + size);
    return size;
  }

  int_type overflow(int_type ch) override {
    if (traits_type::eq_int_type(ch, traits_type::eof()))
      return traits_type::not_eof(ch);
    out_.push_back(traits_type::to_char_type(ch));
    return ch;
  }

private:
  std::vector<char>& out_;
};

} // namespace caf::snapshot::detail
