// A file that appears under its final name only once it is complete: it is
// written under a hidden temporary name in the target directory and renamed
// by `commit`. Without `commit`, the temporary file is removed.
//
// Usage:
//   part_file out{dir};                    // throws on a bad directory
//   out.write(chunk.data(), chunk.size());
//   out.finish();                          // flushed to disk, closed
//   verify(out.temp_path());
//   out.commit("snapshot-00000001-1700000000000.cafsnap");
//
// Not thread-safe.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace caf_snapshot_tool {

/// Thrown by `part_file` for file system errors; the message names the path
/// and the reason.
class disk_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A new file in a directory, visible under its final name after `commit`.
class part_file {
public:
  /// Creates `.caf-snapshot-XXXXXX.part` (mode 0600) in `dir`.
  /// @throws disk_error if `dir` is missing, not a directory or not
  ///         writable.
  explicit part_file(std::string dir);

  /// Removes the temporary file unless committed.
  ~part_file();

  part_file(const part_file&) = delete;
  part_file& operator=(const part_file&) = delete;

  /// Appends `size` bytes.
  /// @throws disk_error
  void write(const char* data, size_t size);

  /// Flushes the file to disk and closes it.
  /// @throws disk_error
  void finish();

  /// Renames the finished file to `name` in its directory, replacing a file
  /// of that name; returns the new path.
  /// @throws disk_error
  std::string commit(const std::string& name);

  /// Path of the temporary file.
  const std::string& temp_path() const noexcept {
    return temp_path_;
  }

private:
  [[noreturn]] void fail(const std::string& path, const std::string& what,
                         int err) const;

  std::string dir_;
  std::string temp_path_;
  int fd_ = -1;
  bool committed_ = false;
};

} // namespace caf_snapshot_tool
