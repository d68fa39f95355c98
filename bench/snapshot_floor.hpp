// The floor that snapshot_latency compares the library with: plain CAF
// doing the least that a snapshot of N idle actors needs. A collector sends
// one request to each actor, each actor replies with its Boost-serialized
// state, and the collector appends every reply to a file the way the
// library stores its snapshots (64 KiB writes, fsync, rename, fsync of the
// directory) before it answers. What the library does beyond that (a
// marker, two flushes and two reports per participant, readable state
// text, node and type names, a CRC per record) is its own cost.
//
// Usage:
//   auto actor = sys.spawn(bench::floor::idle_fn);   // N times
//   auto collector = sys.spawn(bench::floor::collector_fn, actors, dir,
//                              bench::floor::reply_mode::counter);
//   self->request(collector, caf::infinite,
//                 bench::floor::collect_atom::value)
//     .receive([](uint64_t file_bytes) { ... }, [](caf::error&) { ... });
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/archive/binary_oarchive.hpp>

#include "caf/all.hpp"

#include "payload.hpp"

namespace bench::floor {

/// Asks an idle actor for its state.
using state_atom = caf::atom_constant<caf::atom("bn_state")>;

/// Asks the collector for one round; it answers with the file size.
using collect_atom = caf::atom_constant<caf::atom("bn_collect")>;

/// How the collector matches replies to its requests.
enum class reply_mode {
  /// Plain sends; every reply arrives as an ordinary message and a counter
  /// tells when all are in. The default: the fastest honest floor.
  counter,
  /// One `request(...).then(...)` per actor. CAF 0.17.6 keeps these
  /// handlers in a flat map that it searches linearly, so this grows
  /// quadratically in N: for N = 30,000 it took 1,094 ms where `counter`
  /// took 170 ms (work sharing, 2 cores). Kept to measure exactly that.
  then,
};

/// Returns the Boost binary archive of `x`, as the library stores it.
template <class T>
std::vector<char> boost_bytes(const T& x) {
  std::ostringstream out;
  {
    boost::archive::binary_oarchive ar{out};
    ar << x;
  }
  auto str = std::move(out).str();
  return {str.begin(), str.end()};
}

/// A plain CAF actor holding the same state as an idle participant.
inline caf::behavior idle_fn(caf::stateful_actor<payload>* self) {
  return {
    [=](state_atom) { return boost_bytes(self->state); },
    [](int) {
      // nop
    },
  };
}

/// Appends (actor ID, size, bytes) records to a temporary file and renames
/// it when complete, with the same buffering and syncing as the library.
class record_file {
public:
  explicit record_file(std::filesystem::path dir) : dir_(std::move(dir)) {
    buf_.reserve(buffer_size);
  }

  ~record_file() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  record_file(const record_file&) = delete;
  record_file& operator=(const record_file&) = delete;

  void open(uint64_t round) {
    temp_ = dir_ / (".floor-" + std::to_string(round) + ".tmp");
    final_ = dir_ / ("floor-" + std::to_string(round) + ".bin");
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    check(fd_ >= 0, "open");
    size_ = 0;
  }

  void append(uint64_t id, const std::vector<char>& bytes) {
    auto len = static_cast<uint32_t>(bytes.size());
    put(&id, sizeof(id));
    put(&len, sizeof(len));
    put(bytes.data(), bytes.size());
  }

  /// Syncs and renames the file; returns its size.
  uint64_t commit() {
    drain();
    check(::fsync(fd_) == 0, "fsync");
    check(::close(fd_) == 0, "close");
    fd_ = -1;
    std::filesystem::rename(temp_, final_);
    auto dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    check(dir_fd >= 0 && ::fsync(dir_fd) == 0, "fsync of directory");
    ::close(dir_fd);
    return size_;
  }

  const std::filesystem::path& path() const noexcept {
    return final_;
  }

private:
  static constexpr size_t buffer_size = 64 * 1024;

  void put(const void* data, size_t n) {
    auto bytes = static_cast<const char*>(data);
    buf_.insert(buf_.end(), bytes, bytes + n);
    size_ += n;
    if (buf_.size() >= buffer_size)
      drain();
  }

  void drain() {
    size_t done = 0;
    while (done < buf_.size()) {
      auto n = ::write(fd_, buf_.data() + done, buf_.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      check(n > 0, "write");
      done += static_cast<size_t>(n);
    }
    buf_.clear();
  }

  void check(bool ok, const char* what) {
    if (!ok)
      throw std::runtime_error(temp_.string() + ": " + what + ": "
                               + std::strerror(errno));
  }

  std::filesystem::path dir_;
  std::filesystem::path temp_;
  std::filesystem::path final_;
  int fd_ = -1;
  uint64_t size_ = 0;
  std::vector<char> buf_;
};

/// State of the collector between a `collect_atom` and its answer.
struct collector_state {
  std::vector<caf::actor> targets;
  std::unique_ptr<record_file> file;
  caf::response_promise promise;
  size_t missing = 0;
  uint64_t rounds = 0;
};

/// A plain CAF actor (not the library's coordinator) that collects the
/// states of `targets` into a file in `dir` per `collect_atom`.
inline caf::behavior collector_fn(caf::stateful_actor<collector_state>* self,
                                  std::vector<caf::actor> targets,
                                  std::filesystem::path dir, reply_mode mode) {
  self->state.targets = std::move(targets);
  self->state.file = std::make_unique<record_file>(std::move(dir));
  auto on_reply = [=](caf::actor_id id, const std::vector<char>& bytes) {
    auto& st = self->state;
    st.file->append(id, bytes);
    if (--st.missing == 0)
      st.promise.deliver(st.file->commit());
  };
  return {
    [=](collect_atom) {
      auto& st = self->state;
      st.promise = self->make_response_promise();
      st.missing = st.targets.size();
      st.file->open(++st.rounds);
      if (st.missing == 0) {
        st.promise.deliver(st.file->commit());
        return;
      }
      for (auto& target : st.targets) {
        if (mode == reply_mode::counter) {
          // Without an execution unit, like the library's markers: CAF
          // 0.17.6 then spreads the woken actors over all workers instead
          // of queueing all N at this worker, whose tail work stealing
          // takes in O(queue length) per steal (O(N^2) overall).
          caf::actor_cast<caf::abstract_actor*>(target)->enqueue(
            caf::make_mailbox_element(self->ctrl(), caf::make_message_id(),
                                      {}, state_atom::value),
            nullptr);
        } else {
          auto id = target.id();
          self->request(target, caf::infinite, state_atom::value)
            .then([=](std::vector<char>& bytes) { on_reply(id, bytes); });
        }
      }
    },
    [=](std::vector<char>& bytes) {
      on_reply(self->current_sender()->id(), bytes);
    },
  };
}

} // namespace bench::floor
