#include "caf/snapshot/load.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <new>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caf/snapshot/detail/crc32.hpp"
#include "caf/snapshot/detail/file_format.hpp"
#include "caf/snapshot/detail/file_system.hpp"
#include "caf/snapshot/errc.hpp"

namespace caf::snapshot {

namespace {

namespace ff = detail::file_format;

using ff::record_tag;

const char* tag_name(record_tag x) {
  switch (x) {
    case record_tag::header:
      return "header";
    case record_tag::actor:
      return "actor";
    case record_tag::message:
      return "message";
    case record_tag::footer:
      return "footer";
  }
  return "unknown";
}

// Closes a file descriptor when going out of scope.
class fd_guard {
public:
  explicit fd_guard(int fd) : fd_(fd) {
    // nop
  }

  fd_guard(const fd_guard&) = delete;

  fd_guard& operator=(const fd_guard&) = delete;

  ~fd_guard() {
    if (fd_ >= 0)
      ::close(fd_);
  }

private:
  int fd_;
};

// Buffered sequential reader that tracks the offset and a CRC-32 over all
// bytes consumed so far.
class reader {
public:
  reader(int fd, uint64_t size) : fd_(fd), size_(size) {
    // nop
  }

  // Reads up to `n` bytes, stopping early only at the end of the file.
  // Returns the number of bytes read; sets `err` on read errors.
  size_t read(void* dst, size_t n, int& err) {
    auto out = static_cast<uint8_t*>(dst);
    size_t got = 0;
    while (got < n) {
      if (pos_ == len_) {
        if (eof_)
          break;
        if (!fill(err))
          break;
        continue;
      }
      auto k = std::min(n - got, len_ - pos_);
      memcpy(out + got, buf_.data() + pos_, k);
      pos_ += k;
      got += k;
    }
    crc_.update(out, got);
    offset_ += got;
    return got;
  }

  uint64_t offset() const noexcept {
    return offset_;
  }

  // Bytes left according to the size when the file was opened.
  uint64_t remaining() const noexcept {
    return size_ > offset_ ? size_ - offset_ : 0;
  }

  uint32_t crc() const noexcept {
    return crc_.value();
  }

private:
  bool fill(int& err) {
    pos_ = 0;
    len_ = 0;
    for (;;) {
      auto res = ::read(fd_, buf_.data(), buf_.size());
      if (res < 0) {
        if (errno == EINTR)
          continue;
        err = errno;
        return false;
      }
      if (res == 0) {
        eof_ = true;
        return false;
      }
      len_ = static_cast<size_t>(res);
      return true;
    }
  }

  int fd_;
  uint64_t size_;
  uint64_t offset_ = 0;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(ff::read_buffer_size);
  size_t pos_ = 0;
  size_t len_ = 0;
  bool eof_ = false;
  detail::crc32_state crc_;
};

// Bounds-checked decoding of one record payload.
class cursor {
public:
  explicit cursor(const std::vector<uint8_t>& xs)
    : pos_(xs.data()), left_(xs.size()) {
    // nop
  }

  bool u8(uint8_t& x) {
    if (left_ < 1)
      return false;
    x = *pos_;
    skip(1);
    return true;
  }

  bool u32(uint32_t& x) {
    if (left_ < 4)
      return false;
    x = ff::load_u32(pos_);
    skip(4);
    return true;
  }

  bool u64(uint64_t& x) {
    if (left_ < 8)
      return false;
    x = ff::load_u64(pos_);
    skip(8);
    return true;
  }

  template <class Container>
  bool bytes(Container& x) {
    uint32_t n;
    if (!u32(n) || n > left_)
      return false;
    x.assign(reinterpret_cast<const char*>(pos_),
             reinterpret_cast<const char*>(pos_) + n);
    skip(n);
    return true;
  }

  size_t left() const noexcept {
    return left_;
  }

private:
  void skip(size_t n) {
    pos_ += n;
    left_ -= n;
  }

  const uint8_t* pos_;
  size_t left_;
};

struct record {
  record_tag tag = record_tag::header;
  uint64_t offset = 0;
  uint32_t crc_before = 0;
  std::vector<uint8_t> payload;
};

class loader {
public:
  loader(const std::string& path, int fd, uint64_t size)
    : path_(path), in_(fd, size) {
    // nop
  }

  caf::expected<global_snapshot> run() {
    global_snapshot result;
    if (auto err = read_magic())
      return err;
    record rec;
    bool eof = false;
    // Header.
    if (auto err = read_record(rec, eof))
      return err;
    if (eof)
      return damaged("truncated after the magic number (no header)");
    if (rec.tag != record_tag::header)
      return damaged("record 0 at byte offset " + std::to_string(rec.offset)
                     + " is a " + tag_name(rec.tag)
                     + " record, expected the header");
    if (auto err = parse_header(rec, result))
      return err;
    // Actors and messages up to the footer.
    for (;;) {
      ++index_;
      if (auto err = read_record(rec, eof))
        return err;
      if (eof)
        return damaged(
          "truncated at byte offset " + std::to_string(in_.offset()) + " after "
          + std::to_string(index_) + " records: the footer is missing");
      switch (rec.tag) {
        case record_tag::header:
          return damaged(where(rec) + ": unexpected second header");
        case record_tag::actor:
          if (auto err = parse_actor(rec, result))
            return err;
          break;
        case record_tag::message:
          if (auto err = parse_message(rec, result))
            return err;
          break;
        case record_tag::footer:
          if (auto err = parse_footer(rec, result))
            return err;
          return result;
      }
    }
  }

private:
  caf::error damaged(const std::string& what) const {
    return make_error(errc::file_damaged, path_ + ": " + what);
  }

  caf::error read_failed(int code) const {
    return make_error(errc::cannot_open, path_ + ": read failed at byte offset "
                                           + std::to_string(in_.offset()) + ": "
                                           + detail::errno_text(code));
  }

  std::string where(const record& rec) const {
    return "record " + std::to_string(index_) + " (" + tag_name(rec.tag)
           + ") at byte offset " + std::to_string(rec.offset);
  }

  caf::error malformed(const record& rec, const std::string& what) const {
    return damaged(where(rec) + ": " + what);
  }

  caf::error read_magic() {
    char buf[ff::magic_size];
    int err = 0;
    auto got = in_.read(buf, sizeof(buf), err);
    if (err != 0)
      return read_failed(err);
    if (memcmp(buf, ff::magic, got) != 0)
      return make_error(errc::not_a_snapshot,
                        path_
                          + ": wrong magic number, not a caf-snapshot "
                            "file");
    if (got == 0)
      return damaged("the file is empty");
    if (got < ff::magic_size)
      return damaged("truncated after " + std::to_string(got)
                     + " bytes, inside the magic number");
    return caf::none;
  }

  // Reads one framed record and verifies its checksum. Sets `eof` if the
  // file ends right before the record.
  caf::error read_record(record& rec, bool& eof) {
    eof = false;
    rec.offset = in_.offset();
    rec.crc_before = in_.crc();
    auto at = [&] {
      return "record " + std::to_string(index_) + " at byte offset "
             + std::to_string(rec.offset);
    };
    uint8_t prefix[ff::frame_prefix_size];
    int err = 0;
    auto got = in_.read(prefix, sizeof(prefix), err);
    if (err != 0)
      return read_failed(err);
    if (got == 0) {
      eof = true;
      return caf::none;
    }
    if (got < sizeof(prefix))
      return damaged("truncated inside the frame of " + at());
    auto tag = prefix[0];
    if (tag < static_cast<uint8_t>(record_tag::header)
        || tag > static_cast<uint8_t>(record_tag::footer))
      return damaged(at() + ": unknown record tag "
                     + std::to_string(static_cast<unsigned>(tag)));
    rec.tag = static_cast<record_tag>(tag);
    auto len = ff::load_u32(prefix + 1);
    if (len > ff::max_record_size)
      return damaged(at() + ": payload length " + std::to_string(len)
                     + " exceeds the limit of "
                     + std::to_string(ff::max_record_size));
    if (uint64_t{len} + ff::frame_suffix_size > in_.remaining())
      return damaged(at() + ": payload length " + std::to_string(len)
                     + " exceeds the " + std::to_string(in_.remaining())
                     + " bytes left in the file (truncated or damaged)");
    rec.payload.resize(len);
    got = in_.read(rec.payload.data(), len, err);
    if (err != 0)
      return read_failed(err);
    if (got < len)
      return damaged("truncated inside the payload of " + at());
    uint8_t suffix[ff::frame_suffix_size];
    got = in_.read(suffix, sizeof(suffix), err);
    if (err != 0)
      return read_failed(err);
    if (got < sizeof(suffix))
      return damaged("truncated inside the checksum of " + at());
    // The checksum covers tag, length and payload and continues from the
    // previous record's checksum.
    auto expected = ff::load_u32(suffix);
    auto actual = detail::crc32_update(prev_crc_, prefix, sizeof(prefix));
    actual = detail::crc32_update(actual, rec.payload.data(),
                                  rec.payload.size());
    if (expected != actual)
      return damaged("checksum mismatch in " + at());
    prev_crc_ = expected;
    return caf::none;
  }

  caf::error parse_header(const record& rec, global_snapshot& out) {
    cursor c{rec.payload};
    uint32_t version = 0;
    if (!c.u32(version))
      return malformed(rec, "payload too short for the format version");
    if (version < ff::min_version || version > ff::version)
      return make_error(errc::unsupported_version,
                        path_ + ": format version " + std::to_string(version)
                          + ", this library reads versions "
                          + std::to_string(ff::min_version) + " to "
                          + std::to_string(ff::version));
    if (!c.u64(out.id) || !c.bytes(out.coordinator_node)
        || !c.u64(out.requested_at_ms))
      return malformed(rec, "fields exceed the payload");
    version_ = version;
    return check_consumed(rec, c);
  }

  caf::error parse_actor(const record& rec, global_snapshot& out) {
    cursor c{rec.payload};
    actor_record x;
    uint8_t status = 0;
    uint32_t num_requests = 0;
    if (!c.u64(x.id) || !c.bytes(x.node) || !c.bytes(x.name) || !c.u8(status)
        || !c.bytes(x.exit_reason) || !c.bytes(x.state)
        || !c.bytes(x.state_text) || !c.u32(num_requests))
      return malformed(rec, "fields exceed the payload");
    if (status > static_cast<uint8_t>(actor_status::exited))
      return malformed(rec, "invalid actor status "
                              + std::to_string(static_cast<unsigned>(status)));
    x.status = static_cast<actor_status>(status);
    if (uint64_t{num_requests} * 8 > c.left())
      return malformed(rec, std::to_string(num_requests)
                              + " pending requests exceed the payload");
    x.pending_requests.resize(num_requests);
    for (auto& req : x.pending_requests)
      c.u64(req);
    if (version_ >= 2) {
      // Version 2 adds the receivers of pending requests.
      uint32_t num_awaited = 0;
      if (!c.u32(num_awaited))
        return malformed(rec, "fields exceed the payload");
      // Each entry takes at least 20 bytes: reserve no more than fits.
      if (uint64_t{num_awaited} * 20 > c.left())
        return malformed(rec, std::to_string(num_awaited)
                                + " awaited requests exceed the payload");
      x.awaited.resize(num_awaited);
      for (auto& req : x.awaited)
        if (!c.u64(req.id) || !c.u64(req.target) || !c.bytes(req.target_node))
          return malformed(rec, "awaited requests exceed the payload");
    }
    if (auto err = check_consumed(rec, c))
      return err;
    out.actors.emplace_back(std::move(x));
    return caf::none;
  }

  caf::error parse_message(const record& rec, global_snapshot& out) {
    cursor c{rec.payload};
    message_record x;
    uint8_t location = 0;
    uint8_t from_participant = 0;
    if (!c.u64(x.sender) || !c.bytes(x.sender_node) || !c.u64(x.receiver)
        || !c.bytes(x.receiver_node) || !c.u64(x.mid) || !c.u8(x.priority)
        || !c.u8(location) || !c.u8(from_participant) || !c.bytes(x.content)
        || !c.bytes(x.text))
      return malformed(rec, "fields exceed the payload");
    if (x.priority > 1)
      return malformed(rec,
                       "invalid priority "
                         + std::to_string(static_cast<unsigned>(x.priority)));
    if (location > static_cast<uint8_t>(message_location::wire))
      return malformed(rec,
                       "invalid message location "
                         + std::to_string(static_cast<unsigned>(location)));
    if (from_participant > 1)
      return malformed(
        rec, "invalid participant flag "
               + std::to_string(static_cast<unsigned>(from_participant)));
    x.location = static_cast<message_location>(location);
    x.from_participant = from_participant == 1;
    if (auto err = check_consumed(rec, c))
      return err;
    out.in_flight.emplace_back(std::move(x));
    return caf::none;
  }

  caf::error parse_footer(const record& rec, global_snapshot& out) {
    cursor c{rec.payload};
    uint64_t actors = 0;
    uint64_t messages = 0;
    uint8_t complete = 0;
    uint32_t file_crc = 0;
    if (!c.u64(actors) || !c.u64(messages) || !c.u8(complete)
        || !c.bytes(out.incomplete_reason) || !c.u64(out.completed_at_ms)
        || !c.u32(file_crc))
      return malformed(rec, "fields exceed the payload");
    if (auto err = check_consumed(rec, c))
      return err;
    if (complete > 1)
      return malformed(rec,
                       "invalid completion flag "
                         + std::to_string(static_cast<unsigned>(complete)));
    out.complete = complete == 1;
    if (actors != out.actors.size())
      return malformed(rec, "the footer counts " + std::to_string(actors)
                              + " actor records, the file holds "
                              + std::to_string(out.actors.size()));
    if (messages != out.in_flight.size())
      return malformed(rec, "the footer counts " + std::to_string(messages)
                              + " message records, the file holds "
                              + std::to_string(out.in_flight.size()));
    if (file_crc != rec.crc_before)
      return malformed(rec, "whole-file checksum mismatch");
    uint8_t extra;
    int err = 0;
    auto got = in_.read(&extra, 1, err);
    if (err != 0)
      return read_failed(err);
    if (got != 0)
      return damaged("unexpected data after the footer at byte offset "
                     + std::to_string(in_.offset() - 1));
    return caf::none;
  }

  caf::error check_consumed(const record& rec, const cursor& c) {
    if (c.left() != 0)
      return malformed(rec, std::to_string(c.left())
                              + " unexpected bytes at the end of the payload");
    return caf::none;
  }

  const std::string& path_;
  reader in_;
  size_t index_ = 0;
  uint32_t prev_crc_ = 0;
  // Format version of the file, known after the header.
  uint32_t version_ = 0;
};

} // namespace

caf::expected<global_snapshot> load(const std::string& path) {
  try {
    int fd;
    do {
      // O_NONBLOCK: never block on opening a FIFO; checked below.
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
      return make_error(errc::cannot_open,
                        path + ": " + detail::errno_text(errno));
    fd_guard guard{fd};
    struct stat st;
    if (::fstat(fd, &st) != 0)
      return make_error(errc::cannot_open,
                        path + ": " + detail::errno_text(errno));
    if (S_ISDIR(st.st_mode))
      return make_error(errc::cannot_open, path + ": is a directory");
    if (!S_ISREG(st.st_mode))
      return make_error(errc::cannot_open, path + ": not a regular file");
    auto flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0)
      ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    loader ld{path, fd, static_cast<uint64_t>(st.st_size)};
    return ld.run();
  } catch (std::bad_alloc&) {
    return make_error(errc::cannot_open,
                      path + ": not enough memory to load the file");
  } catch (std::exception& e) {
    return make_error(errc::file_damaged, path + ": " + e.what());
  }
}

} // namespace caf::snapshot
