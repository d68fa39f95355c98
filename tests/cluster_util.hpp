// Helpers for the multi-node tests (tests/cluster_test.cpp): several actor
// systems in one process, each with its own middleman, snapshot module and
// snapshot directory, connected over 127.0.0.1 only.
//
// Remote handles are always obtained through the middleman (publish on the
// owner, remote_actor on the user), never by handing a local handle of one
// system to an actor of another inside the process.
//
// Synchronisation is by events (futures, replies, barriers through the
// middleman's FIFO connections), never by sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "caf/io/all.hpp"

#include "edge_cases_util.hpp"

namespace cluster {

namespace snap = caf::snapshot;

using namespace std::chrono_literals;

// -- one node -----------------------------------------------------------------

/// Config of one node: snapshot module, middleman, a private directory and
/// enough scheduler threads for a few actors blocked in gates.
class node_config : public test::config {
public:
  node_config(const std::string& dir, caf::timespan timeout)
      : test::config(dir, timeout) {
    load<caf::io::middleman>();
    set("scheduler.max-threads", 4);
  }
};

/// How long an actor system's destructor may take before a test reports it
/// as hung (and leaks the system instead of blocking the whole test binary).
constexpr auto shutdown_bound = std::chrono::seconds{20};

/// One actor system of a cluster. On destruction it opens all gates and
/// kills all actors it spawned before the system itself goes away. The
/// system is destroyed on a helper thread: if its destructor does not return
/// within `shutdown_bound`, the test fails with a message naming the node and
/// the system is leaked, so that one hang does not block the other tests.
/// Changes a node's config before its system starts.
using config_tweak = std::function<void(node_config&)>;

class node {
public:
  explicit node(caf::timespan timeout = std::chrono::seconds{60},
                const config_tweak& tweak = {})
      : cfg_(make_config(dir_.path(), timeout, tweak)),
        sys_(std::make_unique<caf::actor_system>(*cfg_)) {
    // nop
  }

  ~node() {
    shut_down();
  }

  node(const node&) = delete;
  node& operator=(const node&) = delete;

  caf::actor_system& sys() {
    return *sys_;
  }

  bool alive() const {
    return sys_ != nullptr;
  }

  /// `caf::to_string(sys.node())`, as the snapshot files name this node.
  const std::string& name() {
    if (name_.empty() && sys_)
      name_ = caf::to_string(sys_->node());
    return name_;
  }

  const std::string& directory() const {
    return dir_.path();
  }

  template <class... Ts>
  auto spawn(Ts&&... xs) {
    auto hdl = sys_->spawn(std::forward<Ts>(xs)...);
    actors_.emplace_back(caf::actor_cast<caf::actor>(hdl));
    return hdl;
  }

  /// Registers an actor to kill on shutdown.
  void adopt(const caf::actor& x) {
    actors_.emplace_back(x);
  }

  edge::gate_ptr make_gate() {
    gates_.emplace_back(std::make_shared<edge::gate>());
    return gates_.back();
  }

  /// Opens all gates and kills all actors (without destroying the system).
  void stop_actors() {
    for (auto& g : gates_)
      g->release();
    for (auto& a : actors_)
      caf::anon_send_exit(a, caf::exit_reason::kill);
    actors_.clear();
  }

  /// Starts destroying the actor system on a helper thread (after killing
  /// all actors if `kill_actors`); the future is ready once the destructor
  /// returned.
  std::shared_future<void> shut_down_async(bool kill_actors = true) {
    if (!sys_) {
      std::promise<void> p;
      p.set_value();
      return p.get_future().share();
    }
    if (kill_actors)
      stop_actors();
    name();
    // CAF keeps a thread-local reference to the logger of the system last
    // used on a thread (scoped actors set it), and ~actor_system waits until
    // its logger is gone: drop this thread's reference before destroying
    // the system elsewhere.
    caf::logger::set_current_actor_system(nullptr);
    auto done = std::make_shared<std::promise<void>>();
    auto result = done->get_future().share();
    std::thread{[sys = sys_.release(), cfg = cfg_.release(), done] {
      delete sys;
      delete cfg;
      done->set_value();
    }}.detach();
    return result;
  }

  /// Stops all actors and destroys the actor system (bounded).
  void shut_down() {
    if (!sys_)
      return;
    auto done = shut_down_async();
    if (done.wait_for(shutdown_bound) != std::future_status::ready)
      ADD_FAILURE() << "the actor system of node " << name_
                    << " did not shut down within " << shutdown_bound.count()
                    << "s (its destructor hangs; the system is leaked)";
  }

private:
  static std::unique_ptr<node_config>
  make_config(const std::string& dir, caf::timespan timeout,
              const config_tweak& tweak) {
    auto result = std::make_unique<node_config>(dir, timeout);
    if (tweak)
      tweak(*result);
    return result;
  }

  test::temp_dir dir_;
  std::unique_ptr<node_config> cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  std::vector<caf::actor> actors_;
  std::vector<edge::gate_ptr> gates_;
  std::string name_;
};

// -- a cluster ----------------------------------------------------------------

/// `n` nodes; node 0 is the root (it published its coordinator on
/// 127.0.0.1), the others joined it. Destroys members (last first) before the
/// root.
class group {
public:
  explicit group(size_t n, caf::timespan timeout = std::chrono::seconds{60},
                 const config_tweak& tweak = {}) {
    for (size_t i = 0; i < n; ++i)
      nodes_.emplace_back(std::make_unique<node>(timeout, tweak));
    auto port = snap::publish(root().sys(), 0);
    if (!port) {
      ADD_FAILURE() << "publish failed: " << root().sys().render(port.error());
      return;
    }
    port_ = *port;
    for (size_t i = 1; i < n; ++i) {
      auto err = snap::join(at(i).sys(), "127.0.0.1", port_);
      if (err) {
        ADD_FAILURE() << "join of node " << i
                      << " failed: " << at(i).sys().render(err);
        return;
      }
    }
    ok_ = true;
  }

  ~group() {
    for (auto& x : nodes_)
      if (x->alive())
        x->stop_actors();
    for (size_t i = nodes_.size(); i > 0; --i)
      nodes_[i - 1]->shut_down();
  }

  group(const group&) = delete;
  group& operator=(const group&) = delete;

  bool ok() const {
    return ok_;
  }

  node& root() {
    return *nodes_.front();
  }

  node& at(size_t i) {
    return *nodes_.at(i);
  }

  size_t size() const {
    return nodes_.size();
  }

  uint16_t port() const {
    return port_;
  }

private:
  std::vector<std::unique_ptr<node>> nodes_;
  uint16_t port_ = 0;
  bool ok_ = false;
};

// -- remote handles -------------------------------------------------------------

/// Publishes `hdl` at its `owner` on 127.0.0.1 and returns a proxy for it in
/// `user`'s system (obtained with `remote_actor`).
inline caf::actor proxy_of(node& user, node& owner, const caf::actor& hdl) {
  auto port = owner.sys().middleman().publish(hdl, 0, "127.0.0.1");
  if (!port) {
    ADD_FAILURE() << "publish failed: " << owner.sys().render(port.error());
    return {};
  }
  auto result = user.sys().middleman().remote_actor("127.0.0.1", *port);
  if (!result) {
    ADD_FAILURE() << "remote_actor failed: "
                  << user.sys().render(result.error());
    return {};
  }
  if (result->node() != owner.sys().node())
    ADD_FAILURE() << "remote_actor returned a handle of another node";
  return *result;
}

// -- barriers -------------------------------------------------------------------

/// Returns once `coord` (a local coordinator, or a proxy for a remote one in
/// `from`'s system) has handled every message that was sent to it through
/// the same path before. White-box: asks for the coordinator's protocol
/// version.
inline bool barrier(node& from, const caf::actor& coord) {
  caf::scoped_actor self{from.sys()};
  bool ok = false;
  self
    ->request(coord, std::chrono::seconds{60}, snap::detail::info_atom::value)
    .receive([&](uint32_t, const std::string&) { ok = true; },
             [&](caf::error& err) {
               ADD_FAILURE() << "barrier failed: " << from.sys().render(err);
             });
  return ok;
}

// -- snapshots --------------------------------------------------------------------

/// A snapshot request sent now to `coord` from `from`'s system; the reply is
/// collected later. Measures the time until the reply.
class pending_take {
public:
  pending_take(node& from, caf::actor coord,
               std::chrono::seconds bound = std::chrono::seconds{120})
      : self_(from.sys()), sys_(from.sys()) {
    started_ = std::chrono::steady_clock::now();
    handle_.emplace(self_->request(coord, bound, snap::take_atom::value));
  }

  explicit pending_take(node& from,
                        std::chrono::seconds bound = std::chrono::seconds{120})
      : pending_take(from, snap::coordinator(from.sys()), bound) {
    // nop
  }

  caf::expected<snap::snapshot_info> get() {
    caf::expected<snap::snapshot_info> result{caf::error{}};
    handle_->receive(
      [&](snap::snapshot_info& info) { result = std::move(info); },
      [&](caf::error& err) { result = std::move(err); });
    elapsed_ = std::chrono::steady_clock::now() - started_;
    return result;
  }

  /// Time from the request to the reply (valid after `get`).
  std::chrono::milliseconds elapsed() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(elapsed_);
  }

private:
  using handle_type = decltype(std::declval<caf::scoped_actor&>()->request(
    std::declval<caf::actor>(), std::chrono::seconds{1},
    snap::take_atom::value));

  caf::scoped_actor self_;
  caf::actor_system& sys_;
  std::optional<handle_type> handle_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::duration elapsed_{};
};

/// Takes a snapshot at `at`'s coordinator (delegated to the root on members)
/// and loads it; fails the test on errors.
inline snap::global_snapshot take_and_load(node& at) {
  auto info = test::take(at.sys());
  if (!info) {
    ADD_FAILURE() << "take failed: " << at.sys().render(info.error());
    return {};
  }
  auto result = snap::load(info->path);
  if (!result) {
    ADD_FAILURE() << "load failed: " << snap::render(result.error());
    return {};
  }
  EXPECT_EQ(result->id, info->id);
  return std::move(*result);
}

/// The node strings of all actor records.
inline std::set<std::string> nodes_of(const snap::global_snapshot& s) {
  std::set<std::string> result;
  for (auto& a : s.actors)
    result.insert(a.node);
  return result;
}

/// The record of actor `id` on node `node_name`, or nullptr.
inline const snap::actor_record* find_actor(const snap::global_snapshot& s,
                                            caf::actor_id id,
                                            const std::string& node_name) {
  for (auto& a : s.actors)
    if (a.id == id && a.node == node_name)
      return &a;
  return nullptr;
}

/// Loads the recorded state of actor `id` on `node_name`; fails the test if
/// it is missing.
template <class State>
State state_of(const snap::global_snapshot& s, caf::actor_id id,
               const std::string& node_name) {
  State st;
  auto rec = find_actor(s, id, node_name);
  if (rec == nullptr) {
    ADD_FAILURE() << "actor " << id << " of node " << node_name
                  << " not in snapshot " << s.id;
    return st;
  }
  auto err = rec->load_state(st);
  EXPECT_FALSE(err) << snap::render(err);
  return st;
}

/// All in-flight records to actor `id` on `node_name`.
inline std::vector<snap::message_record>
in_flight_to(const snap::global_snapshot& s, caf::actor_id id,
             const std::string& node_name) {
  std::vector<snap::message_record> result;
  for (auto& m : s.in_flight)
    if (m.receiver == id && m.receiver_node == node_name)
      result.emplace_back(m);
  return result;
}

/// The distinguishing end of a node string (nodes of one process differ
/// only in the last digits before '#').
inline std::string short_node(const std::string& x) {
  return x.size() > 12 ? "..." + x.substr(x.size() - 12) : x;
}

inline std::string describe(const snap::message_record& m) {
  return m.text + " from " + std::to_string(m.sender) + "@"
         + short_node(m.sender_node) + " to " + std::to_string(m.receiver)
         + "@" + short_node(m.receiver_node) + " at "
         + snap::to_string(m.location)
         + (m.from_participant ? "" : " (external)");
}

/// Whether `err` is the snapshot error `code`.
inline bool is_snapshot_error(const caf::error& err, snap::errc code) {
  return edge::is_snapshot_error(err, code);
}

// -- a probe ------------------------------------------------------------------------

using probe_atom = caf::atom_constant<caf::atom("c_probe")>;

/// A plain (non-participant) actor that fulfils a promise at the first
/// `probe_atom` it receives.
struct probe {
  std::shared_ptr<std::promise<void>> promise
    = std::make_shared<std::promise<void>>();
  std::shared_future<void> future = promise->get_future().share();

  bool wait(std::chrono::seconds bound = std::chrono::seconds{60}) const {
    return future.wait_for(bound) == std::future_status::ready;
  }
};

inline caf::behavior probe_fn(caf::event_based_actor*,
                              std::shared_ptr<std::promise<void>> p) {
  auto once = std::make_shared<bool>(false);
  return {
    [=](probe_atom) {
      if (!*once) {
        *once = true;
        p->set_value();
      }
    },
  };
}

} // namespace cluster
