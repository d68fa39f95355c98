// The distributed bank: the bank example spread over several OS processes.
// Every node runs accounts that move money to each other, on their own node
// and across nodes (plain, urgent and request/response; delayed sends stay
// on their node). The root takes snapshots of the whole cluster and prints,
// per node, the balances and the money in flight: they add up to the
// initial total as long as no node was lost.
//
// Run (three processes on one host):
//   distributed_bank --role=root --port=0 --total-nodes=3 --snapshots=5
//     -> prints "ROOT READY port=<p>"
//   distributed_bank --role=member --port=<p>      (twice)
//     -> each prints "MEMBER READY port=<q> node=<node>"
//
// Nodes find each other through a directory actor per node. The root
// registers its directory under the name `bank_dir` and publishes its
// snapshot coordinator; a member joins the root's cluster, looks the root's
// directory up on the root's node and says hello with its own accounts. When
// `--total-nodes` nodes are there, the root hands every node the list of all
// accounts and starts taking snapshots, one each `--interval-ms`.
//
// For each snapshot, the root prints a report and one line for scripts:
//   SNAPSHOT id=<id> complete=<0|1> actors=<n> nodes=<k> total=<sum>
//            expected=<exp> checked=<0|1> path=<path>
// `checked=1` means that the snapshot covers every node and every account
// of the cluster as it started, so `total` must equal `expected`. After a
// node is lost, its money is gone and conservation can no longer be checked
// (`checked=0`). An incomplete snapshot is preceded by
// `INCOMPLETE id=<id> reason=<reason>`, a failed one is reported as
// `SNAPSHOT_FAILED n=<attempt> error=<error>`.
//
// The root exits with 1 if a checked snapshot did not conserve money (or a
// snapshot file could not be loaded, or the cluster did not form in time).

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "caf/all.hpp"
#include "caf/io/all.hpp"
#include "caf/snapshot/all.hpp"

using namespace std::chrono_literals;

namespace {

using deposit_atom = caf::atom_constant<caf::atom("deposit")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using peers_atom = caf::atom_constant<caf::atom("peers")>;
using lost_atom = caf::atom_constant<caf::atom("lost")>;
using hello_atom = caf::atom_constant<caf::atom("hello")>;
using accounts_atom = caf::atom_constant<caf::atom("accounts")>;
using wait_atom = caf::atom_constant<caf::atom("wait")>;
using watch_atom = caf::atom_constant<caf::atom("watch")>;
using done_atom = caf::atom_constant<caf::atom("done")>;

// The name of the root's directory in its actor registry.
constexpr caf::atom_value directory_name = caf::atom("bank_dir");

constexpr int64_t initial_balance = 100;

// Prints whole lines from any thread, flushed at once (readers are pipes).
void say(const std::string& line) {
  static std::mutex mtx;
  std::lock_guard<std::mutex> guard{mtx};
  std::cout << line << std::endl;
}

// -- accounts -----------------------------------------------------------------

struct account {
  int64_t balance = initial_balance;
  std::vector<caf::actor> local;  // accounts on this node; not archived
  std::vector<caf::actor> remote; // proxies of other nodes' accounts
  std::minstd_rand rng;           // not archived
  caf::timespan tick_interval{1ms};
  bool ticking = false;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & balance;
  }
};

// Readable state in snapshots and in `caf-snapshot show`.
std::string to_string(const account& x) {
  return "balance=" + std::to_string(x.balance);
}

caf::behavior account_fn(caf::snapshot::stateful_actor<account>* self,
                         unsigned seed, caf::timespan tick_interval) {
  self->state.rng.seed(seed);
  self->state.tick_interval = tick_interval;
  return {
    [=](peers_atom, const std::vector<caf::actor>& all) {
      auto& st = self->state;
      st.local.clear();
      st.remote.clear();
      for (auto& x : all) {
        if (!x || x.address() == self->address())
          continue;
        (x.node() == self->node() ? st.local : st.remote).push_back(x);
      }
      if (!st.ticking) {
        st.ticking = true;
        self->send(caf::actor_cast<caf::actor>(self), tick_atom::value);
      }
    },
    [=](lost_atom, const caf::node_id& node) {
      // Money sent to a lost node is gone; stop sending there.
      auto& xs = self->state.remote;
      xs.erase(std::remove_if(xs.begin(), xs.end(),
                              [&](const caf::actor& x) {
                                return x.node() == node;
                              }),
               xs.end());
    },
    [=](deposit_atom, int64_t amount) { self->state.balance += amount; },
    [=](tick_atom) {
      auto& st = self->state;
      self->delayed_send(caf::actor_cast<caf::actor>(self), st.tick_interval,
                         tick_atom::value);
      auto peers = st.local.size() + st.remote.size();
      if (peers == 0 || st.balance == 0)
        return;
      auto amount = 1 + static_cast<int64_t>(st.rng() % st.balance);
      auto across = !st.remote.empty() && (st.local.empty() || st.rng() % 2);
      auto& to = across ? st.remote[st.rng() % st.remote.size()]
                        : st.local[st.rng() % st.local.size()];
      st.balance -= amount;
      // Delayed sends only on this node; across nodes the other three.
      switch (st.rng() % (across ? 3 : 4)) {
        case 0:
          self->send(to, deposit_atom::value, amount);
          break;
        case 1:
          self->send<caf::message_priority::high>(to, deposit_atom::value,
                                                 amount);
          break;
        case 2:
          self->request(to, caf::infinite, deposit_atom::value, amount)
            .then([] {}, [](caf::error&) { /* receiver lost: money lost */ });
          break;
        default:
          self->delayed_send(to, 5ms, deposit_atom::value, amount);
      }
    },
  };
}

// -- directories --------------------------------------------------------------

// What the root knows about a member node.
struct member_entry {
  caf::actor dir;
  caf::node_id node;
  std::vector<caf::actor> accounts;
};

// Not a participant: a plain actor that introduces the nodes' accounts to
// each other and tells them about lost nodes.
struct directory_state {
  bool is_root = false;
  size_t total_nodes = 1;
  std::vector<caf::actor> local;
  // Root: the members by node string; promises of `wait_atom` requests.
  std::map<std::string, member_entry> members;
  std::vector<caf::response_promise> waiting;
  bool started = false;
  // Member: the root's directory and whom to tell when it is gone.
  caf::actor root_dir;
  caf::actor watcher;
  static inline const char* name = "bank.directory";
};

using directory_actor = caf::stateful_actor<directory_state>;

size_t count_accounts(directory_actor* self) {
  auto n = self->state.local.size();
  for (auto& kvp : self->state.members)
    n += kvp.second.accounts.size();
  return n;
}

// Root: gives every account the list of all accounts.
void introduce(directory_actor* self) {
  auto& st = self->state;
  std::vector<caf::actor> all = st.local;
  for (auto& kvp : st.members)
    all.insert(all.end(), kvp.second.accounts.begin(),
               kvp.second.accounts.end());
  for (auto& a : st.local)
    self->send(a, peers_atom::value, all);
  for (auto& kvp : st.members)
    self->send(kvp.second.dir, accounts_atom::value, all);
  st.started = true;
  for (auto& rp : st.waiting)
    rp.deliver(static_cast<uint64_t>(st.members.size() + 1),
               static_cast<uint64_t>(all.size()));
  st.waiting.clear();
}

caf::behavior directory_fn(directory_actor* self, bool is_root,
                           size_t total_nodes, std::vector<caf::actor> local,
                           caf::actor root_dir) {
  auto& st = self->state;
  st.is_root = is_root;
  st.total_nodes = total_nodes;
  st.local = std::move(local);
  st.root_dir = std::move(root_dir);
  if (st.root_dir)
    self->monitor(st.root_dir);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    auto node = msg.source.node();
    if (st.root_dir && msg.source == st.root_dir.address()) {
      say("ROOT LOST node=" + caf::to_string(node));
      for (auto& a : st.local)
        self->send(a, lost_atom::value, node);
      if (st.watcher)
        self->send(st.watcher, done_atom::value);
      return;
    }
    auto i = st.members.find(caf::to_string(node));
    if (i == st.members.end() || i->second.dir.address() != msg.source)
      return;
    say("NODE LOST node=" + i->first);
    st.members.erase(i);
    for (auto& a : st.local)
      self->send(a, lost_atom::value, node);
    for (auto& kvp : st.members)
      self->send(kvp.second.dir, lost_atom::value, node);
  });
  return {
    // -- root ---------------------------------------------------------------
    [=](hello_atom, const caf::actor& dir, const std::string& node,
        const std::vector<caf::actor>& accounts) -> caf::result<bool> {
      auto& st = self->state;
      if (!st.is_root || !dir)
        return caf::sec::unexpected_message;
      self->monitor(dir);
      st.members[node] = member_entry{dir, dir.node(), accounts};
      say("NODE JOINED node=" + node + " accounts="
          + std::to_string(accounts.size()) + " nodes="
          + std::to_string(st.members.size() + 1));
      if (st.started || st.members.size() + 1 >= st.total_nodes)
        introduce(self);
      return true;
    },
    [=](wait_atom) -> caf::result<uint64_t, uint64_t> {
      auto& st = self->state;
      if (st.started)
        return {static_cast<uint64_t>(st.members.size() + 1),
                static_cast<uint64_t>(count_accounts(self))};
      auto rp = self->make_response_promise();
      st.waiting.push_back(rp);
      if (st.members.size() + 1 >= st.total_nodes)
        introduce(self); // a cluster of one
      return rp;
    },
    // -- member -------------------------------------------------------------
    [=](accounts_atom, const std::vector<caf::actor>& all) {
      for (auto& a : self->state.local)
        self->send(a, peers_atom::value, all);
    },
    [=](lost_atom, const caf::node_id& node) {
      for (auto& a : self->state.local)
        self->send(a, lost_atom::value, node);
    },
    [=](watch_atom, const caf::actor& watcher) {
      self->state.watcher = watcher;
    },
  };
}

// -- configuration ------------------------------------------------------------

class config : public caf::actor_system_config {
public:
  std::string role = "root";
  std::string host = "127.0.0.1";
  std::string bind = "127.0.0.1";
  uint16_t port = 0;
  size_t accounts = 8;
  size_t snapshots = 5;
  size_t interval_ms = 500;
  size_t run_ms = 0;
  size_t total_nodes = 3;
  size_t tick_ms = 1;
  size_t wait_ms = 30000;
  config() {
    load<caf::snapshot::module>();
    opt_group{custom_options_, "global"}
      .add(role, "role", "root (takes the snapshots) or member")
      .add(host, "host", "member: address of the root")
      .add(bind, "bind", "address at which this node publishes its "
                         "coordinator (root) or directory (member)")
      .add(port, "port", "root: port to publish (0: pick one); member: the "
                         "root's port")
      .add(accounts, "accounts", "number of accounts on this node")
      .add(snapshots, "snapshots", "root: number of snapshots to take")
      .add(interval_ms, "interval-ms", "root: milliseconds between snapshots")
      .add(run_ms, "run-ms", "member: milliseconds to run (0: until killed "
                             "or the root is gone)")
      .add(total_nodes, "total-nodes", "root: nodes (itself included) to "
                                       "wait for before taking snapshots")
      .add(tick_ms, "tick-ms", "milliseconds between two transfers of an "
                               "account")
      .add(wait_ms, "wait-ms", "root: milliseconds to wait for the nodes");
  }
};

// Exit status of the process: `caf_main` cannot return one in CAF 0.17.
[[noreturn]] void exit_failure() {
  std::cout.flush();
  std::_Exit(EXIT_FAILURE);
}

void fail_on_exit() {
  std::atexit(exit_failure); // runs after the actor system is gone
}

std::vector<caf::actor> spawn_accounts(caf::actor_system& sys,
                                       const config& cfg, unsigned seed) {
  std::vector<caf::actor> result;
  caf::timespan tick{std::chrono::milliseconds{cfg.tick_ms}};
  for (size_t i = 0; i < cfg.accounts; ++i)
    result.push_back(
      sys.spawn(account_fn, seed + static_cast<unsigned>(i), tick));
  return result;
}

void stop(const std::vector<caf::actor>& xs) {
  for (auto& x : xs)
    caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
}

// -- printing snapshots -------------------------------------------------------

struct node_sum {
  size_t accounts = 0;
  int64_t balances = 0;
  int64_t in_flight = 0;
  size_t messages = 0;
};

// The cluster as it started: what a checked snapshot must contain.
struct cluster_size {
  uint64_t nodes = 0;
  uint64_t accounts = 0;
};

// Prints one snapshot; returns false if it should have conserved money but
// did not.
bool report(caf::actor_system& sys, const caf::snapshot::snapshot_info& info,
            const caf::snapshot::global_snapshot& snap,
            const cluster_size& cluster) {
  auto root = caf::to_string(sys.node());
  std::map<std::string, node_sum> nodes;
  for (auto& a : snap.actors) {
    account st;
    if (auto err = a.load_state(st)) {
      say("  " + caf::snapshot::render(err));
      continue;
    }
    auto& n = nodes[a.node];
    ++n.accounts;
    n.balances += st.balance;
  }
  for (auto& m : snap.in_flight) {
    auto msg = m.decode(sys);
    if (msg && msg->match_elements<deposit_atom, int64_t>()) {
      auto& n = nodes[m.receiver_node];
      n.in_flight += msg->get_as<int64_t>(1);
      ++n.messages;
    }
  }
  int64_t total = 0;
  size_t with_accounts = 0;
  std::ostringstream out;
  out << "snapshot " << snap.id << ": " << snap.actors.size()
      << " accounts, " << snap.in_flight.size() << " messages in flight, "
      << (snap.complete ? "complete" : "INCOMPLETE") << " (" << info.bytes
      << " bytes, " << info.duration_ms << " ms)\n";
  for (auto& [node, n] : nodes) {
    total += n.balances + n.in_flight;
    if (n.accounts > 0)
      ++with_accounts;
    out << "  " << (node == root ? "root   " : "member ") << node << ": "
        << n.accounts << " accounts, balances " << std::setw(6) << n.balances
        << " + in flight " << std::setw(5) << n.in_flight << " ("
        << n.messages << " deposits)\n";
  }
  auto expected = static_cast<int64_t>(cluster.accounts) * initial_balance;
  auto checked = snap.complete && with_accounts == cluster.nodes
                 && snap.actors.size() == cluster.accounts;
  auto conserved = total == expected;
  out << "  total " << total << ", expected " << expected;
  if (checked)
    out << (conserved ? ": conserved" : ": MONEY IS NOT CONSERVED");
  else
    out << ": not checkable (the cluster lost a node)";
  if (!snap.complete) {
    out << "\n  incomplete: " << snap.incomplete_reason << '\n';
    out << "INCOMPLETE id=" << snap.id << " reason=" << snap.incomplete_reason;
  }
  say(out.str());
  std::ostringstream line;
  line << "SNAPSHOT id=" << snap.id << " complete=" << snap.complete
       << " actors=" << snap.actors.size() << " nodes=" << with_accounts
       << " total=" << total << " expected=" << expected
       << " checked=" << checked << " path=" << info.path;
  say(line.str());
  return !checked || conserved;
}

// -- roles --------------------------------------------------------------------

void run_root(caf::actor_system& sys, const config& cfg) {
  if (cfg.total_nodes == 0) {
    say("ROOT FAILED error=--total-nodes must be at least 1");
    return fail_on_exit();
  }
  auto accounts = spawn_accounts(sys, cfg, 1);
  auto dir = sys.spawn(directory_fn, true, cfg.total_nodes, accounts,
                       caf::actor{});
  sys.registry().put(directory_name, dir);
  auto port = caf::snapshot::publish(sys, cfg.port, cfg.bind);
  if (!port) {
    say("ROOT FAILED error=" + sys.render(port.error()));
    sys.registry().erase(directory_name);
    stop(accounts);
    caf::anon_send_exit(dir, caf::exit_reason::user_shutdown);
    return fail_on_exit();
  }
  say("ROOT READY port=" + std::to_string(*port)
      + " node=" + caf::to_string(sys.node()));
  bool ok = true;
  cluster_size cluster;
  caf::scoped_actor self{sys};
  self
    ->request(dir, std::chrono::milliseconds{cfg.wait_ms}, wait_atom::value)
    .receive(
      [&](uint64_t nodes, uint64_t n) {
        cluster.nodes = nodes;
        cluster.accounts = n;
        say("CLUSTER READY nodes=" + std::to_string(nodes)
            + " accounts=" + std::to_string(n));
      },
      [&](caf::error& err) {
        say("ROOT FAILED error=nodes did not join in time: "
            + sys.render(err));
        ok = false;
      });
  auto timeout = caf::snapshot::module::find(sys)->settings().timeout;
  for (size_t i = 1; ok && i <= cfg.snapshots; ++i) {
    if (i > 1)
      std::this_thread::sleep_for(std::chrono::milliseconds{cfg.interval_ms});
    say("TAKING n=" + std::to_string(i));
    self
      ->request(caf::snapshot::coordinator(sys), timeout + 10s,
                caf::snapshot::take_atom::value)
      .receive(
        [&](const caf::snapshot::snapshot_info& info) {
          auto snap = caf::snapshot::load(info.path);
          if (!snap) {
            say("SNAPSHOT_FAILED n=" + std::to_string(i) + " error="
                + caf::snapshot::render(snap.error()));
            ok = false;
          } else if (!report(sys, info, *snap, cluster)) {
            ok = false;
          }
        },
        [&](caf::error& err) {
          // A lost node may fail a snapshot (node_lost, timed_out); the
          // next one leaves the node out.
          say("SNAPSHOT_FAILED n=" + std::to_string(i)
              + " error=" + sys.render(err));
        });
  }
  say(std::string{"ROOT DONE "} + (ok ? "ok" : "FAILED"));
  sys.registry().erase(directory_name);
  stop(accounts);
  caf::anon_send_exit(dir, caf::exit_reason::user_shutdown);
  if (!ok)
    fail_on_exit();
}

void run_member(caf::actor_system& sys, const config& cfg) {
  if (cfg.port == 0) {
    say("MEMBER FAILED error=--port must name the root's port");
    return fail_on_exit();
  }
  if (auto err = caf::snapshot::join(sys, cfg.host, cfg.port)) {
    say("MEMBER FAILED error=cannot join: " + sys.render(err));
    return fail_on_exit();
  }
  // The root's directory lives on the node of the root's coordinator.
  auto coord = sys.middleman().remote_actor(cfg.host, cfg.port);
  caf::actor root_dir;
  if (coord)
    root_dir = caf::actor_cast<caf::actor>(
      sys.middleman().remote_lookup(directory_name, coord->node()));
  if (!root_dir) {
    say("MEMBER FAILED error=the root has no directory");
    return fail_on_exit();
  }
  auto seed = static_cast<unsigned>(std::random_device{}());
  auto accounts = spawn_accounts(sys, cfg, seed);
  auto dir = sys.spawn(directory_fn, false, size_t{0}, accounts, root_dir);
  auto shutdown = [&] {
    stop(accounts);
    caf::anon_send_exit(dir, caf::exit_reason::user_shutdown);
  };
  auto port = sys.middleman().publish(dir, 0, cfg.bind.c_str());
  if (!port) {
    say("MEMBER FAILED error=" + sys.render(port.error()));
    shutdown();
    return fail_on_exit();
  }
  caf::scoped_actor self{sys};
  self->send(dir, watch_atom::value, caf::actor_cast<caf::actor>(self));
  auto node = caf::to_string(sys.node());
  bool ok = false;
  self
    ->request(root_dir, std::chrono::milliseconds{cfg.wait_ms},
              hello_atom::value, dir, node, accounts)
    .receive([&](bool) { ok = true; },
             [&](caf::error& err) {
               say("MEMBER FAILED error=hello: " + sys.render(err));
             });
  if (!ok) {
    shutdown();
    return fail_on_exit();
  }
  say("MEMBER READY port=" + std::to_string(*port) + " node=" + node);
  if (cfg.run_ms > 0)
    self->receive([](done_atom) {},
                  caf::after(std::chrono::milliseconds{cfg.run_ms}) >> [] {});
  else
    self->receive([](done_atom) {});
  say("MEMBER DONE");
  shutdown();
}

} // namespace

void caf_main(caf::actor_system& sys, const config& cfg) {
  if (cfg.role == "root") {
    run_root(sys, cfg);
  } else if (cfg.role == "member") {
    run_member(sys, cfg);
  } else {
    std::cerr << "unknown --role '" << cfg.role << "': root or member\n";
    fail_on_exit();
  }
}

CAF_MAIN(caf::io::middleman)
