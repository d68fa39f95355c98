#include "caf/snapshot/detail/signal_trigger.hpp"

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "caf/send.hpp"

#include "caf/snapshot/detail/protocol.hpp"
#include "caf/snapshot/errc.hpp"

namespace caf::snapshot::detail {

namespace {

// Process-wide state shared by all triggers. The handler touches only
// `write_fd`, which stays valid while any handler is installed.
struct dispatcher {
  std::mutex mtx;
  // Coordinators per signal, with the trigger that registered each.
  std::map<int, std::vector<std::pair<signal_trigger*, caf::actor>>> targets;
  std::map<int, struct sigaction> previous;
  int fds[2] = {-1, -1};
  std::thread reader;
};

dispatcher& the_dispatcher() {
  static dispatcher instance;
  return instance;
}

volatile sig_atomic_t write_fd = -1;

extern "C" void on_signal(int signo) {
  auto saved = errno;
  auto byte = static_cast<uint8_t>(signo);
  // Non-blocking: if the pipe is full, enough snapshots are on their way.
  [[maybe_unused]] auto res = ::write(write_fd, &byte, 1);
  errno = saved;
}

void read_loop(int fd) {
  auto& d = the_dispatcher();
  for (;;) {
    uint8_t byte = 0;
    auto n = ::read(fd, &byte, 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0 || byte == 0)
      return; // Stop request (0) or closed pipe.
    std::lock_guard<std::mutex> guard{d.mtx};
    auto i = d.targets.find(byte);
    if (i == d.targets.end())
      continue;
    // Sent in the coordinator's own name: it accepts triggers only from
    // actors of its node.
    for (auto& target : i->second)
      caf::send_as(target.second, target.second, trigger_atom::value,
                   "signal " + signal_trigger::name(byte));
  }
}

bool supported(int signo) {
  if (signo == SIGHUP || signo == SIGUSR1 || signo == SIGUSR2
      || signo == SIGWINCH)
    return true;
  return signo >= SIGRTMIN && signo <= SIGRTMAX && signo < 256;
}

} // namespace

signal_trigger::signal_trigger(int signo, caf::actor coordinator)
    : signo_(signo) {
  auto& d = the_dispatcher();
  std::lock_guard<std::mutex> guard{d.mtx};
  if (d.fds[0] < 0) {
    if (::pipe2(d.fds, O_CLOEXEC) != 0)
      return;
    ::fcntl(d.fds[1], F_SETFL, O_NONBLOCK);
    write_fd = d.fds[1];
    d.reader = std::thread{read_loop, d.fds[0]};
  }
  auto& xs = d.targets[signo];
  if (xs.empty()) {
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    struct sigaction old {};
    ::sigaction(signo, &action, &old);
    d.previous[signo] = old;
  }
  xs.emplace_back(this, std::move(coordinator));
}

signal_trigger::~signal_trigger() {
  auto& d = the_dispatcher();
  std::thread reader;
  int fds[2] = {-1, -1};
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    auto i = d.targets.find(signo_);
    if (i == d.targets.end())
      return;
    auto& xs = i->second;
    for (auto j = xs.begin(); j != xs.end(); ++j)
      if (j->first == this) {
        xs.erase(j);
        break;
      }
    if (xs.empty()) {
      ::sigaction(signo_, &d.previous[signo_], nullptr);
      d.previous.erase(signo_);
      d.targets.erase(i);
    }
    if (!d.targets.empty())
      return;
    // No handler left: stop the reader and close the pipe.
    uint8_t stop = 0;
    [[maybe_unused]] auto res = ::write(d.fds[1], &stop, 1);
    reader = std::move(d.reader);
    fds[0] = d.fds[0];
    fds[1] = d.fds[1];
    d.fds[0] = d.fds[1] = -1;
    write_fd = -1;
  }
  if (reader.joinable())
    reader.join();
  ::close(fds[0]);
  ::close(fds[1]);
}

caf::expected<int> signal_trigger::parse(const std::string& name) {
  auto refuse = [&](const std::string& why) {
    return make_error(errc::invalid_argument,
                      "snapshot.on-signal: '" + name + "' " + why
                        + " (use SIGUSR1, SIGUSR2, SIGHUP, SIGWINCH or "
                          "SIGRTMIN+N)");
  };
  if (name.empty())
    return refuse("is empty");
  int signo = 0;
  if (std::isdigit(static_cast<unsigned char>(name[0]))) {
    if (name.size() > 3)
      return refuse("is not a signal number");
    for (auto c : name) {
      if (!std::isdigit(static_cast<unsigned char>(c)))
        return refuse("is not a signal number");
      signo = signo * 10 + (c - '0');
    }
  } else {
    auto str = name.compare(0, 3, "SIG") == 0 ? name.substr(3) : name;
    static const std::pair<const char*, int> known[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},
      {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
      {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
      {"TERM", SIGTERM}, {"CHLD", SIGCHLD}, {"STOP", SIGSTOP},
      {"WINCH", SIGWINCH}};
    for (auto& kvp : known)
      if (str == kvp.first)
        signo = kvp.second;
    if (signo == 0 && str.compare(0, 6, "RTMIN+") == 0
        && str.size() > 6 && str.size() <= 8) {
      int offset = 0;
      for (size_t i = 6; i < str.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(str[i])))
          return refuse("is not a known signal");
        offset = offset * 10 + (str[i] - '0');
      }
      signo = SIGRTMIN + offset;
    }
    if (signo == 0 && str == "RTMIN")
      signo = SIGRTMIN;
    if (signo == 0)
      return refuse("is not a known signal");
  }
  if (!supported(signo))
    return refuse("cannot be used: the runtime or the operating system "
                  "needs its default action");
  return signo;
}

std::string signal_trigger::name(int signo) {
  switch (signo) {
    case SIGHUP:
      return "SIGHUP";
    case SIGUSR1:
      return "SIGUSR1";
    case SIGUSR2:
      return "SIGUSR2";
    case SIGWINCH:
      return "SIGWINCH";
    default:
      if (signo >= SIGRTMIN && signo <= SIGRTMAX)
        return "SIGRTMIN+" + std::to_string(signo - SIGRTMIN);
      return std::to_string(signo);
  }
}

} // namespace caf::snapshot::detail
