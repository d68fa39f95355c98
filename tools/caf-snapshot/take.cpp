// caf-snapshot take --connect HOST:PORT: asks the coordinator that a running
// actor system published (`caf::snapshot::publish`) for a snapshot and
// downloads the stored file.
//
// The tool runs its own small actor system with CAF's middleman. Every
// request has a deadline, so a peer that does not answer ends in a timeout
// error instead of a hang.

#include <cctype>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/io/middleman.hpp"
#include "caf/scoped_actor.hpp"

#include "caf/snapshot/coordinator.hpp"
#include "caf/snapshot/detail/protocol.hpp"
#include "caf/snapshot/errc.hpp"
#include "caf/snapshot/load.hpp"
#include "caf/snapshot/module.hpp"
#include "caf/snapshot/snapshot_info.hpp"

#include "args.hpp"
#include "command.hpp"
#include "endpoint.hpp"
#include "format.hpp"
#include "part_file.hpp"
#include "tcp_probe.hpp"

namespace caf_snapshot_tool {
namespace {

namespace cs = caf::snapshot;

constexpr const char* help_text
  = R"(Usage: caf-snapshot take --connect HOST:PORT [--out DIR] [--timeout SECONDS]

Takes a snapshot of a running actor system and downloads it. The system
must have made its snapshot coordinator reachable with
caf::snapshot::publish(sys, PORT) (CAF's middleman; in a cluster, connect
to the root, the node that published). The tool connects, checks that the
peer is a snapshot coordinator speaking its protocol version, requests a
snapshot, downloads the stored file in chunks of at most 1 MiB into DIR
under the file's own name, verifies it and prints one line:

  snapshot ID saved as DIR/NAME.cafsnap: N actors, M in flight, SIZE, taken in T ms

(followed by "; incomplete: REASON" if a node of a cluster was lost while
the snapshot was taken).

The file stays on the remote machine too (in its snapshot.directory). The
download is written to a hidden temporary file in DIR and renamed only
once complete and verified; a file of the same name is replaced.

Options:
  --connect HOST:PORT  The published coordinator; HOST is a host name or an
                       IPv4 address, IPv6 addresses go in brackets
                       ([::1]:4242)
  --out DIR            Existing directory for the file (default: the
                       current directory)
  --timeout SECONDS    Time limit of each step: connecting, taking the
                       snapshot, and each chunk of the download
                       (default 60)
  -h, --help           Show this help

Exit codes: 0 snapshot stored in DIR and verified; 1 runtime failure
(cannot connect, the peer is no snapshot coordinator, the snapshot failed,
timeout, disk error, damaged download), reported as one line on stderr;
2 wrong usage.
)";

constexpr uint64_t default_timeout_s = 60;

/// Largest accepted --timeout: about a year, far from any overflow.
constexpr uint64_t max_timeout_s = 366 * 24 * 3600;

/// Thrown for runtime failures; run() prints it as one line and exits 1.
class take_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The parsed command line.
struct take_options {
  endpoint peer;
  std::string out = ".";
  std::chrono::seconds timeout{default_timeout_s};
};

take_options parse_options(const parsed_args& parsed) {
  take_options result;
  if (!parsed.positionals.empty())
    throw usage_error("unexpected argument '" + printable(parsed.positionals[0])
                      + "'");
  auto connect = parsed.last("connect");
  if (!connect)
    throw usage_error("missing --connect HOST:PORT");
  result.peer = parse_endpoint(*connect, "--connect");
  if (auto out = parsed.last("out")) {
    if (out->empty())
      throw usage_error("--out needs a directory, got an empty string");
    result.out = *out;
  }
  if (auto str = parsed.last("timeout")) {
    auto secs = parse_uint(*str, "--timeout");
    if (secs == 0 || secs > max_timeout_s)
      throw usage_error("--timeout must be between 1 and "
                        + std::to_string(max_timeout_s) + " seconds, got "
                        + printable(*str));
    result.timeout = std::chrono::seconds{secs};
  }
  return result;
}

/// The actor system of the tool: middleman and the snapshot module (for
/// the message types and error renderers); nothing is stored locally.
class tool_config : public caf::actor_system_config {
public:
  explicit tool_config(const std::string& dir) {
    load<caf::io::middleman>();
    load<cs::module>();
    set("snapshot.directory", dir);
    set("logger.console", caf::atom("none"));
    set("scheduler.max-threads", 2);
  }
};

/// The name for the downloaded file: the base name of the remote file if it
/// is a plain file name, else one made from the snapshot ID.
std::string local_name(const cs::snapshot_info& info) {
  auto slash = info.path.find_last_of('/');
  auto base = slash == std::string::npos ? info.path
                                         : info.path.substr(slash + 1);
  auto plain = !base.empty() && base[0] != '.' && base.size() <= 200;
  for (auto c : base)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'
          || c == '.'))
      plain = false;
  if (plain)
    return base;
  return "snapshot-" + std::to_string(info.id) + ".cafsnap";
}

/// One connection to a published coordinator; every step throws
/// `take_error` on failure.
class session {
public:
  session(caf::actor_system& sys, const take_options& opts)
    : sys_(sys), self_(sys), opts_(opts), where_(to_string(opts.peer)) {
    // nop
  }

  /// Connects through the middleman and checks the protocol version.
  void connect() {
    auto why = probe_tcp(opts_.peer, opts_.timeout);
    if (!why.empty())
      fail("cannot connect to " + where_ + ": " + why);
    std::string error;
    caf::strong_actor_ptr peer;
    self_
      ->request(sys_.middleman().actor_handle(), opts_.timeout,
                caf::connect_atom::value, opts_.peer.host, opts_.peer.port)
      .receive([&](const caf::node_id&, caf::strong_actor_ptr& ptr,
                   const std::set<std::string>&) { peer = std::move(ptr); },
               [&](caf::error& err) { error = describe(err); });
    if (!error.empty())
      fail("cannot connect to " + where_ + " (is it a CAF node?): " + error);
    if (!peer)
      fail(where_ + " is a CAF node but publishes no actor at this port");
    coordinator_ = caf::actor_cast<caf::actor>(std::move(peer));
    uint32_t version = 0;
    self_->request(coordinator_, opts_.timeout, cs::detail::info_atom::value)
      .receive([&](uint32_t v, const std::string&) { version = v; },
               [&](caf::error& err) { error = describe(err); });
    if (!error.empty())
      fail(where_ + " is not a snapshot coordinator (" + error + ")");
    if (version != cs::detail::protocol_version)
      fail(where_ + " speaks snapshot protocol version "
           + std::to_string(version) + ", this caf-snapshot speaks version "
           + std::to_string(cs::detail::protocol_version));
  }

  /// Requests a snapshot.
  cs::snapshot_info take() {
    cs::snapshot_info result;
    std::string error;
    self_->request(coordinator_, opts_.timeout, cs::take_atom::value)
      .receive([&](cs::snapshot_info& info) { result = std::move(info); },
               [&](caf::error& err) { error = describe(err); });
    if (!error.empty())
      fail("the snapshot at " + where_ + " failed: " + error);
    return result;
  }

  /// Downloads the file of snapshot `info` into `out`.
  void download(const cs::snapshot_info& info, part_file& out) {
    uint64_t offset = 0;
    auto size = info.bytes;
    for (;;) {
      std::vector<char> chunk;
      uint64_t file_size = 0;
      std::string error;
      self_
        ->request(coordinator_, opts_.timeout, cs::detail::fetch_atom::value,
                  info.id, offset)
        .receive(
          [&](std::vector<char>& xs, uint64_t n) {
            chunk = std::move(xs);
            file_size = n;
          },
          [&](caf::error& err) { error = describe(err); });
      auto what = "downloading snapshot " + std::to_string(info.id) + " from "
                  + where_ + " failed at byte " + std::to_string(offset);
      if (!error.empty())
        fail(what + ": " + error);
      if (file_size != size)
        fail(what + ": the file has " + std::to_string(file_size)
             + " bytes, the snapshot reported " + std::to_string(size));
      if (chunk.empty()) {
        if (offset != size)
          fail(what + ": the file ended early");
        return;
      }
      if (chunk.size() > cs::detail::fetch_chunk_size
          || chunk.size() > size - offset)
        fail(what + ": got a chunk of " + std::to_string(chunk.size())
             + " bytes, more than requested");
      out.write(chunk.data(), chunk.size());
      offset += chunk.size();
    }
  }

private:
  [[noreturn]] static void fail(const std::string& what) {
    throw take_error(what);
  }

  std::string describe(const caf::error& err) const {
    if (err == caf::sec::request_timeout)
      return "no answer within " + std::to_string(opts_.timeout.count()) + " s";
    if (err.category() == cs::error_category)
      return printable(cs::render(err));
    return printable(sys_.render(err));
  }

  caf::actor_system& sys_;
  caf::scoped_actor self_;
  const take_options& opts_;
  std::string where_;
  caf::actor coordinator_;
};

/// Takes and downloads one snapshot; returns the summary line.
std::string take_snapshot(const take_options& opts) {
  // Fails early on a bad DIR, before any snapshot is taken.
  part_file out{opts.out};
  tool_config cfg{opts.out};
  caf::actor_system sys{cfg};
  session peer{sys, opts};
  peer.connect();
  auto info = peer.take();
  peer.download(info, out);
  out.finish();
  auto name = local_name(info);
  auto snap = cs::load(out.temp_path());
  if (!snap) {
    // Name the file as the user knows it, not by its temporary name.
    auto why = cs::render(snap.error());
    if (auto pos = why.find(out.temp_path()); pos != std::string::npos)
      why.replace(pos, out.temp_path().size(), name);
    throw take_error("the downloaded snapshot " + std::to_string(info.id)
                     + " is damaged, nothing was saved: " + printable(why));
  }
  if (snap->id != info.id)
    throw take_error("the downloaded file holds snapshot "
                     + std::to_string(snap->id) + ", not snapshot "
                     + std::to_string(info.id));
  auto path = out.commit(name);
  auto summary = "snapshot " + std::to_string(info.id) + " saved as "
                 + printable(path) + ": " + plural(snap->actors.size(), "actor")
                 + ", " + std::to_string(snap->in_flight.size())
                 + " in flight, " + human_size(info.bytes) + ", taken in "
                 + std::to_string(info.duration_ms) + " ms";
  if (!snap->complete)
    summary += "; incomplete: " + printable(snap->incomplete_reason, 200);
  return summary;
}

int run(const std::vector<std::string>& args) {
  auto parsed
    = parse_args(args, {{"connect", true}, {"out", true}, {"timeout", true}});
  if (parsed.help) {
    std::cout << help_text;
    return exit_ok;
  }
  auto opts = parse_options(parsed);
  std::string summary;
  try {
    summary = take_snapshot(opts);
  } catch (const take_error& e) {
    std::cerr << "caf-snapshot take: " << e.what() << std::endl;
    return exit_bad_file;
  } catch (const disk_error& e) {
    std::cerr << "caf-snapshot take: " << e.what() << std::endl;
    return exit_bad_file;
  }
  std::cout << summary << std::endl;
  return exit_ok;
}

} // namespace

const command take_command{
  "take",
  "Take a snapshot of a running system over the network and download it",
  help_text,
  run,
};

} // namespace caf_snapshot_tool
