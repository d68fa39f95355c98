// A file system for tests that fails chosen operations with chosen errno
// values; 0 means "call the operating system". The fields are atomic: a
// running coordinator reads them on its own thread.
//
// Usage:
//   test::faulty_file_system fs;
//   fs.write_error = ENOSPC;                 // every write fails from now on
//   snap::module::find(sys)->use_file_system(&fs);
#pragma once

#include <atomic>
#include <string>

#include "caf/snapshot/detail/file_system.hpp"

namespace test {

/// Fails each operation with its error value while that value is non-zero.
class faulty_file_system : public caf::snapshot::detail::file_system {
public:
  using super = caf::snapshot::detail::file_system;

  std::atomic<int> create_error{0};
  std::atomic<int> write_error{0};
  std::atomic<int> fsync_error{0};
  /// Fails the rename: what a crash between writing and renaming leaves
  /// for the writer to clean up.
  std::atomic<int> rename_error{0};
  std::atomic<int> dir_fsync_error{0};

  int create(const std::string& path, int& fd) override {
    int err = create_error;
    return err != 0 ? err : super::create(path, fd);
  }

  int write(int fd, const void* data, size_t size) override {
    int err = write_error;
    return err != 0 ? err : super::write(fd, data, size);
  }

  int fsync(int fd) override {
    int err = fsync_error;
    return err != 0 ? err : super::fsync(fd);
  }

  int rename_noreplace(const std::string& from,
                       const std::string& to) override {
    int err = rename_error;
    return err != 0 ? err : super::rename_noreplace(from, to);
  }

  int fsync_directory(const std::string& path) override {
    int err = dir_fsync_error;
    return err != 0 ? err : super::fsync_directory(path);
  }
};

} // namespace test
