#include "tcp_probe.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace caf_snapshot_tool {

namespace {

using steady = std::chrono::steady_clock;

struct addrinfo_deleter {
  void operator()(addrinfo* x) const {
    ::freeaddrinfo(x);
  }
};

/// Closes a socket on scope exit.
class socket_guard {
public:
  explicit socket_guard(int fd) : fd_(fd) {
    // nop
  }
  ~socket_guard() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  socket_guard(const socket_guard&) = delete;
  socket_guard& operator=(const socket_guard&) = delete;

private:
  int fd_;
};

// Connects to one address; returns 0 on success, else an errno value
// (ETIMEDOUT once `deadline` passed).
int try_connect(const addrinfo& addr, steady::time_point deadline) {
  auto fd = ::socket(addr.ai_family,
                     addr.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                     addr.ai_protocol);
  if (fd < 0)
    return errno;
  socket_guard guard{fd};
  if (::connect(fd, addr.ai_addr, addr.ai_addrlen) == 0)
    return 0;
  if (errno != EINPROGRESS)
    return errno;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - steady::now());
    if (left.count() <= 0)
      return ETIMEDOUT;
    pollfd pfd{fd, POLLOUT, 0};
    auto res = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (res < 0 && errno == EINTR)
      continue;
    if (res < 0)
      return errno;
    if (res == 0)
      return ETIMEDOUT;
    int err = 0;
    socklen_t len = sizeof(err);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
      return errno;
    return err;
  }
}

} // namespace

std::string probe_tcp(const endpoint& ep, std::chrono::milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  auto port = std::to_string(ep.port);
  if (auto rc = ::getaddrinfo(ep.host.c_str(), port.c_str(), &hints, &res);
      rc != 0)
    return "cannot resolve host: " + std::string{::gai_strerror(rc)};
  std::unique_ptr<addrinfo, addrinfo_deleter> addrs{res};
  int err = EHOSTUNREACH;
  for (auto* addr = addrs.get(); addr != nullptr; addr = addr->ai_next) {
    err = try_connect(*addr, deadline);
    if (err == 0)
      return {};
    if (err == ETIMEDOUT && steady::now() >= deadline)
      break;
  }
  if (err == ETIMEDOUT)
    return "no answer within "
           + std::to_string(
             std::chrono::duration_cast<std::chrono::seconds>(timeout).count())
           + " s";
  return std::strerror(err);
}

} // namespace caf_snapshot_tool
