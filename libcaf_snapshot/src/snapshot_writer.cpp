#include "caf/snapshot/detail/snapshot_writer.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <random>

#include <unistd.h>

#include "caf/snapshot/errc.hpp"
#include "caf/snapshot/global_snapshot.hpp"

namespace caf::snapshot::detail {

namespace {

using file_format::record_tag;

// Size of a string or blob field: u32 length plus bytes.
uint64_t field_size(size_t n) {
  return 4 + static_cast<uint64_t>(n);
}

uint64_t random_suffix() {
  static std::atomic<uint64_t> counter{0};
  uint64_t result = static_cast<uint64_t>(
    std::chrono::steady_clock::now().time_since_epoch().count());
  result ^= counter.fetch_add(1) * 0x9E3779B97F4A7C15u;
  try {
    std::random_device rd;
    result ^= (static_cast<uint64_t>(rd()) << 32) | rd();
  } catch (...) {
    // Fall back to clock and counter.
  }
  return result;
}

std::string join(const std::string& dir, const std::string& name) {
  if (dir.back() == '/')
    return dir + name;
  return dir + '/' + name;
}

std::string final_name(uint64_t id, uint64_t requested_at_ms, int attempt) {
  char buf[96];
  if (attempt <= 1)
    snprintf(buf, sizeof(buf), "snapshot-%08" PRIu64 "-%" PRIu64 "%s", id,
             requested_at_ms, file_format::file_extension);
  else
    snprintf(buf, sizeof(buf), "snapshot-%08" PRIu64 "-%" PRIu64 "-%d%s", id,
             requested_at_ms, attempt, file_format::file_extension);
  return buf;
}

// Maximum number of alternative final names tried before giving up.
constexpr int max_name_attempts = 1000;

} // namespace

// -- constructors, destructors, and assignment operators ----------------------

snapshot_writer::snapshot_writer(file_system& fs, std::string directory,
                                 uint64_t id, uint64_t requested_at_ms)
  : fs_(fs),
    directory_(std::move(directory)),
    id_(id),
    requested_at_ms_(requested_at_ms),
    buf_(file_format::write_buffer_size) {
  // nop
}

snapshot_writer::~snapshot_writer() {
  abort();
}

caf::expected<std::unique_ptr<snapshot_writer>>
snapshot_writer::open(file_system& fs, const std::string& directory,
                      uint64_t id, const std::string& coordinator_node,
                      uint64_t requested_at_ms) {
  auto dir = directory.empty() ? std::string{"."} : directory;
  if (auto err = fs.make_directories(dir, 0700); err != 0)
    return make_error(errc::storage_failed,
                      dir + ": cannot create directory: " + errno_text(err));
  std::unique_ptr<snapshot_writer> result{
    new snapshot_writer(fs, dir, id, requested_at_ms)};
  auto& self = *result;
  // Pick a fresh temporary name; O_EXCL guarantees no other writer has it.
  int err = 0;
  for (int attempt = 0; attempt < 16; ++attempt) {
    char name[96];
    snprintf(name, sizeof(name), ".snapshot-%" PRIu64 "-%ld-%016" PRIx64 ".tmp",
             id, static_cast<long>(::getpid()), random_suffix());
    self.temp_path_ = join(dir, name);
    err = fs.create(self.temp_path_, self.fd_);
    if (err != EEXIST)
      break;
  }
  if (err != 0) {
    self.state_ = state::failed;
    return make_error(errc::storage_failed,
                      self.temp_path_
                        + ": cannot create file: " + errno_text(err));
  }
  // Magic number, then the header record.
  self.put(file_format::magic, file_format::magic_size);
  self.begin_record(record_tag::header,
                    4 + 8 + field_size(coordinator_node.size()) + 8);
  self.put_u32(file_format::version);
  self.put_u64(id);
  self.put_string(coordinator_node);
  self.put_u64(requested_at_ms);
  self.end_record();
  if (auto failure = self.check("write"))
    return failure;
  return result;
}

// -- writing ------------------------------------------------------------------

caf::error snapshot_writer::append(const actor_record& x) {
  if (state_ != state::writing)
    return failure_ ? failure_
                    : make_error(errc::storage_failed,
                                 temp_path_ + ": snapshot already committed");
  if (x.status != actor_status::running && x.status != actor_status::exited)
    return make_error(errc::invalid_argument,
                      "actor " + std::to_string(x.id) + ": invalid status "
                        + std::to_string(static_cast<unsigned>(x.status)));
  auto size = 8 + field_size(x.node.size()) + field_size(x.name.size()) + 1
              + field_size(x.exit_reason.size()) + field_size(x.state.size())
              + field_size(x.state_text.size()) + 4
              + 8 * static_cast<uint64_t>(x.pending_requests.size()) + 4;
  for (auto& req : x.awaited)
    size += 8 + 8 + field_size(req.target_node.size());
  if (size > file_format::max_record_size)
    return make_error(errc::invalid_argument,
                      "actor " + std::to_string(x.id) + ": record of "
                        + std::to_string(size) + " bytes exceeds the limit of "
                        + std::to_string(file_format::max_record_size));
  begin_record(record_tag::actor, size);
  put_u64(x.id);
  put_string(x.node);
  put_string(x.name);
  put_u8(static_cast<uint8_t>(x.status));
  put_string(x.exit_reason);
  put_bytes(x.state.data(), x.state.size());
  put_string(x.state_text);
  put_u32(static_cast<uint32_t>(x.pending_requests.size()));
  for (auto req : x.pending_requests)
    put_u64(req);
  put_u32(static_cast<uint32_t>(x.awaited.size()));
  for (auto& req : x.awaited) {
    put_u64(req.id);
    put_u64(req.target);
    put_string(req.target_node);
  }
  end_record();
  if (auto err = check("write"))
    return err;
  ++actors_;
  return caf::none;
}

caf::error snapshot_writer::append(const message_record& x) {
  if (state_ != state::writing)
    return failure_ ? failure_
                    : make_error(errc::storage_failed,
                                 temp_path_ + ": snapshot already committed");
  auto describe = [&] {
    return "message " + std::to_string(x.mid) + " from actor "
           + std::to_string(x.sender) + " to actor "
           + std::to_string(x.receiver);
  };
  if (x.priority > 1)
    return make_error(errc::invalid_argument,
                      describe() + ": invalid priority "
                        + std::to_string(static_cast<unsigned>(x.priority)));
  if (static_cast<uint8_t>(x.location)
      > static_cast<uint8_t>(message_location::wire))
    return make_error(errc::invalid_argument,
                      describe() + ": invalid location "
                        + std::to_string(static_cast<unsigned>(x.location)));
  auto size = 8 + field_size(x.sender_node.size()) + 8
              + field_size(x.receiver_node.size()) + 8 + 1 + 1 + 1
              + field_size(x.content.size()) + field_size(x.text.size());
  if (size > file_format::max_record_size)
    return make_error(errc::invalid_argument,
                      describe() + ": record of " + std::to_string(size)
                        + " bytes exceeds the limit of "
                        + std::to_string(file_format::max_record_size));
  begin_record(record_tag::message, size);
  put_u64(x.sender);
  put_string(x.sender_node);
  put_u64(x.receiver);
  put_string(x.receiver_node);
  put_u64(x.mid);
  put_u8(x.priority);
  put_u8(static_cast<uint8_t>(x.location));
  put_u8(x.from_participant ? 1 : 0);
  put_bytes(x.content.data(), x.content.size());
  put_string(x.text);
  end_record();
  if (auto err = check("write"))
    return err;
  ++messages_;
  return caf::none;
}

caf::expected<uint64_t>
snapshot_writer::commit(bool complete, const std::string& incomplete_reason,
                        uint64_t completed_at_ms, std::string& final_path) {
  if (state_ != state::writing)
    return failure_ ? failure_
                    : make_error(errc::storage_failed,
                                 temp_path_ + ": snapshot already committed");
  auto reason = complete ? std::string{} : incomplete_reason;
  if (reason.size() > file_format::max_record_size / 2)
    reason.resize(file_format::max_record_size / 2);
  // The footer checksum covers every byte in front of the footer record.
  auto file_crc = file_crc_.value();
  begin_record(record_tag::footer,
               8 + 8 + 1 + field_size(reason.size()) + 8 + 4);
  put_u64(actors_);
  put_u64(messages_);
  put_u8(complete ? 1 : 0);
  put_string(reason);
  put_u64(completed_at_ms);
  put_u32(file_crc);
  end_record();
  flush();
  if (auto err = check("write"))
    return err;
  if (auto err = fs_.fsync(fd_); err != 0)
    return fail(temp_path_, "fsync", err);
  auto fd = fd_;
  fd_ = -1;
  if (auto err = fs_.close(fd); err != 0)
    return fail(temp_path_, "close", err);
  std::string path;
  int err = EEXIST;
  for (int attempt = 1; attempt <= max_name_attempts && err == EEXIST;
       ++attempt) {
    path = join(directory_, final_name(id_, requested_at_ms_, attempt));
    err = fs_.rename_noreplace(temp_path_, path);
  }
  if (err != 0)
    return fail(temp_path_, "rename to " + path, err);
  if (auto err = fs_.fsync_directory(directory_); err != 0) {
    // The file has its final name but may not survive a crash: report the
    // failure and leave no file behind.
    fs_.unlink(path);
    state_ = state::failed;
    failure_ = make_error(errc::storage_failed,
                          directory_ + ": fsync of directory failed: "
                            + errno_text(err) + " (removed " + path + ")");
    return failure_;
  }
  state_ = state::committed;
  final_path = std::move(path);
  return offset_;
}

void snapshot_writer::abort() {
  if (state_ == state::committed)
    return;
  if (fd_ >= 0) {
    fs_.close(fd_);
    fd_ = -1;
  }
  if (state_ == state::writing) {
    state_ = state::failed;
    if (!temp_path_.empty())
      fs_.unlink(temp_path_);
    if (!failure_)
      failure_ = make_error(errc::storage_failed,
                            temp_path_ + ": snapshot writer aborted");
  }
}

// -- private member functions -------------------------------------------------

void snapshot_writer::begin_record(record_tag tag, uint64_t payload_size) {
  // The record checksum covers tag, length and payload and continues from
  // the previous record's checksum, which ties each record to its position.
  record_crc_.reset(prev_crc_);
  in_record_ = true;
  put_u8(static_cast<uint8_t>(tag));
  put_u32(static_cast<uint32_t>(payload_size));
}

void snapshot_writer::end_record() {
  in_record_ = false;
  prev_crc_ = record_crc_.value();
  put_u32(prev_crc_);
}

void snapshot_writer::put(const void* data, size_t size) {
  if (io_error_ != 0 || fd_ < 0)
    return;
  file_crc_.update(data, size);
  if (in_record_)
    record_crc_.update(data, size);
  offset_ += size;
  auto pos = static_cast<const uint8_t*>(data);
  while (size > 0) {
    auto n = std::min(size, buf_.size() - buf_size_);
    memcpy(buf_.data() + buf_size_, pos, n);
    buf_size_ += n;
    pos += n;
    size -= n;
    if (buf_size_ == buf_.size()) {
      flush();
      if (io_error_ != 0)
        return;
    }
  }
}

void snapshot_writer::put_u8(uint8_t x) {
  put(&x, 1);
}

void snapshot_writer::put_u32(uint32_t x) {
  uint8_t tmp[4];
  file_format::store_u32(tmp, x);
  put(tmp, sizeof(tmp));
}

void snapshot_writer::put_u64(uint64_t x) {
  uint8_t tmp[8];
  file_format::store_u64(tmp, x);
  put(tmp, sizeof(tmp));
}

void snapshot_writer::put_bytes(const void* data, size_t size) {
  put_u32(static_cast<uint32_t>(size));
  if (size > 0)
    put(data, size);
}

void snapshot_writer::flush() {
  if (io_error_ != 0 || fd_ < 0 || buf_size_ == 0)
    return;
  io_error_ = fs_.write(fd_, buf_.data(), buf_size_);
  buf_size_ = 0;
}

caf::error snapshot_writer::check(const char* what) {
  if (io_error_ == 0)
    return caf::none;
  return fail(temp_path_, what, io_error_);
}

caf::error snapshot_writer::fail(const std::string& path,
                                 const std::string& what, int code) {
  auto err = make_error(errc::storage_failed,
                        path + ": " + what + " failed: " + errno_text(code));
  if (state_ == state::writing) {
    failure_ = err;
    if (fd_ >= 0) {
      fs_.close(fd_);
      fd_ = -1;
    }
    fs_.unlink(temp_path_);
    state_ = state::failed;
  }
  return err;
}

} // namespace caf::snapshot::detail
