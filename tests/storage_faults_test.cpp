// Storage faults injected into a running system through the file-system
// layer the coordinator stores with (`module::use_file_system`): a full
// disk, a refused create, failing fsyncs, and a crash between writing and
// renaming. Each time the requester gets `storage_failed` naming the
// directory and the reason, no file appears under a final name (and no
// temporary file stays), earlier snapshots stay readable, the actors keep
// working, and the next snapshot succeeds once the fault is gone.

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "edge_cases_util.hpp"
#include "faulty_file_system.hpp"

namespace {

using namespace edge;

namespace fs = std::filesystem;

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> result;
  for (auto& entry : fs::directory_iterator{dir})
    result.push_back(entry.path().filename().string());
  return result;
}

/// Runs the scenario with `fault` (a member of the file system) set to
/// `error` for the second snapshot only.
void expect_fault_handled(std::atomic<int> test::faulty_file_system::*fault,
                          int error, const std::string& reason) {
  SCOPED_TRACE(reason);
  test::temp_dir dir;
  test::config cfg{dir.path()};
  caf::actor_system sys{cfg};
  test::faulty_file_system faulty;
  snap::module::find(sys)->use_file_system(&faulty);
  auto worker = sys.spawn(counter_fn, gate_ptr{});
  caf::anon_send(worker, 1);
  // Handled before the snapshot (markers overtake normal messages).
  ASSERT_EQ(ask<int64_t>(sys, worker, query_atom::value), 1);
  auto first = test::take(sys);
  ASSERT_TRUE(first) << sys.render(first.error());
  faulty.*fault = error;
  caf::anon_send(worker, 2);
  auto failed = test::take(sys);
  ASSERT_FALSE(failed) << "stored at " << failed->path << " despite "
                       << reason;
  auto text = sys.render(failed.error());
  EXPECT_TRUE(is_snapshot_error(failed.error(), snap::errc::storage_failed))
    << text;
  EXPECT_NE(text.find(reason), std::string::npos) << text;
  EXPECT_NE(text.find(dir.path()), std::string::npos) << text;
  // Nothing new under a final name, no temporary file left behind.
  EXPECT_EQ(files_in(dir.path()),
            std::vector<std::string>{fs::path{first->path}.filename()});
  // The earlier snapshot is intact.
  auto earlier = snap::load(first->path);
  ASSERT_TRUE(earlier) << snap::render(earlier.error());
  EXPECT_EQ(state_of<counter_state>(*earlier, worker.id()).sum, 1);
  // The actors kept working; with the fault gone, snapshots succeed again.
  EXPECT_EQ(ask<int64_t>(sys, worker, query_atom::value), 2);
  faulty.*fault = 0;
  auto next = test::take(sys);
  ASSERT_TRUE(next) << sys.render(next.error());
  auto later = snap::load(next->path);
  ASSERT_TRUE(later) << snap::render(later.error());
  EXPECT_EQ(state_of<counter_state>(*later, worker.id()).sum, 3);
  EXPECT_EQ(files_in(dir.path()).size(), 2u);
  snap::module::find(sys)->use_file_system(nullptr);
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
}

} // namespace

TEST(storage_faults, full_disk_while_writing) {
  expect_fault_handled(&test::faulty_file_system::write_error, ENOSPC, strerror(ENOSPC));
}

TEST(storage_faults, permission_denied_when_creating) {
  expect_fault_handled(&test::faulty_file_system::create_error, EACCES,
                       strerror(EACCES));
}

TEST(storage_faults, io_error_on_fsync) {
  expect_fault_handled(&test::faulty_file_system::fsync_error, EIO, strerror(EIO));
}

TEST(storage_faults, crash_between_write_and_rename) {
  expect_fault_handled(&test::faulty_file_system::rename_error, EIO, "rename");
}

TEST(storage_faults, io_error_on_directory_fsync) {
  expect_fault_handled(&test::faulty_file_system::dir_fsync_error, EIO,
                       strerror(EIO));
}
