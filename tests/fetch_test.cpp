// Reading stored snapshot files through the coordinator (`fetch_atom`), as
// `caf-snapshot take --connect` does from another process.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <boost/serialization/vector.hpp>

#include "test_util.hpp"

#include "caf/snapshot/detail/protocol.hpp"

namespace {

namespace snap = caf::snapshot;
namespace d = caf::snapshot::detail;

struct blob {
  std::vector<char> data;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & data;
  }
};

caf::behavior blob_fn(snap::stateful_actor<blob>* self, size_t size) {
  self->state.data.assign(size, 'x');
  return {[](int) {}};
}

std::vector<char> read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

struct fetch_result {
  caf::error err;
  std::vector<char> chunk;
  uint64_t size = 0;
};

fetch_result fetch(caf::actor_system& sys, uint64_t id, uint64_t offset) {
  caf::scoped_actor self{sys};
  fetch_result result;
  self
    ->request(snap::coordinator(sys), std::chrono::seconds{60},
              d::fetch_atom::value, id, offset)
    .receive(
      [&](std::vector<char>& chunk, uint64_t size) {
        result.chunk = std::move(chunk);
        result.size = size;
      },
      [&](caf::error& err) { result.err = std::move(err); });
  return result;
}

struct fetch_fixture : testing::Test {
  test::temp_dir dir;
  test::config cfg{dir.path()};
  caf::actor_system sys{cfg};
};

} // namespace

TEST_F(fetch_fixture, stored_file_is_read_back_in_chunks_of_at_most_one_mib) {
  // Three participants with 1 MiB states: a file of more than 3 MiB.
  std::vector<caf::actor> actors;
  for (int i = 0; i < 3; ++i)
    actors.push_back(sys.spawn(blob_fn, size_t{1} << 20));
  auto info = test::take(sys);
  ASSERT_TRUE(info) << sys.render(info.error());
  auto expected = read_file(info->path);
  ASSERT_GT(expected.size(), 3 * d::fetch_chunk_size);
  std::vector<char> fetched;
  size_t replies = 0;
  for (;;) {
    auto r = fetch(sys, info->id, fetched.size());
    ASSERT_FALSE(r.err) << sys.render(r.err);
    ASSERT_LE(r.chunk.size(), d::fetch_chunk_size);
    EXPECT_EQ(r.size, expected.size());
    ++replies;
    if (r.chunk.empty())
      break;
    fetched.insert(fetched.end(), r.chunk.begin(), r.chunk.end());
    ASSERT_LT(replies, 100u);
  }
  EXPECT_EQ(fetched, expected);
  EXPECT_EQ(replies, expected.size() / d::fetch_chunk_size + 2);
  for (auto& a : actors)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_F(fetch_fixture, unknown_ids_and_offsets_past_the_end_are_invalid_arguments) {
  auto info = test::take(sys);
  ASSERT_TRUE(info) << sys.render(info.error());
  auto size = std::filesystem::file_size(info->path);
  auto unknown = fetch(sys, info->id + 1, 0);
  EXPECT_EQ(unknown.err.category(), snap::error_category);
  EXPECT_EQ(unknown.err.code(), static_cast<uint8_t>(snap::errc::invalid_argument));
  EXPECT_NE(sys.render(unknown.err).find("no stored snapshot"),
            std::string::npos)
    << sys.render(unknown.err);
  auto at_end = fetch(sys, info->id, size);
  EXPECT_FALSE(at_end.err) << sys.render(at_end.err);
  EXPECT_TRUE(at_end.chunk.empty());
  auto past_end = fetch(sys, info->id, size + 1);
  EXPECT_EQ(past_end.err.code(),
            static_cast<uint8_t>(snap::errc::invalid_argument));
}

TEST_F(fetch_fixture, removed_file_is_a_storage_failure_naming_the_path) {
  auto info = test::take(sys);
  ASSERT_TRUE(info) << sys.render(info.error());
  std::filesystem::remove(info->path);
  auto r = fetch(sys, info->id, 0);
  EXPECT_EQ(r.err.category(), snap::error_category);
  EXPECT_EQ(r.err.code(), static_cast<uint8_t>(snap::errc::storage_failed));
  EXPECT_NE(sys.render(r.err).find(info->path), std::string::npos)
    << sys.render(r.err);
}
