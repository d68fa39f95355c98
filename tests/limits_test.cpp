// Configurable limits with clear errors: largest snapshot file
// (`snapshot.max-bytes`), most participants (`snapshot.max-participants`),
// largest state or content between nodes (`snapshot.max-wire-bytes`).

#include <string>
#include <vector>

#include <boost/serialization/vector.hpp>

#include "cluster_util.hpp"

#include "caf/snapshot/detail/bounded_bytes.hpp"

namespace {

using namespace edge;

struct blob {
  std::vector<char> data;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & data;
  }
};

caf::behavior blob_fn(snap::stateful_actor<blob>* self, size_t size) {
  self->state.data.assign(size, 'b');
  return {[](int) {}};
}

class limit_config : public test::config {
public:
  limit_config(const std::string& dir, const std::string& key, uint64_t value)
      : test::config(dir) {
    set(key, value);
  }
};

bool is_limit_error(const caf::error& err) {
  return err.category() == snap::error_category
         && err.code() == static_cast<uint8_t>(snap::errc::limit_exceeded);
}

size_t files_in(const std::string& dir) {
  size_t n = 0;
  for (auto& entry : std::filesystem::directory_iterator{dir}) {
    static_cast<void>(entry);
    ++n;
  }
  return n;
}

} // namespace

TEST(limits, too_many_participants_fail_at_once_naming_the_limit) {
  test::temp_dir dir;
  limit_config cfg{dir.path(), "snapshot.max-participants", 3};
  caf::actor_system sys{cfg};
  std::vector<caf::actor> xs;
  for (int i = 0; i < 5; ++i)
    xs.push_back(sys.spawn(counter_fn, gate_ptr{}));
  auto info = test::take(sys);
  ASSERT_FALSE(info);
  EXPECT_TRUE(is_limit_error(info.error())) << sys.render(info.error());
  auto text = sys.render(info.error());
  EXPECT_NE(text.find("5 participants exceed snapshot.max-participants = 3"),
            std::string::npos)
    << text;
  EXPECT_EQ(files_in(dir.path()), 0u);
  // Within the limit, snapshots work again.
  caf::scoped_actor self{sys};
  for (int i = 0; i < 2; ++i) {
    self->send_exit(xs[i], caf::exit_reason::user_shutdown);
    self->wait_for(xs[i]);
  }
  auto s = test::take_and_load(sys);
  EXPECT_EQ(s.actors.size(), 3u);
  for (auto& x : xs)
    caf::anon_send_exit(x, caf::exit_reason::kill);
}

TEST(limits, a_file_beyond_max_bytes_fails_and_leaves_nothing_behind) {
  test::temp_dir dir;
  limit_config cfg{dir.path(), "snapshot.max-bytes", 16 * 1024};
  caf::actor_system sys{cfg};
  std::vector<caf::actor> xs;
  for (int i = 0; i < 8; ++i)
    xs.push_back(sys.spawn(blob_fn, size_t{4096}));
  auto info = test::take(sys);
  ASSERT_FALSE(info);
  EXPECT_TRUE(is_limit_error(info.error())) << sys.render(info.error());
  EXPECT_NE(sys.render(info.error()).find("snapshot.max-bytes = 16384"),
            std::string::npos)
    << sys.render(info.error());
  EXPECT_EQ(files_in(dir.path()), 0u); // the temporary file is gone
  caf::scoped_actor self{sys};
  for (size_t i = 1; i < xs.size(); ++i) {
    self->send_exit(xs[i], caf::exit_reason::user_shutdown);
    self->wait_for(xs[i]);
  }
  auto s = test::take_and_load(sys); // one 4 KiB state fits
  EXPECT_EQ(s.actors.size(), 1u);
  caf::anon_send_exit(xs[0], caf::exit_reason::kill);
}

TEST(limits, a_state_beyond_max_wire_bytes_on_a_member_fails_the_snapshot_naming_it) {
  auto tweak = [](cluster::node_config& cfg) {
    cfg.set("snapshot.max-wire-bytes", uint64_t{1024});
  };
  {
    cluster::group c{2, std::chrono::seconds{60}, tweak};
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(snap::detail::max_deserialized_bytes(), 1024u);
    auto small = c.at(1).spawn(blob_fn, size_t{16});
    auto big = c.at(1).spawn(blob_fn, size_t{4096});
    auto info = test::take(c.root().sys());
    ASSERT_FALSE(info);
    auto text = c.root().sys().render(info.error());
    EXPECT_TRUE(is_limit_error(info.error())) << text;
    EXPECT_NE(text.find("actor " + std::to_string(big.id())),
              std::string::npos)
      << text;
    EXPECT_NE(text.find("snapshot.max-wire-bytes = 1024"), std::string::npos)
      << text;
    // Without the big state, snapshots across both nodes work.
    caf::anon_send_exit(big, caf::exit_reason::kill);
    ASSERT_TRUE(test::eventually(
      [&] { return static_cast<bool>(test::take(c.root().sys())); },
      60s));
    static_cast<void>(small);
  }
  // The limit is process-wide: restore the default for other tests.
  snap::detail::set_max_deserialized_bytes(0);
  EXPECT_EQ(snap::detail::max_deserialized_bytes(), size_t{256} << 20);
}
