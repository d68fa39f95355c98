// How a recorded state becomes readable text (`actor_record::state_text`):
// the state's `to_string` if it has one, else CAF's `inspect`, else the
// archive's size and last bytes in hex.

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include "test_util.hpp"

namespace {

namespace snap = caf::snapshot;

struct with_to_string {
  int64_t balance = 7;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & balance;
  }
};

std::string to_string(const with_to_string& x) {
  return "balance is " + std::to_string(x.balance);
}

struct with_inspect {
  int32_t x = 1;
  std::string label = "origin";
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & x & label;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, with_inspect& x) {
  return f(caf::meta::type_name("with_inspect"), x.x, x.label);
}

struct opaque {
  std::vector<int32_t> values;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & values;
  }
};

template <class T>
std::string text_of(const T& x) {
  std::vector<char> bytes;
  std::string text;
  snap::save_boost(x, bytes, text);
  return text;
}

} // namespace

TEST(state_text, to_string_of_the_state_comes_first) {
  EXPECT_EQ(text_of(with_to_string{}), "balance is 7");
}

TEST(state_text, caf_inspect_is_used_when_there_is_no_to_string) {
  EXPECT_EQ(text_of(with_inspect{}), "with_inspect(1, \"origin\")");
}

TEST(state_text, otherwise_size_and_last_bytes_in_hex) {
  opaque small;
  small.values = {1};
  std::vector<char> bytes;
  std::string text;
  snap::save_boost(small, bytes, text);
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(text.rfind("<" + std::to_string(bytes.size())
                         + " bytes of Boost archive, ends with: ... ",
                       0),
            0u)
    << text;
  // The values are at the end: 1 as a little-endian int32.
  EXPECT_NE(text.find("01 00 00 00>"), std::string::npos) << text;
  // States differ in their text even though the archives share a header.
  opaque other;
  other.values = {2};
  EXPECT_NE(text_of(other), text);
  // Long archives show 24 bytes.
  opaque large;
  large.values.assign(100, 0x11223344);
  auto long_text = text_of(large);
  EXPECT_NE(long_text.find("44 33 22 11>"), std::string::npos) << long_text;
  EXPECT_LT(long_text.size(), 140u) << long_text;
}

TEST(state_text, describe_archive_renders_bytes_as_lowercase_hex) {
  EXPECT_EQ(snap::describe_archive({}), "<0 bytes of Boost archive>");
  EXPECT_EQ(snap::describe_archive({'\x00', '\xab', '\x7f'}),
            "<3 bytes of Boost archive: 00 ab 7f>");
  std::vector<char> xs(30, '\x01');
  xs.back() = '\xff';
  auto text = snap::describe_archive(xs);
  EXPECT_EQ(text.rfind("<30 bytes of Boost archive, ends with: ... 01", 0),
            0u)
    << text;
  EXPECT_EQ(text.substr(text.size() - 4), " ff>") << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), ' '), 7 + 24) << text;
}

namespace {

caf::behavior inspected_fn(snap::stateful_actor<with_inspect>* self) {
  self->state.x = 42;
  return {[](int) {}};
}

} // namespace

TEST(state_text, snapshots_record_the_text_of_each_state) {
  test::temp_dir dir;
  test::config cfg{dir.path()};
  caf::actor_system sys{cfg};
  auto a = sys.spawn(inspected_fn);
  auto s = test::take_and_load(sys);
  ASSERT_EQ(s.actors.size(), 1u);
  EXPECT_EQ(s.actors[0].id, a.id());
  EXPECT_EQ(s.actors[0].state_text, "with_inspect(42, \"origin\")");
  with_inspect restored;
  restored.x = 0;
  EXPECT_FALSE(s.actors[0].load_state(restored));
  EXPECT_EQ(restored.x, 42);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

// save_boost writes through its own stream buffer; the bytes must be those
// of a Boost archive over an std::ostringstream, which load and every older
// file use. Also: the buffer is reused (cleared), not appended to.
TEST(state_text, archive_bytes_equal_those_of_an_ostringstream_archive) {
  opaque x;
  x.values.assign(1000, 0x01020304);
  std::ostringstream out;
  {
    boost::archive::binary_oarchive ar{out};
    ar << x;
  }
  auto expected = std::move(out).str();
  std::vector<char> bytes{'s', 't', 'a', 'l', 'e'};
  std::string text;
  snap::save_boost(x, bytes, text);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), expected);
}
