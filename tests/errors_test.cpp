// Rendering of every caf-snapshot error code, through an actor system with
// the module (`sys.render`) and without one (`caf::snapshot::render`).

#include <utility>
#include <vector>

#include "test_util.hpp"

namespace snap = caf::snapshot;

namespace {

const std::vector<std::pair<snap::errc, std::string>> all_codes{
  {snap::errc::timed_out, "timed_out"},
  {snap::errc::state_not_serializable, "state_not_serializable"},
  {snap::errc::storage_failed, "storage_failed"},
  {snap::errc::file_damaged, "file_damaged"},
  {snap::errc::unknown_type, "unknown_type"},
  {snap::errc::not_a_snapshot, "not_a_snapshot"},
  {snap::errc::unsupported_version, "unsupported_version"},
  {snap::errc::streams_unsupported, "streams_unsupported"},
  {snap::errc::module_not_loaded, "module_not_loaded"},
  {snap::errc::invalid_argument, "invalid_argument"},
  {snap::errc::cannot_open, "cannot_open"},
  {snap::errc::state_mismatch, "state_mismatch"},
  {snap::errc::shutting_down, "shutting_down"},
  {snap::errc::incompatible_version, "incompatible_version"},
  {snap::errc::node_lost, "node_lost"},
  {snap::errc::cancelled, "cancelled"},
  {snap::errc::limit_exceeded, "limit_exceeded"},
};

} // namespace

TEST(errors, codes_are_stable) {
  // Stored in files and sent between nodes: the numbers must not change.
  uint8_t expected = 1;
  for (auto& [code, name] : all_codes)
    EXPECT_EQ(static_cast<uint8_t>(code), expected++) << name;
  EXPECT_EQ(static_cast<uint8_t>(snap::errc::none), 0);
}

TEST(errors, every_code_has_its_name) {
  EXPECT_EQ(snap::to_string(snap::errc::none), "none");
  for (auto& [code, name] : all_codes)
    EXPECT_EQ(snap::to_string(code), name);
}

TEST(errors, system_and_library_render_every_code_alike_with_and_without_context) {
  test::temp_dir dir;
  test::config cfg{dir.path()};
  caf::actor_system sys{cfg};
  for (auto& [code, name] : all_codes) {
    SCOPED_TRACE(name);
    auto plain = snap::make_error(code);
    EXPECT_EQ(plain.category(), snap::error_category);
    EXPECT_EQ(plain.code(), static_cast<uint8_t>(code));
    EXPECT_EQ(snap::render(plain), "snapshot: " + name);
    EXPECT_EQ(sys.render(plain), "snapshot: " + name);
    auto with_ctx = snap::make_error(code, "actor 42 (worker): boom");
    EXPECT_EQ(snap::render(with_ctx),
              "snapshot: " + name + " (actor 42 (worker): boom)");
    EXPECT_EQ(sys.render(with_ctx), snap::render(with_ctx));
  }
}

TEST(errors, errors_of_other_categories_render_as_caf_does) {
  test::temp_dir dir;
  test::config cfg{dir.path()};
  caf::actor_system sys{cfg};
  auto err = caf::make_error(caf::sec::request_timeout);
  EXPECT_EQ(snap::render(err), caf::to_string(err));
  EXPECT_EQ(snap::render(caf::error{}), caf::to_string(caf::error{}));
}

TEST(errors, snapshot_errors_survive_a_round_trip_through_a_message) {
  test::temp_dir dir;
  test::config cfg{dir.path()};
  caf::actor_system sys{cfg};
  auto err = snap::make_error(snap::errc::timed_out, "waited for actor 7");
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  ASSERT_FALSE(sink(err));
  caf::error copy;
  caf::binary_deserializer source{sys, buf};
  ASSERT_FALSE(source(copy));
  EXPECT_EQ(copy, err);
  EXPECT_EQ(sys.render(copy), "snapshot: timed_out (waited for actor 7)");
}
