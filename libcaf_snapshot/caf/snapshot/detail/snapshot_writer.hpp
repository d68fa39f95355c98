// Streams one snapshot file to disk, record by record, and commits it
// atomically: the file appears under its final name only when complete and
// flushed to stable storage. The layout is described in docs/format.md.
//
// Usage:
//   using namespace caf::snapshot::detail;
//   auto w = snapshot_writer::open(default_file_system(), "/var/tmp/snaps",
//                                  id, node, now_ms);
//   if (!w)
//     return std::move(w.error());
//   for (auto& a : actors)
//     if (auto err = (*w)->append(a))
//       return err;
//   std::string path;
//   auto bytes = (*w)->commit(true, "", done_ms, path);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/expected.hpp"

#include "caf/snapshot/detail/crc32.hpp"
#include "caf/snapshot/detail/file_format.hpp"
#include "caf/snapshot/detail/file_system.hpp"
#include "caf/snapshot/fwd.hpp"

namespace caf::snapshot::detail {

/// Writes one snapshot file. Records go to a temporary file through a
/// fixed-size buffer, so a snapshot is never held in memory as a whole.
/// `commit` renames the finished file to its final name; destroying an
/// uncommitted writer removes the temporary file. Not thread-safe.
class snapshot_writer {
public:
  // -- constructors, destructors, and assignment operators --------------------

  snapshot_writer(const snapshot_writer&) = delete;

  snapshot_writer& operator=(const snapshot_writer&) = delete;

  /// Calls `abort()` unless committed.
  ~snapshot_writer();

  /// Creates `directory` if missing (mode 0700, like `mkdir -p`), creates
  /// the temporary file `<directory>/.snapshot-<id>-<pid>-<random>.tmp`
  /// (mode 0600) and writes the header. An empty `directory` means the
  /// working directory.
  /// @returns the writer or `errc::storage_failed` with path and reason.
  static caf::expected<std::unique_ptr<snapshot_writer>>
  open(file_system& fs, const std::string& directory, uint64_t id,
       const std::string& coordinator_node, uint64_t requested_at_ms);

  // -- writing ----------------------------------------------------------------

  /// Appends one actor record.
  /// @returns `errc::invalid_argument` for a record with an invalid status
  ///          or larger than `file_format::max_record_size` (the writer
  ///          stays usable), or `errc::storage_failed` if writing failed
  ///          (the writer is then aborted and every later call fails).
  caf::error append(const actor_record& x);

  /// Appends one message record. Errors as for actor records.
  caf::error append(const message_record& x);

  /// Writes the footer, flushes and syncs the file, renames it to
  /// `<directory>/snapshot-<id as 8 digits>-<requested_at_ms>.cafsnap` and
  /// syncs the directory. If that name exists (another coordinator or run
  /// used the same ID in the same millisecond), appends `-2`, `-3`, ...
  /// before the extension: an existing file is never replaced. Stores the
  /// final path in `final_path`.
  /// @returns the size of the file in bytes, or `errc::storage_failed`
  ///          with path and reason; then no file is left behind, neither
  ///          under the final nor under the temporary name.
  caf::expected<uint64_t>
  commit(bool complete, const std::string& incomplete_reason,
         uint64_t completed_at_ms, std::string& final_path);

  /// Closes and removes the temporary file unless committed. Idempotent.
  void abort();

  // -- properties -------------------------------------------------------------

  /// Number of actor records appended so far.
  uint64_t actors_written() const noexcept {
    return actors_;
  }

  /// Number of message records appended so far.
  uint64_t messages_written() const noexcept {
    return messages_;
  }

  /// Number of bytes written so far (including buffered bytes).
  uint64_t bytes_written() const noexcept {
    return offset_;
  }

  /// Path of the temporary file.
  const std::string& temp_path() const noexcept {
    return temp_path_;
  }

  /// Returns whether `commit` succeeded.
  bool committed() const noexcept {
    return state_ == state::committed;
  }

private:
  enum class state { writing, committed, failed };

  snapshot_writer(file_system& fs, std::string directory, uint64_t id,
                  uint64_t requested_at_ms);

  // Begins a record: writes tag and payload length and starts its checksum.
  void begin_record(file_format::record_tag tag, uint64_t payload_size);

  // Ends a record: writes its checksum.
  void end_record();

  // Writes raw bytes through the buffer.
  void put(const void* data, size_t size);

  void put_u8(uint8_t x);

  void put_u32(uint32_t x);

  void put_u64(uint64_t x);

  void put_bytes(const void* data, size_t size);

  void put_string(const std::string& x) {
    put_bytes(x.data(), x.size());
  }

  // Writes the buffer to the file.
  void flush();

  // Turns a pending I/O failure into an error, aborting the writer.
  caf::error check(const char* what);

  // Aborts and returns `errc::storage_failed` for `path` and `code`.
  caf::error fail(const std::string& path, const std::string& what, int code);

  file_system& fs_;
  std::string directory_;
  uint64_t id_;
  uint64_t requested_at_ms_;
  std::string temp_path_;
  int fd_ = -1;
  state state_ = state::writing;
  caf::error failure_;
  int io_error_ = 0;
  std::vector<uint8_t> buf_;
  size_t buf_size_ = 0;
  bool in_record_ = false;
  crc32_state file_crc_;
  crc32_state record_crc_;
  uint32_t prev_crc_ = 0;
  uint64_t offset_ = 0;
  uint64_t actors_ = 0;
  uint64_t messages_ = 0;
};

} // namespace caf::snapshot::detail
