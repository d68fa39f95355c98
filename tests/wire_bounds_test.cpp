// Every length read from the wire is bounded: records that cross nodes in
// CAF messages must not make a node allocate what a hostile peer claims.
// CAF's own deserializer range-checks strings but resizes byte vectors to
// the claimed length before checking; the records' byte fields are loaded
// through `detail::bounded_bytes` instead.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/binary_deserializer.hpp"
#include "caf/binary_serializer.hpp"
#include "caf/sec.hpp"

#include "caf/snapshot/all.hpp"
#include "caf/snapshot/detail/protocol.hpp"

#include "allocation_tracking.hpp"

namespace {

using test::allocation_scope;
using test::largest_allocation;

namespace snap = caf::snapshot;
using buffer = std::vector<char>;

constexpr size_t one_mib = 1024 * 1024;

// Knows the snapshot protocol's message types.
struct config : caf::actor_system_config {
  config() {
    load<snap::module>();
  }
};

struct wire_bounds : testing::Test {
  config cfg;
  caf::actor_system sys{cfg};

  template <class T>
  buffer save(T& x) {
    buffer result;
    caf::binary_serializer sink{sys, result};
    auto err = sink(x);
    EXPECT_FALSE(err) << sys.render(err);
    return result;
  }

  template <class T>
  caf::error load(const buffer& bytes, T& x) {
    caf::binary_deserializer source{sys, bytes};
    return source(x);
  }

  // Offset of the length of the byte field that `with_byte` fills with one
  // byte and `without` leaves empty: the first byte where they differ.
  static size_t length_offset(const buffer& without, const buffer& with_byte) {
    size_t i = 0;
    while (i < without.size() && without[i] == with_byte[i])
      ++i;
    return i;
  }

  // Replaces the one-byte length 0 at `pos` by the varbyte encoding of
  // 0xFFFFFFF0 (about 4 GiB).
  static buffer claim_4gib_at(buffer xs, size_t pos) {
    EXPECT_EQ(xs.at(pos), 0);
    buffer huge{'\xF0', '\xFF', '\xFF', '\xFF', '\x0F'};
    xs.erase(xs.begin() + static_cast<std::ptrdiff_t>(pos));
    xs.insert(xs.begin() + static_cast<std::ptrdiff_t>(pos), huge.begin(),
              huge.end());
    return xs;
  }
};

} // namespace

TEST_F(wire_bounds, records_round_trip_through_the_binary_serializer) {
  snap::actor_record a;
  a.id = 7;
  a.node = "n";
  a.state = {'\0', '\x01', '\xff'};
  a.awaited = {{3, 4, "m"}};
  auto bytes = save(a);
  snap::actor_record b;
  ASSERT_FALSE(load(bytes, b));
  EXPECT_EQ(b.id, 7u);
  EXPECT_EQ(b.state, a.state);
  ASSERT_EQ(b.awaited.size(), 1u);
  EXPECT_EQ(b.awaited[0].target_node, "m");
  snap::message_record m;
  m.content = {'x', 'y'};
  m.text = "t";
  auto mbytes = save(m);
  snap::message_record n;
  ASSERT_FALSE(load(mbytes, n));
  EXPECT_EQ(n.content, m.content);
  EXPECT_EQ(n.text, "t");
}

TEST_F(wire_bounds, huge_state_length_in_an_actor_record_is_refused_before_allocating) {
  snap::actor_record empty;
  snap::actor_record one = empty;
  one.state = {'\0'};
  auto pos = length_offset(save(empty), save(one));
  auto hostile = claim_4gib_at(save(empty), pos);
  snap::actor_record x;
  caf::error err;
  {
    allocation_scope guard;
    err = load(hostile, x);
  }
  EXPECT_EQ(err, caf::sec::end_of_stream) << sys.render(err);
  EXPECT_LT(largest_allocation.load(), one_mib);
}

TEST_F(wire_bounds, huge_content_length_in_a_message_record_is_refused_before_allocating) {
  snap::message_record empty;
  snap::message_record one = empty;
  one.content = {'\0'};
  auto pos = length_offset(save(empty), save(one));
  auto hostile = claim_4gib_at(save(empty), pos);
  snap::message_record x;
  caf::error err;
  {
    allocation_scope guard;
    err = load(hostile, x);
  }
  EXPECT_EQ(err, caf::sec::end_of_stream) << sys.render(err);
  EXPECT_LT(largest_allocation.load(), one_mib);
}

TEST_F(wire_bounds, huge_counts_in_a_cut_report_are_refused_without_allocating_them) {
  namespace d = snap::detail;
  d::cut_report rep;
  rep.snapshot_id = 1;
  auto good = save(rep);
  // Whatever count or length a hostile peer puts at any position, loading
  // fails or succeeds without allocating more than the message's size.
  for (size_t pos = 0; pos < good.size(); ++pos) {
    auto hostile = good;
    hostile[pos] = '\xFF';
    hostile.insert(hostile.begin() + static_cast<std::ptrdiff_t>(pos) + 1,
                   {'\xFF', '\xFF', '\xFF', '\x0F'});
    d::cut_report x;
    {
      allocation_scope guard;
      auto err = load(hostile, x);
      static_cast<void>(err);
    }
    EXPECT_LT(largest_allocation.load(), one_mib) << "at byte " << pos;
  }
}

TEST_F(wire_bounds, basp_payloads_with_hostile_records_never_reach_the_coordinator) {
  // What BASP does with a message payload: (forwarding stack, message),
  // deserialized with one binary deserializer.
  namespace d = snap::detail;
  std::vector<caf::strong_actor_ptr> stages;
  d::channel_report rep;
  rep.snapshot_id = 1;
  rep.recorded.emplace_back();
  auto empty = caf::make_message(d::final_atom::value, rep);
  rep.recorded[0].content = {'\0'};
  auto one = caf::make_message(d::final_atom::value, rep);
  auto payload = [&](caf::message& msg) {
    buffer result;
    caf::binary_serializer sink{sys, result};
    EXPECT_FALSE(sink(stages, msg));
    return result;
  };
  auto with_empty = payload(empty);
  auto pos = length_offset(with_empty, payload(one));
  auto hostile = claim_4gib_at(with_empty, pos);
  caf::message x;
  std::vector<caf::strong_actor_ptr> x_stages;
  {
    allocation_scope guard;
    caf::binary_deserializer source{sys, hostile};
    auto err = source(x_stages, x);
    static_cast<void>(err); // CAF 0.17.6 may report it or deliver nothing
  }
  EXPECT_LT(largest_allocation.load(), one_mib);
  EXPECT_FALSE((x.match_elements<d::final_atom, d::channel_report>()))
    << caf::to_string(x);
}
