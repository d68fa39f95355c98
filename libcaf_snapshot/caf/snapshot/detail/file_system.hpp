// A thin, replaceable layer over the POSIX file operations that the snapshot
// store uses. Tests derive from `file_system` to inject failures such as a
// full disk or an I/O error.
//
// Usage:
//   auto& fs = caf::snapshot::detail::default_file_system();
//   int fd = -1;
//   if (int err = fs.create("/tmp/x.tmp", fd); err != 0)
//     std::cerr << caf::snapshot::detail::errno_text(err);
//
//   // A file system whose fsync fails:
//   struct broken_fs : caf::snapshot::detail::file_system {
//     int fsync(int) override { return EIO; }
//   };
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace caf::snapshot::detail {

/// POSIX file operations as overridable member functions. Each function
/// returns 0 on success or an `errno` value on failure.
class file_system {
public:
  virtual ~file_system();

  /// Creates `path` for writing with mode 0600 (before the umask); fails
  /// with `EEXIST` if it exists. Uses `O_CREAT | O_EXCL | O_WRONLY |
  /// O_CLOEXEC`. Stores the descriptor in `fd` on success.
  virtual int create(const std::string& path, int& fd);

  /// Writes all `size` bytes at `data` to `fd`, retrying after partial
  /// writes and `EINTR`.
  virtual int write(int fd, const void* data, size_t size);

  /// Flushes the contents of `fd` to stable storage.
  virtual int fsync(int fd);

  /// Closes `fd`. The descriptor is released even if this reports an error.
  virtual int close(int fd);

  /// Atomically renames `from` to `to` unless `to` exists, in which case it
  /// fails with `EEXIST` and changes nothing. Never replaces a file.
  virtual int rename_noreplace(const std::string& from, const std::string& to);

  /// Removes the file `path`.
  virtual int unlink(const std::string& path);

  /// Opens the directory `path` and flushes it to stable storage, which
  /// makes a preceding rename in it durable.
  virtual int fsync_directory(const std::string& path);

  /// Creates `path` and all missing parents with `mode` (before the
  /// umask), like `mkdir -p`. Succeeds if `path` is already a directory.
  virtual int make_directories(const std::string& path, unsigned mode);
};

/// Reads up to `max_size` bytes of the regular file `path` from `offset`
/// into `out` and stores the file's size in `file_size`. Reads nothing if
/// `offset` is at the end. Returns 0 or an `errno` value (`EINVAL` for an
/// offset past the end or a file that is not regular).
int read_chunk(const std::string& path, uint64_t offset, size_t max_size,
               std::vector<char>& out, uint64_t& file_size);

/// Returns the process-wide instance that calls the operating system.
file_system& default_file_system();

/// Returns the system's description of `errno` value `code`, e.g., "No
/// space left on device". Thread-safe.
std::string errno_text(int code);

} // namespace caf::snapshot::detail
