// A bank branch that deadlocks, for practising snapshot-based debugging
// (walkthrough in docs/debugging.md).
//
// Customers bring deposits to the teller and want a receipt for each. After
// a few deposits the teller asks the auditor for an audit and awaits the
// answer; the auditor asks the ledger for its totals and awaits them; the
// ledger asks the teller for the cash on hand and awaits that. All three
// use `request(...).await(...)`, which handles nothing but the awaited
// response: the three wait for each other forever, and the customers'
// deposits pile up in the teller's mailbox.
//
// The coordinator is published, so that `caf-snapshot take --connect`
// can take snapshots from outside:
//
//   ./deadlock --port=0 --snapshot-dir=/tmp/deadlock-snaps
//   COORDINATOR PORT 41234
//   ...
//   DEADLOCK teller -> auditor -> ledger -> teller
//   caf-snapshot take --connect 127.0.0.1:41234 --out /tmp
//   caf-snapshot check /tmp/snapshot-00000001-*.cafsnap
//
// Runs until SIGINT or SIGTERM, or for --seconds=N. With
// --give-up-after=N, customers fail after N deposits without a receipt
// (try it with --snapshot.on-actor-failure=true for post-mortems).

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

#include "caf/all.hpp"
#include "caf/io/all.hpp"
#include "caf/snapshot/all.hpp"

namespace {

using deposit_atom = caf::atom_constant<caf::atom("deposit")>;
using audit_atom = caf::atom_constant<caf::atom("audit")>;
using totals_atom = caf::atom_constant<caf::atom("totals")>;
using cash_atom = caf::atom_constant<caf::atom("cash")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;

// Prints whole lines from any thread, flushed at once (readers are pipes).
void say(const std::string& line) {
  static std::mutex mtx;
  std::lock_guard<std::mutex> guard{mtx};
  std::cout << line << std::endl;
}

// -- participants -------------------------------------------------------------

struct ledger_state {
  static inline const char* name = "ledger";
  int64_t recorded = 0;
  bool waiting_for_teller = false;
  caf::actor teller; // not archived
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& recorded& waiting_for_teller;
  }
};

std::string to_string(const ledger_state& x) {
  return "recorded=" + std::to_string(x.recorded)
         + " waiting_for_teller=" + (x.waiting_for_teller ? "yes" : "no");
}

struct auditor_state {
  static inline const char* name = "auditor";
  uint64_t audits = 0;
  bool waiting_for_ledger = false;
  caf::actor ledger; // not archived
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& audits& waiting_for_ledger;
  }
};

std::string to_string(const auditor_state& x) {
  return "audits=" + std::to_string(x.audits)
         + " waiting_for_ledger=" + (x.waiting_for_ledger ? "yes" : "no");
}

struct teller_state {
  static inline const char* name = "teller";
  int64_t cash = 0;
  uint64_t deposits = 0;
  bool waiting_for_auditor = false;
  caf::actor auditor; // not archived
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& cash& deposits& waiting_for_auditor;
  }
};

std::string to_string(const teller_state& x) {
  return "cash=" + std::to_string(x.cash)
         + " deposits=" + std::to_string(x.deposits)
         + " waiting_for_auditor=" + (x.waiting_for_auditor ? "yes" : "no");
}

struct customer_state {
  static inline const char* name = "customer";
  std::string who;
  uint64_t sent = 0;
  uint64_t receipts = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& who& sent& receipts;
  }
};

std::string to_string(const customer_state& x) {
  return x.who + ": sent=" + std::to_string(x.sent)
         + " receipts=" + std::to_string(x.receipts);
}

// Says `line`, then sends `what` to `whom` as a request and awaits the
// response with `request(...).await(...)`, which handles nothing but that
// response (the cause of the deadlock). The state's flag `waiting` is set
// until the response arrives and is passed to `done`.
template <class Response, class State, class Atom, class F>
void ask_and_await(caf::snapshot::stateful_actor<State>* self,
                   const std::string& line, bool State::*waiting,
                   const caf::actor& whom, Atom what, F done) {
  say(line);
  self->state.*waiting = true;
  self->request(whom, caf::infinite, what).await([=](Response x) mutable {
    self->state.*waiting = false;
    done(x);
  });
}

// Answers the auditor's `totals` only after asking the teller for its cash.
caf::behavior ledger_fn(caf::snapshot::stateful_actor<ledger_state>* self) {
  return {
    [=](caf::actor teller) { self->state.teller = std::move(teller); },
    [=](totals_atom) -> caf::result<int64_t> {
      auto rp = self->make_response_promise<int64_t>();
      ask_and_await<int64_t>(
        self,
        "ledger: the auditor wants totals; asking the teller for its cash "
        "(request + await)",
        &ledger_state::waiting_for_teller, self->state.teller, cash_atom::value,
        [=](int64_t cash) mutable { rp.deliver(self->state.recorded + cash); });
      // The teller awaits the auditor, which awaits this ledger.
      say("DEADLOCK teller -> auditor -> ledger -> teller");
      return rp;
    },
  };
}

caf::behavior auditor_fn(caf::snapshot::stateful_actor<auditor_state>* self,
                         caf::actor ledger) {
  self->state.ledger = std::move(ledger);
  return {
    [=](audit_atom) -> caf::result<bool> {
      ++self->state.audits;
      auto rp = self->make_response_promise<bool>();
      ask_and_await<int64_t>(
        self,
        "auditor: audit requested; asking the ledger for totals "
        "(request + await)",
        &auditor_state::waiting_for_ledger, self->state.ledger,
        totals_atom::value, [=](int64_t) mutable { rp.deliver(true); });
      return rp;
    },
  };
}

caf::behavior teller_fn(caf::snapshot::stateful_actor<teller_state>* self,
                        caf::actor auditor, uint64_t audit_after) {
  self->state.auditor = std::move(auditor);
  return {
    [=](deposit_atom, int64_t amount) -> uint64_t {
      auto& st = self->state;
      st.cash += amount;
      auto receipt = ++st.deposits;
      say("teller: deposit " + std::to_string(receipt) + " of "
          + std::to_string(amount) + ", cash " + std::to_string(st.cash));
      if (receipt == audit_after)
        ask_and_await<bool>(
          self, "teller: asking the auditor for an audit (request + await)",
          &teller_state::waiting_for_auditor, st.auditor, audit_atom::value,
          [](bool) {});
      return receipt;
    },
    [=](cash_atom) { return self->state.cash; },
  };
}

// Brings a deposit to the teller every `tick` and collects the receipts.
// Gives up (fails with an error) once `give_up_after` deposits wait for a
// receipt, if that is not 0.
caf::behavior customer_fn(caf::snapshot::stateful_actor<customer_state>* self,
                          std::string who, caf::actor teller,
                          caf::timespan tick, uint64_t give_up_after) {
  self->state.who = std::move(who);
  self->send(self, tick_atom::value);
  return {
    [=](tick_atom) {
      auto& st = self->state;
      if (give_up_after > 0 && st.sent - st.receipts >= give_up_after) {
        say(st.who + ": " + std::to_string(st.sent - st.receipts)
            + " deposits without a receipt, giving up");
        self->quit(caf::make_error(caf::sec::runtime_error,
                                   st.who + " gave up waiting for receipts"));
        return;
      }
      auto amount = static_cast<int64_t>(10 * (st.sent % 5 + 1));
      ++st.sent;
      self->request(teller, caf::infinite, deposit_atom::value, amount)
        .then([=](uint64_t) { ++self->state.receipts; });
      self->delayed_send(self, tick, tick_atom::value);
    },
  };
}

// -- configuration ------------------------------------------------------------

class config : public caf::actor_system_config {
public:
  uint16_t port = 0;
  std::string bind = "127.0.0.1";
  std::string snapshot_dir;
  uint64_t seconds = 0;
  uint64_t customers = 3;
  uint64_t tick_ms = 200;
  uint64_t audit_after = 4;
  uint64_t give_up_after = 0;

  config() {
    load<caf::io::middleman>();
    load<caf::snapshot::module>();
    opt_group{custom_options_, "global"}
      .add(port, "port", "port for the coordinator (0: any free port)")
      .add(bind, "bind", "address to publish the coordinator at")
      .add(snapshot_dir, "snapshot-dir",
           "where snapshots are stored (else snapshot.directory)")
      .add(seconds, "seconds", "stop after N seconds (0: at SIGINT/SIGTERM)")
      .add(customers, "customers", "number of customers")
      .add(tick_ms, "tick-ms", "ms between two deposits of a customer")
      .add(audit_after, "audit-after", "deposits before the audit")
      .add(give_up_after, "give-up-after",
           "customers fail after N deposits without receipt (0: never)");
  }
};

// Waits for SIGINT or SIGTERM (blocked in every thread), or for `seconds`
// (0: no limit); returns the signal or 0.
int wait_for_stop(const sigset_t& stop_signals, uint64_t seconds) {
  if (seconds == 0) {
    int sig = 0;
    while (sigwait(&stop_signals, &sig) != 0)
      ; // nop
    return sig;
  }
  auto deadline = std::chrono::steady_clock::now()
                  + std::chrono::seconds{seconds};
  for (;;) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero())
      return 0;
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(left);
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left - secs);
    timespec ts{static_cast<time_t>(secs.count()),
                static_cast<long>(ns.count())};
    auto sig = sigtimedwait(&stop_signals, nullptr, &ts);
    if (sig > 0)
      return sig;
    if (errno == EAGAIN)
      return 0;
  }
}

} // namespace

int main(int argc, char** argv) {
  // Block the stop signals before CAF starts its threads, so that they
  // inherit the mask and only wait_for_stop receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  config cfg;
  if (auto err = cfg.parse(argc, argv)) {
    std::cerr << "deadlock: " << caf::actor_system_config::render(err)
              << std::endl;
    return 2;
  }
  if (cfg.cli_helptext_printed)
    return 0;
  if (!cfg.snapshot_dir.empty())
    cfg.set("snapshot.directory", cfg.snapshot_dir);
  caf::actor_system sys{cfg};
  auto port = caf::snapshot::publish(sys, cfg.port, cfg.bind);
  if (!port) {
    std::cerr << "deadlock: cannot publish the coordinator: "
              << sys.render(port.error()) << std::endl;
    return 1;
  }
  say("COORDINATOR PORT " + std::to_string(*port));
  say("snapshots go to "
      + caf::snapshot::module::find(sys)->settings().directory);
  say("take one with: caf-snapshot take --connect " + cfg.bind + ":"
      + std::to_string(*port));
  auto ledger = sys.spawn(ledger_fn);
  auto auditor = sys.spawn(auditor_fn, ledger);
  auto teller = sys.spawn(teller_fn, auditor, cfg.audit_after);
  caf::anon_send(ledger, teller);
  say("spawned teller " + std::to_string(teller.id()) + ", auditor "
      + std::to_string(auditor.id()) + ", ledger "
      + std::to_string(ledger.id()));
  std::vector<caf::actor> actors{teller, auditor, ledger};
  auto tick = std::chrono::milliseconds{cfg.tick_ms};
  for (uint64_t i = 1; i <= cfg.customers; ++i) {
    auto who = "customer-" + std::to_string(i);
    actors.push_back(
      sys.spawn(customer_fn, who, teller, tick, cfg.give_up_after));
    say("spawned " + who + " " + std::to_string(actors.back().id()));
  }
  auto sig = wait_for_stop(stop_signals, cfg.seconds);
  say(sig != 0 ? std::string{"stopping on "} + strsignal(sig)
               : "stopping after " + std::to_string(cfg.seconds) + " s");
  // A second SIGINT or SIGTERM ends the process at once.
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  for (auto& a : actors)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  // The customers stop, but the deadlocked actors never will: in CAF 0.17.6
  // an actor awaiting a response handles nothing else, not even an exit
  // message. Waiting for them would hang the shutdown (and LeakSanitizer
  // reports them as leaked at exit).
  sys.await_actors_before_shutdown(false);
  return 0;
}
