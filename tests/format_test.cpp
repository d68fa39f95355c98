// Tests of the snapshot file format: writer, loader, error handling and
// message decoding.

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/binary_serializer.hpp"
#include "caf/message.hpp"

#include "caf/snapshot/detail/crc32.hpp"
#include "caf/snapshot/detail/file_format.hpp"
#include "caf/snapshot/detail/file_system.hpp"
#include "caf/snapshot/detail/snapshot_writer.hpp"
#include "caf/snapshot/errc.hpp"
#include "caf/snapshot/global_snapshot.hpp"
#include "caf/snapshot/load.hpp"

#include "allocation_tracking.hpp"
#include "faulty_file_system.hpp"

namespace {

using test::allocation_scope;
using test::largest_allocation;

using namespace caf::snapshot;
using caf::snapshot::detail::file_system;
using caf::snapshot::detail::snapshot_writer;
namespace ff = caf::snapshot::detail::file_format;

using bytes = std::vector<uint8_t>;

// -- helpers ------------------------------------------------------------------

bytes read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return bytes{std::istreambuf_iterator<char>{in},
               std::istreambuf_iterator<char>{}};
}

void write_file(const std::string& path, const bytes& xs) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out.write(reinterpret_cast<const char*>(xs.data()),
            static_cast<std::streamsize>(xs.size()));
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> result;
  if (auto d = opendir(dir.c_str())) {
    while (auto entry = readdir(d)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..")
        result.push_back(name);
    }
    closedir(d);
  }
  return result;
}

errc code_of(const caf::error& err) {
  EXPECT_EQ(err.category(), error_category) << caf::to_string(err);
  return static_cast<errc>(err.code());
}

actor_record sample_actor(caf::actor_id id) {
  actor_record x;
  x.id = id;
  x.node = "0123456789ABCDEF0123456789ABCDEF01234567#4711";
  x.name = "account";
  x.status = id % 2 == 0 ? actor_status::running : actor_status::exited;
  x.exit_reason = x.status == actor_status::exited ? "user_shutdown" : "";
  x.state = {'\x00', '\x01', '\xff', 'a', 'b'};
  x.state_text = "account(balance = " + std::to_string(id) + ")";
  x.pending_requests = {1, 2, 0xFFFFFFFFFFFFFFFFu};
  x.awaited = {{2, id + 1, "node-b"}, {0xFFFFFFFFFFFFFFFFu, 0, ""}};
  return x;
}

message_record sample_message(caf::actor_id sender) {
  message_record x;
  x.sender = sender;
  x.sender_node = "node-a";
  x.receiver = sender + 100;
  x.receiver_node = "node-b";
  x.mid = 0x8000000000000042u;
  x.priority = 1;
  x.location = message_location::stash;
  x.from_participant = false;
  x.content = {'\x10', '\x00', '\x7f'};
  x.text = "(\"deposit\", 10)";
  return x;
}

void expect_equal(const actor_record& x, const actor_record& y) {
  EXPECT_EQ(x.id, y.id);
  EXPECT_EQ(x.node, y.node);
  EXPECT_EQ(x.name, y.name);
  EXPECT_EQ(x.status, y.status);
  EXPECT_EQ(x.exit_reason, y.exit_reason);
  EXPECT_EQ(x.state, y.state);
  EXPECT_EQ(x.state_text, y.state_text);
  EXPECT_EQ(x.pending_requests, y.pending_requests);
  ASSERT_EQ(x.awaited.size(), y.awaited.size());
  for (size_t i = 0; i < x.awaited.size(); ++i) {
    EXPECT_EQ(x.awaited[i].id, y.awaited[i].id);
    EXPECT_EQ(x.awaited[i].target, y.awaited[i].target);
    EXPECT_EQ(x.awaited[i].target_node, y.awaited[i].target_node);
  }
}

void expect_equal(const message_record& x, const message_record& y) {
  EXPECT_EQ(x.sender, y.sender);
  EXPECT_EQ(x.sender_node, y.sender_node);
  EXPECT_EQ(x.receiver, y.receiver);
  EXPECT_EQ(x.receiver_node, y.receiver_node);
  EXPECT_EQ(x.mid, y.mid);
  EXPECT_EQ(x.priority, y.priority);
  EXPECT_EQ(x.location, y.location);
  EXPECT_EQ(x.from_participant, y.from_participant);
  EXPECT_EQ(x.content, y.content);
  EXPECT_EQ(x.text, y.text);
}

// Builds files record by record, for crafting damaged or hostile input.
class file_builder {
public:
  file_builder() : buf_(ff::magic, ff::magic + ff::magic_size) {
    // nop
  }

  // Appends a record with a correct frame and checksum.
  file_builder& record(ff::record_tag tag, const bytes& payload) {
    return raw_record(static_cast<uint8_t>(tag),
                      static_cast<uint32_t>(payload.size()), payload);
  }

  // Appends a record with any tag and length field and a correct checksum.
  file_builder& raw_record(uint8_t tag, uint32_t len, const bytes& payload) {
    auto start = buf_.size();
    buf_.push_back(tag);
    u32(buf_, len);
    buf_.insert(buf_.end(), payload.begin(), payload.end());
    prev_crc_ = caf::snapshot::detail::crc32_update(
      prev_crc_, buf_.data() + start, buf_.size() - start);
    u32(buf_, prev_crc_);
    return *this;
  }

  file_builder& header(uint32_t version = ff::version) {
    bytes p;
    u32(p, version);
    u64(p, 7);
    str(p, "coordinator");
    u64(p, 1234);
    return record(ff::record_tag::header, p);
  }

  file_builder& footer(uint64_t actors, uint64_t messages,
                       uint32_t crc_mask = 0) {
    auto file_crc = caf::snapshot::detail::crc32(buf_.data(), buf_.size())
                    ^ crc_mask;
    bytes p;
    u64(p, actors);
    u64(p, messages);
    p.push_back(1);
    str(p, "");
    u64(p, 5678);
    u32(p, file_crc);
    return record(ff::record_tag::footer, p);
  }

  const bytes& data() const {
    return buf_;
  }

  static void u32(bytes& xs, uint32_t x) {
    uint8_t tmp[4];
    ff::store_u32(tmp, x);
    xs.insert(xs.end(), tmp, tmp + 4);
  }

  static void u64(bytes& xs, uint64_t x) {
    uint8_t tmp[8];
    ff::store_u64(tmp, x);
    xs.insert(xs.end(), tmp, tmp + 8);
  }

  static void str(bytes& xs, const std::string& x) {
    u32(xs, static_cast<uint32_t>(x.size()));
    xs.insert(xs.end(), x.begin(), x.end());
  }

private:
  bytes buf_;
  uint32_t prev_crc_ = 0;
};

// A valid actor payload with the given string length field for `node`
// (format version 2 unless `version` says otherwise).
bytes actor_payload(uint32_t node_len, uint32_t num_requests = 0,
                    uint32_t num_awaited = 0, uint32_t version = ff::version) {
  bytes p;
  file_builder::u64(p, 1);
  file_builder::u32(p, node_len);
  p.insert(p.end(), {'n', 'o', 'd', 'e'});
  file_builder::str(p, "name");
  p.push_back(0);
  file_builder::str(p, "");
  file_builder::str(p, "");
  file_builder::str(p, "");
  file_builder::u32(p, num_requests);
  if (version >= 2)
    file_builder::u32(p, num_awaited);
  return p;
}

// Fails selected operations.
using test::faulty_file_system;

// -- fixture ------------------------------------------------------------------

class format_test : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/caf-snapshot-format-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }

  void TearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    if (std::system(cmd.c_str()) != 0)
      ADD_FAILURE() << "cannot remove " << dir_;
  }

  std::string path(const std::string& name) const {
    return dir_ + '/' + name;
  }

  // Writes a snapshot with `num_actors` actors and `num_messages` messages.
  std::string write_snapshot(size_t num_actors, size_t num_messages,
                             file_system& fs
                             = caf::snapshot::detail::default_file_system()) {
    auto w = snapshot_writer::open(fs, dir_, 42, "coordinator-node", 1000);
    EXPECT_TRUE(w) << render(w.error());
    if (!w)
      return {};
    for (size_t i = 0; i < num_actors; ++i)
      EXPECT_FALSE((*w)->append(sample_actor(i + 1)));
    for (size_t i = 0; i < num_messages; ++i)
      EXPECT_FALSE((*w)->append(sample_message(i + 1)));
    std::string final_path;
    auto size = (*w)->commit(true, "", 2000, final_path);
    EXPECT_TRUE(size) << render(size.error());
    return final_path;
  }

  // Writes a tiny but complete snapshot and returns its bytes.
  bytes small_snapshot() {
    auto w = snapshot_writer::open(caf::snapshot::detail::default_file_system(),
                                   dir_ + "/small", 1, "n", 1);
    EXPECT_TRUE(w);
    actor_record a;
    a.id = 1;
    a.node = "n";
    a.state = {'s'};
    a.pending_requests = {9};
    message_record m;
    m.sender = 1;
    m.receiver = 2;
    m.content = {'c'};
    EXPECT_FALSE((*w)->append(a));
    EXPECT_FALSE((*w)->append(m));
    std::string final_path;
    EXPECT_TRUE((*w)->commit(false, "timeout", 2, final_path));
    auto result = read_file(final_path);
    unlink(final_path.c_str());
    return result;
  }

  // Expects a load of `xs` to fail with `code`, never to succeed.
  void expect_load_error(const bytes& xs, errc code, const std::string& what) {
    auto file = path("input.cafsnap");
    write_file(file, xs);
    auto res = load(file);
    ASSERT_FALSE(res) << what;
    EXPECT_EQ(code_of(res.error()), code)
      << what << ": " << render(res.error());
  }

  std::string dir_;
};

// -- errc -------------------------------------------------------------------

TEST(format_errc_test, renders_errors) {
  EXPECT_EQ(to_string(errc::file_damaged), "file_damaged");
  EXPECT_EQ(to_string(errc::shutting_down), "shutting_down");
  EXPECT_EQ(
    render(make_error(errc::file_damaged, "checksum mismatch in record 3")),
    "snapshot: file_damaged (checksum mismatch in record 3)");
  EXPECT_EQ(render(make_error(errc::timed_out)), "snapshot: timed_out");
  EXPECT_EQ(render(make_error(errc::timed_out, "")), "snapshot: timed_out");
  EXPECT_FALSE(make_error(errc::none));
  auto err = make_error(errc::storage_failed, "x");
  EXPECT_EQ(err.category(), error_category);
  EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::storage_failed));
  caf::error other = caf::sec::unexpected_message;
  EXPECT_EQ(render(other), caf::to_string(other));
}

TEST(format_errc_test, crc32_matches_the_standard_check_value) {
  const char* input = "123456789";
  EXPECT_EQ(caf::snapshot::detail::crc32(input, 9), 0xCBF43926u);
  caf::snapshot::detail::crc32_state st;
  st.update(input, 4);
  st.update(input + 4, 5);
  EXPECT_EQ(st.value(), 0xCBF43926u);
}

// The eight-bytes-at-a-time loop must agree with the definition (one bit at
// a time) for every length, alignment and split into two blocks.
TEST(format_errc_test, crc32_agrees_with_the_bitwise_definition) {
  auto bitwise = [](const unsigned char* p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; ++i) {
      c ^= p[i];
      for (int k = 0; k < 8; ++k)
        c = (c & 1u) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
  };
  std::vector<unsigned char> data(600);
  uint32_t x = 12345;
  for (auto& b : data) {
    x = x * 1103515245u + 12345u;
    b = static_cast<unsigned char>(x >> 16);
  }
  // Up to 300 bytes: the tables (below 64 bytes), folding by 4 blocks of 16
  // (from 64) and the tails of both.
  for (size_t offset = 0; offset < 16; ++offset)
    for (size_t n = 0; n <= 300; ++n) {
      auto p = data.data() + offset;
      auto expected = bitwise(p, n);
      ASSERT_EQ(caf::snapshot::detail::crc32(p, n), expected)
        << "offset " << offset << ", length " << n;
      ASSERT_EQ(caf::snapshot::detail::crc32_update_portable(0, p, n),
                expected)
        << "offset " << offset << ", length " << n;
      for (size_t split = 0; split <= n; split += n <= 100 ? 3 : 37) {
        auto first = caf::snapshot::detail::crc32(p, split);
        ASSERT_EQ(caf::snapshot::detail::crc32_update(first, p + split,
                                                      n - split),
                  expected)
          << "offset " << offset << ", length " << n << ", split " << split;
      }
    }
}

TEST(format_errc_test, crc32_of_large_blocks_agrees_with_the_tables) {
  std::vector<unsigned char> data(1 << 20);
  uint32_t x = 777;
  for (auto& b : data) {
    x = x * 1103515245u + 12345u;
    b = static_cast<unsigned char>(x >> 16);
  }
  for (size_t n : {size_t{64}, size_t{1000}, size_t{4096}, size_t{65537},
                   data.size() - 3})
    for (size_t offset : {size_t{0}, size_t{1}, size_t{3}}) {
      auto p = data.data() + offset;
      EXPECT_EQ(caf::snapshot::detail::crc32(p, n),
                caf::snapshot::detail::crc32_update_portable(0, p, n))
        << "offset " << offset << ", length " << n;
    }
}

// -- round trips --------------------------------------------------------------

TEST_F(format_test, round_trip_keeps_all_fields) {
  auto w = snapshot_writer::open(caf::snapshot::detail::default_file_system(),
                                 dir_, 42, "coordinator-node", 1000);
  ASSERT_TRUE(w) << render(w.error());
  std::vector<actor_record> actors;
  std::vector<message_record> messages;
  for (caf::actor_id i = 1; i <= 3; ++i) {
    actors.push_back(sample_actor(i));
    messages.push_back(sample_message(i));
    ASSERT_FALSE((*w)->append(actors.back()));
    ASSERT_FALSE((*w)->append(messages.back()));
  }
  message_record plain; // all defaults, empty strings and blobs
  messages.push_back(plain);
  ASSERT_FALSE((*w)->append(plain));
  EXPECT_EQ((*w)->actors_written(), 3u);
  EXPECT_EQ((*w)->messages_written(), 4u);
  std::string final_path;
  auto size = (*w)->commit(false, "node-b unreachable", 2000, final_path);
  ASSERT_TRUE(size) << render(size.error());
  EXPECT_EQ(final_path, dir_ + "/snapshot-00000042-1000.cafsnap");
  struct stat st;
  ASSERT_EQ(stat(final_path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), *size);
  auto snap = load(final_path);
  ASSERT_TRUE(snap) << render(snap.error());
  EXPECT_EQ(snap->id, 42u);
  EXPECT_EQ(snap->coordinator_node, "coordinator-node");
  EXPECT_EQ(snap->requested_at_ms, 1000u);
  EXPECT_EQ(snap->completed_at_ms, 2000u);
  EXPECT_FALSE(snap->complete);
  EXPECT_EQ(snap->incomplete_reason, "node-b unreachable");
  ASSERT_EQ(snap->actors.size(), actors.size());
  for (size_t i = 0; i < actors.size(); ++i)
    expect_equal(snap->actors[i], actors[i]);
  ASSERT_EQ(snap->in_flight.size(), messages.size());
  for (size_t i = 0; i < messages.size(); ++i)
    expect_equal(snap->in_flight[i], messages[i]);
  EXPECT_EQ(list_dir(dir_).size(), 1u);
}

TEST_F(format_test, empty_snapshot_round_trips) {
  auto file = write_snapshot(0, 0);
  auto snap = load(file);
  ASSERT_TRUE(snap) << render(snap.error());
  EXPECT_TRUE(snap->complete);
  EXPECT_TRUE(snap->incomplete_reason.empty());
  EXPECT_TRUE(snap->actors.empty());
  EXPECT_TRUE(snap->in_flight.empty());
}

TEST_F(format_test, records_larger_than_the_buffer_round_trip) {
  auto w = snapshot_writer::open(caf::snapshot::detail::default_file_system(),
                                 dir_, 1, "n", 1);
  ASSERT_TRUE(w);
  auto big = sample_actor(1);
  big.state.resize(3 * ff::write_buffer_size + 17);
  for (size_t i = 0; i < big.state.size(); ++i)
    big.state[i] = static_cast<char>(i * 31);
  for (int i = 0; i < 3; ++i)
    ASSERT_FALSE((*w)->append(big));
  for (int i = 0; i < 5000; ++i)
    ASSERT_FALSE((*w)->append(sample_message(i)));
  std::string final_path;
  ASSERT_TRUE((*w)->commit(true, "", 2, final_path));
  auto snap = load(final_path);
  ASSERT_TRUE(snap) << render(snap.error());
  ASSERT_EQ(snap->actors.size(), 3u);
  expect_equal(snap->actors[2], big);
  ASSERT_EQ(snap->in_flight.size(), 5000u);
  expect_equal(snap->in_flight[4999], sample_message(4999));
}

TEST_F(format_test, names_never_collide) {
  auto first = write_snapshot(1, 0);
  auto second = write_snapshot(2, 0);
  EXPECT_EQ(first, dir_ + "/snapshot-00000042-1000.cafsnap");
  EXPECT_EQ(second, dir_ + "/snapshot-00000042-1000-2.cafsnap");
  ASSERT_TRUE(load(first));
  ASSERT_TRUE(load(second));
  EXPECT_EQ(load(first)->actors.size(), 1u);
  EXPECT_EQ(load(second)->actors.size(), 2u);
}

TEST_F(format_test, committed_file_has_mode_0600_and_new_dirs_0700) {
  auto w = snapshot_writer::open(caf::snapshot::detail::default_file_system(),
                                 dir_ + "/a/b/c", 1, "n", 1);
  ASSERT_TRUE(w) << render(w.error());
  struct stat st;
  ASSERT_EQ(stat((*w)->temp_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string final_path;
  ASSERT_TRUE((*w)->commit(true, "", 2, final_path));
  ASSERT_EQ(stat(final_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((dir_ + "/a/b/c").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST_F(format_test, temp_file_is_hidden_and_removed_on_abort) {
  {
    auto w = snapshot_writer::open(caf::snapshot::detail::default_file_system(),
                                   dir_, 1, "n", 1);
    ASSERT_TRUE(w);
    ASSERT_FALSE((*w)->append(sample_actor(1)));
    auto files = list_dir(dir_);
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].rfind(".snapshot-1-", 0), 0u) << files[0];
    EXPECT_NE(files[0].find(".tmp"), std::string::npos);
  } // destructor aborts
  EXPECT_TRUE(list_dir(dir_).empty());
  auto w = snapshot_writer::open(caf::snapshot::detail::default_file_system(),
                                 dir_, 1, "n", 1);
  ASSERT_TRUE(w);
  (*w)->abort();
  EXPECT_TRUE(list_dir(dir_).empty());
  std::string final_path;
  auto res = (*w)->commit(true, "", 2, final_path);
  ASSERT_FALSE(res);
  EXPECT_EQ(code_of(res.error()), errc::storage_failed);
  EXPECT_TRUE(list_dir(dir_).empty());
}

TEST_F(format_test, invalid_records_are_rejected_without_breaking_writer) {
  auto w = snapshot_writer::open(caf::snapshot::detail::default_file_system(),
                                 dir_, 1, "n", 1);
  ASSERT_TRUE(w);
  auto bad_actor = sample_actor(1);
  bad_actor.status = static_cast<actor_status>(9);
  auto err = (*w)->append(bad_actor);
  ASSERT_TRUE(err);
  EXPECT_EQ(code_of(err), errc::invalid_argument);
  auto bad_message = sample_message(1);
  bad_message.location = static_cast<message_location>(9);
  err = (*w)->append(bad_message);
  ASSERT_TRUE(err);
  EXPECT_EQ(code_of(err), errc::invalid_argument);
  ASSERT_FALSE((*w)->append(sample_actor(2)));
  std::string final_path;
  ASSERT_TRUE((*w)->commit(true, "", 2, final_path));
  auto snap = load(final_path);
  ASSERT_TRUE(snap) << render(snap.error());
  EXPECT_EQ(snap->actors.size(), 1u);
  EXPECT_EQ(snap->in_flight.size(), 0u);
}

// -- storage failures ---------------------------------------------------------

class format_storage_test : public format_test {
protected:
  void expect_storage_failed(faulty_file_system& fs, const char* reason) {
    std::string final_path;
    caf::error err;
    auto w = snapshot_writer::open(fs, dir_, 5, "n", 1);
    if (!w) {
      err = std::move(w.error());
    } else {
      for (int i = 0; i < 3 && !err; ++i)
        err = (*w)->append(sample_actor(i));
      if (!err) {
        auto res = (*w)->commit(true, "", 2, final_path);
        if (res)
          FAIL() << "commit succeeded despite " << reason;
        else
          err = std::move(res.error());
      }
    }
    ASSERT_TRUE(err);
    EXPECT_EQ(code_of(err), errc::storage_failed);
    EXPECT_NE(render(err).find(reason), std::string::npos) << render(err);
    EXPECT_NE(render(err).find(dir_), std::string::npos) << render(err);
    EXPECT_TRUE(final_path.empty());
    EXPECT_TRUE(list_dir(dir_).empty()) << list_dir(dir_).front();
  }
};

TEST_F(format_storage_test, fsync_eio) {
  faulty_file_system fs;
  fs.fsync_error = EIO;
  expect_storage_failed(fs, strerror(EIO));
}

TEST_F(format_storage_test, write_enospc) {
  faulty_file_system fs;
  fs.write_error = ENOSPC;
  expect_storage_failed(fs, strerror(ENOSPC));
}

TEST_F(format_storage_test, write_enospc_during_large_snapshot) {
  faulty_file_system fs;
  auto w = snapshot_writer::open(fs, dir_, 5, "n", 1);
  ASSERT_TRUE(w);
  fs.write_error = ENOSPC;
  auto big = sample_actor(1);
  big.state.resize(2 * ff::write_buffer_size);
  auto err = (*w)->append(big);
  ASSERT_TRUE(err);
  EXPECT_EQ(code_of(err), errc::storage_failed);
  EXPECT_TRUE(list_dir(dir_).empty());
  // Every later call reports the failure.
  EXPECT_TRUE((*w)->append(sample_actor(2)));
  std::string final_path;
  EXPECT_FALSE((*w)->commit(true, "", 2, final_path));
  EXPECT_TRUE(list_dir(dir_).empty());
}

TEST_F(format_storage_test, create_eacces) {
  faulty_file_system fs;
  fs.create_error = EACCES;
  expect_storage_failed(fs, strerror(EACCES));
}

TEST_F(format_storage_test, crash_before_rename) {
  faulty_file_system fs;
  fs.rename_error = EIO;
  expect_storage_failed(fs, "rename");
}

TEST_F(format_storage_test, directory_fsync_eio) {
  faulty_file_system fs;
  fs.dir_fsync_error = EIO;
  expect_storage_failed(fs, strerror(EIO));
}

TEST_F(format_storage_test, directory_is_a_file) {
  write_file(path("file"), bytes{1});
  auto w = snapshot_writer::open(caf::snapshot::detail::default_file_system(),
                                 path("file/sub"), 1, "n", 1);
  ASSERT_FALSE(w);
  EXPECT_EQ(code_of(w.error()), errc::storage_failed);
}

// -- damaged input ------------------------------------------------------------

TEST_F(format_test, empty_file_is_damaged) {
  expect_load_error(bytes{}, errc::file_damaged, "empty file");
}

TEST_F(format_test, missing_file_cannot_be_opened) {
  auto file = path("does-not-exist.cafsnap");
  auto res = load(file);
  ASSERT_FALSE(res);
  EXPECT_EQ(code_of(res.error()), errc::cannot_open);
  EXPECT_NE(render(res.error()).find(file), std::string::npos);
  EXPECT_NE(render(res.error()).find(strerror(ENOENT)), std::string::npos);
}

TEST_F(format_test, directories_and_fifos_cannot_be_opened) {
  auto res = load(dir_);
  ASSERT_FALSE(res);
  EXPECT_EQ(code_of(res.error()), errc::cannot_open);
  auto fifo = path("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  res = load(fifo); // must not block waiting for a writer
  ASSERT_FALSE(res);
  EXPECT_EQ(code_of(res.error()), errc::cannot_open);
}

TEST_F(format_test, wrong_magic_is_not_a_snapshot) {
  std::string text = "hello world, this is not a snapshot\n";
  expect_load_error(bytes(text.begin(), text.end()), errc::not_a_snapshot,
                    "text file");
  expect_load_error(bytes{'C', 'A', 'F'}, errc::file_damaged,
                    "truncated magic");
  expect_load_error(bytes{'X'}, errc::not_a_snapshot, "one byte");
  auto xs = small_snapshot();
  xs[7] = 'X';
  expect_load_error(xs, errc::not_a_snapshot, "last magic byte");
}

TEST_F(format_test, future_version_is_unsupported) {
  expect_load_error(file_builder{}.header(ff::version + 1).footer(0, 0).data(),
                    errc::unsupported_version, "future version");
  expect_load_error(file_builder{}.header(0).data(), errc::unsupported_version,
                    "version 0");
  // A future version may change everything after the header.
  auto xs = file_builder{}.header(ff::version + 1).data();
  xs.insert(xs.end(), {0xde, 0xad, 0xbe, 0xef});
  expect_load_error(xs, errc::unsupported_version, "future layout");
}

TEST_F(format_test, crafted_minimal_file_is_valid) {
  auto file = path("crafted.cafsnap");
  write_file(file, file_builder{}.header().footer(0, 0).data());
  auto snap = load(file);
  ASSERT_TRUE(snap) << render(snap.error());
  EXPECT_EQ(snap->id, 7u);
  EXPECT_EQ(snap->coordinator_node, "coordinator");
}

TEST_F(format_test, truncation_at_every_offset_is_detected) {
  auto xs = small_snapshot();
  ASSERT_GT(xs.size(), 50u);
  {
    auto file = path("full.cafsnap");
    write_file(file, xs);
    auto snap = load(file);
    ASSERT_TRUE(snap) << render(snap.error());
    EXPECT_FALSE(snap->complete);
    EXPECT_EQ(snap->incomplete_reason, "timeout");
  }
  for (size_t n = 0; n < xs.size(); ++n)
    expect_load_error(bytes(xs.begin(), xs.begin() + n), errc::file_damaged,
                      "truncated to " + std::to_string(n) + " bytes");
}

TEST_F(format_test, flipped_bytes_at_every_offset_are_detected) {
  auto xs = small_snapshot();
  for (uint8_t mask : {uint8_t{0xFF}, uint8_t{0x01}, uint8_t{0x80}}) {
    for (size_t i = 0; i < xs.size(); ++i) {
      auto ys = xs;
      ys[i] ^= mask;
      auto file = path("flipped.cafsnap");
      write_file(file, ys);
      auto res = load(file);
      ASSERT_FALSE(res) << "flip at offset " << i;
      EXPECT_EQ(res.error().category(), error_category);
    }
  }
}

TEST_F(format_test, checksum_mismatch_names_record_and_offset) {
  auto xs = small_snapshot();
  // The first actor record follows magic and header; flip its last payload
  // byte (just before its CRC).
  auto header_len = ff::load_u32(xs.data() + ff::magic_size + 1);
  auto actor_offset = ff::magic_size + ff::frame_prefix_size + header_len
                      + ff::frame_suffix_size;
  auto actor_len = ff::load_u32(xs.data() + actor_offset + 1);
  xs[actor_offset + ff::frame_prefix_size + actor_len - 1] ^= 0x55;
  auto file = path("crc.cafsnap");
  write_file(file, xs);
  auto res = load(file);
  ASSERT_FALSE(res);
  EXPECT_EQ(code_of(res.error()), errc::file_damaged);
  auto text = render(res.error());
  EXPECT_NE(text.find("checksum mismatch in record 1"), std::string::npos)
    << text;
  EXPECT_NE(text.find("byte offset " + std::to_string(actor_offset)),
            std::string::npos)
    << text;
}

TEST_F(format_test, hostile_lengths_do_not_allocate) {
  // Record length 0xFFFFFFFF right after the magic.
  auto xs = bytes(ff::magic, ff::magic + ff::magic_size);
  xs.push_back(static_cast<uint8_t>(ff::record_tag::header));
  file_builder::u32(xs, 0xFFFFFFFFu);
  xs.resize(xs.size() + 64, 0);
  {
    allocation_scope guard;
    expect_load_error(xs, errc::file_damaged, "huge record length");
  }
  EXPECT_LT(largest_allocation.load(), 1024u * 1024u);
  // Plausible record length but a string length of 0xFFFFFFFF inside.
  auto ys = file_builder{}
              .header()
              .record(ff::record_tag::actor, actor_payload(0xFFFFFFFFu))
              .footer(1, 0)
              .data();
  {
    allocation_scope guard;
    expect_load_error(ys, errc::file_damaged, "huge string length");
  }
  EXPECT_LT(largest_allocation.load(), 1024u * 1024u);
  // A pending-request count of 0xFFFFFFFF.
  auto zs = file_builder{}
              .header()
              .record(ff::record_tag::actor, actor_payload(4, 0xFFFFFFFFu))
              .footer(1, 0)
              .data();
  {
    allocation_scope guard;
    expect_load_error(zs, errc::file_damaged, "huge request count");
  }
  EXPECT_LT(largest_allocation.load(), 1024u * 1024u);
}

TEST_F(format_test, version_1_files_load_without_awaited_requests) {
  static_assert(ff::min_version == 1, "version 1 must stay readable");
  auto file = path("v1.cafsnap");
  write_file(file, file_builder{}
                     .header(1)
                     .record(ff::record_tag::actor, actor_payload(4, 0, 0, 1))
                     .footer(1, 0)
                     .data());
  auto snap = load(file);
  ASSERT_TRUE(snap) << render(snap.error());
  ASSERT_EQ(snap->actors.size(), 1u);
  EXPECT_TRUE(snap->actors[0].awaited.empty());
  // A version-2 record in a version-1 file has a trailing field: damage.
  expect_load_error(file_builder{}
                      .header(1)
                      .record(ff::record_tag::actor, actor_payload(4))
                      .footer(1, 0)
                      .data(),
                    errc::file_damaged, "v2 record in v1 file");
  // And a version-1 record in a version-2 file lacks one.
  expect_load_error(file_builder{}
                      .header(2)
                      .record(ff::record_tag::actor, actor_payload(4, 0, 0, 1))
                      .footer(1, 0)
                      .data(),
                    errc::file_damaged, "v1 record in v2 file");
}

TEST_F(format_test, huge_awaited_count_is_damage_without_allocating_it) {
  auto xs = file_builder{}
              .header()
              .record(ff::record_tag::actor, actor_payload(4, 0, 0xFFFFFFFFu))
              .footer(1, 0)
              .data();
  {
    allocation_scope guard;
    expect_load_error(xs, errc::file_damaged, "huge awaited count");
  }
  EXPECT_LT(largest_allocation.load(), 1024u * 1024u);
}

TEST_F(format_test, structural_damage_is_detected) {
  auto actor = actor_payload(4);
  auto file = path("ok.cafsnap");
  write_file(file, file_builder{}
                     .header()
                     .record(ff::record_tag::actor, actor)
                     .footer(1, 0)
                     .data());
  ASSERT_TRUE(load(file)) << render(load(file).error());
  expect_load_error(
    file_builder{}.header().record(ff::record_tag::actor, actor).data(),
    errc::file_damaged, "missing footer");
  expect_load_error(file_builder{}
                      .header()
                      .record(ff::record_tag::actor, actor)
                      .footer(2, 0)
                      .data(),
                    errc::file_damaged, "footer count mismatch");
  expect_load_error(
    file_builder{}.header().raw_record(9, 0, {}).footer(0, 0).data(),
    errc::file_damaged, "unknown tag");
  expect_load_error(file_builder{}.header().header().footer(0, 0).data(),
                    errc::file_damaged, "second header");
  expect_load_error(file_builder{}.footer(0, 0).data(), errc::file_damaged,
                    "footer first");
  expect_load_error(file_builder{}.header().footer(0, 0, 1).data(),
                    errc::file_damaged, "whole-file checksum");
  auto trailing = file_builder{}.header().footer(0, 0).data();
  trailing.push_back(0);
  expect_load_error(trailing, errc::file_damaged, "trailing byte");
  auto extra = actor;
  extra.push_back(0);
  expect_load_error(file_builder{}
                      .header()
                      .record(ff::record_tag::actor, extra)
                      .footer(1, 0)
                      .data(),
                    errc::file_damaged, "trailing payload byte");
  auto bad_status = actor;
  bad_status[8 + 4 + 4 + 4 + 4] = 7;
  expect_load_error(file_builder{}
                      .header()
                      .record(ff::record_tag::actor, bad_status)
                      .footer(1, 0)
                      .data(),
                    errc::file_damaged, "invalid status");
}

TEST_F(format_test, swapped_records_are_detected) {
  auto a1 = actor_payload(4);
  auto a2 = a1;
  a2[0] = 2; // actor ID 2
  auto good = file_builder{}
                .header()
                .record(ff::record_tag::actor, a1)
                .record(ff::record_tag::actor, a2)
                .footer(2, 0)
                .data();
  auto file = path("good.cafsnap");
  write_file(file, good);
  ASSERT_TRUE(load(file));
  // Swap the two (equally long) actor records byte for byte.
  auto header_len = ff::load_u32(good.data() + ff::magic_size + 1);
  auto first = ff::magic_size + ff::frame_prefix_size + header_len
               + ff::frame_suffix_size;
  auto len = ff::frame_prefix_size + a1.size() + ff::frame_suffix_size;
  auto swapped = good;
  std::copy(good.begin() + first + len, good.begin() + first + 2 * len,
            swapped.begin() + first);
  std::copy(good.begin() + first, good.begin() + first + len,
            swapped.begin() + first + len);
  ASSERT_NE(swapped, good);
  expect_load_error(swapped, errc::file_damaged, "swapped records");
}

// -- message decoding ---------------------------------------------------------

struct custom_type {
  int32_t value = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, custom_type& x) {
  return f(caf::meta::type_name("custom_type"), x.value);
}

std::vector<char> serialize(caf::actor_system& sys, const caf::message& msg) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  auto err = msg.save(sink);
  EXPECT_FALSE(err) << sys.render(err);
  return buf;
}

TEST_F(format_test, decode_round_trips_builtin_types) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto msg = caf::make_message(int32_t{1}, std::string{"x"});
  message_record rec;
  rec.sender = 1;
  rec.receiver = 2;
  rec.content = serialize(sys, msg);
  rec.text = caf::to_string(msg);
  ASSERT_FALSE(rec.content.empty());
  // Directly.
  auto decoded = rec.decode(sys);
  ASSERT_TRUE(decoded) << render(decoded.error());
  ASSERT_TRUE((decoded->match_elements<int32_t, std::string>()));
  EXPECT_EQ(decoded->get_as<int32_t>(0), 1);
  EXPECT_EQ(decoded->get_as<std::string>(1), "x");
  // Through a file.
  auto w = snapshot_writer::open(caf::snapshot::detail::default_file_system(),
                                 dir_, 1, "n", 1);
  ASSERT_TRUE(w);
  ASSERT_FALSE((*w)->append(rec));
  std::string final_path;
  ASSERT_TRUE((*w)->commit(true, "", 2, final_path));
  auto snap = load(final_path);
  ASSERT_TRUE(snap) << render(snap.error());
  ASSERT_EQ(snap->in_flight.size(), 1u);
  decoded = snap->in_flight[0].decode(sys);
  ASSERT_TRUE(decoded) << render(decoded.error());
  ASSERT_TRUE((decoded->match_elements<int32_t, std::string>()));
  EXPECT_EQ(decoded->get_as<int32_t>(0), 1);
  EXPECT_EQ(decoded->get_as<std::string>(1), "x");
}

TEST_F(format_test, decode_of_empty_content_is_unknown_type) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  message_record rec;
  rec.text = "(my_secret_type)";
  auto decoded = rec.decode(sys);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(code_of(decoded.error()), errc::unknown_type);
  EXPECT_NE(render(decoded.error()).find("my_secret_type"), std::string::npos);
}

TEST_F(format_test, decode_of_unannounced_type_is_unknown_type) {
  std::vector<char> content;
  {
    caf::actor_system_config cfg;
    cfg.add_message_type<custom_type>("custom_type");
    caf::actor_system sys{cfg};
    content = serialize(sys, caf::make_message(custom_type{42}));
    message_record rec;
    rec.content = content;
    auto decoded = rec.decode(sys);
    ASSERT_TRUE(decoded) << render(decoded.error());
    ASSERT_TRUE(decoded->match_elements<custom_type>());
    EXPECT_EQ(decoded->get_as<custom_type>(0).value, 42);
  }
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  message_record rec;
  rec.content = content;
  auto decoded = rec.decode(sys);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(code_of(decoded.error()), errc::unknown_type);
  EXPECT_NE(render(decoded.error()).find("custom_type"), std::string::npos)
    << render(decoded.error());
}

TEST_F(format_test, decode_of_garbage_is_an_error) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto good = serialize(sys, caf::make_message(int32_t{1}, std::string{"x"}));
  message_record rec;
  for (size_t n = 1; n < good.size(); ++n) {
    rec.content.assign(good.begin(), good.begin() + n);
    EXPECT_FALSE(rec.decode(sys)) << "truncated to " << n;
  }
  rec.content = good;
  rec.content.push_back('\0');
  EXPECT_FALSE(rec.decode(sys));
  rec.content = {'\xff', '\xff', '\xff', '\xff', '\x0f'};
  EXPECT_FALSE(rec.decode(sys));
}

TEST_F(format_test, decode_of_hostile_sequence_length_does_not_allocate) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto good = serialize(sys, caf::make_message(std::vector<char>{'a', 'b'}));
  // The blob ends with its varbyte length 2 and the bytes 'a', 'b'.
  ASSERT_GE(good.size(), 3u);
  ASSERT_EQ(good[good.size() - 3], '\x02');
  message_record rec;
  rec.content.assign(good.begin(), good.end() - 3);
  for (char c : {'\xff', '\xff', '\xff', '\xff', '\x0f', 'a', 'b'})
    rec.content.push_back(c);
  {
    allocation_scope guard;
    auto decoded = rec.decode(sys);
    ASSERT_FALSE(decoded);
    EXPECT_EQ(code_of(decoded.error()), errc::unknown_type);
  }
  EXPECT_LT(largest_allocation.load(), 1024u * 1024u);
  rec.content = good;
  auto decoded = rec.decode(sys);
  ASSERT_TRUE(decoded) << render(decoded.error());
  ASSERT_TRUE(decoded->match_elements<std::vector<char>>());
  EXPECT_EQ(decoded->get_as<std::vector<char>>(0),
            (std::vector<char>{'a', 'b'}));
}

} // namespace
