// The bank: accounts move money to each other with every kind of CAF
// traffic (plain, urgent, delayed, request/response) while snapshots are
// taken. Each snapshot is loaded back and printed: the balances plus the
// money in flight always add up to the initial total.
//
// Run: ./bank [--accounts=N] [--snapshots=N]

#include <iomanip>
#include <iostream>
#include <random>
#include <vector>

#include "caf/all.hpp"
#include "caf/snapshot/all.hpp"

using namespace std::chrono_literals;

namespace {

using deposit_atom = caf::atom_constant<caf::atom("deposit")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using peers_atom = caf::atom_constant<caf::atom("peers")>;

constexpr int64_t initial_balance = 100;

struct account {
  int64_t balance = initial_balance;
  std::vector<caf::actor> peers; // not archived: the user's choice
  std::minstd_rand rng;          // not archived
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
                         unsigned seed) {
  self->state.rng.seed(seed);
  return {
    [=](peers_atom, std::vector<caf::actor>& peers) {
      self->state.peers = std::move(peers);
    },
    [=](deposit_atom, int64_t amount) { self->state.balance += amount; },
    [=](tick_atom) {
      auto& st = self->state;
      if (st.peers.empty() || st.balance == 0)
        return;
      auto amount = 1 + static_cast<int64_t>(st.rng() % st.balance);
      st.balance -= amount;
      auto& to = st.peers[st.rng() % st.peers.size()];
      switch (st.rng() % 4) {
        case 0:
          self->send(to, deposit_atom::value, amount);
          break;
        case 1:
          self->send<caf::message_priority::high>(to, deposit_atom::value,
                                                 amount);
          break;
        case 2:
          self->delayed_send(to, 5ms, deposit_atom::value, amount);
          break;
        default:
          self->request(to, caf::infinite, deposit_atom::value, amount)
            .then([] {});
      }
      self->send(st.peers[st.rng() % st.peers.size()], tick_atom::value);
    },
  };
}

class config : public caf::actor_system_config {
public:
  size_t accounts = 8;
  size_t snapshots = 3;
  config() {
    load<caf::snapshot::module>();
    opt_group{custom_options_, "global"}
      .add(accounts, "accounts", "number of accounts")
      .add(snapshots, "snapshots", "number of snapshots to take");
  }
};

int64_t print(caf::actor_system& sys,
              const caf::snapshot::global_snapshot& snap) {
  int64_t balances = 0;
  int64_t in_flight = 0;
  std::cout << "snapshot " << snap.id << ": " << snap.actors.size()
            << " accounts, " << snap.in_flight.size()
            << " messages in flight\n";
  for (auto& a : snap.actors) {
    account st;
    if (auto err = a.load_state(st)) {
      std::cerr << caf::snapshot::render(err) << '\n';
      continue;
    }
    balances += st.balance;
    std::cout << "  account " << std::setw(3) << a.id << "  " << std::setw(5)
              << st.balance << '\n';
  }
  for (auto& m : snap.in_flight) {
    auto msg = m.decode(sys);
    if (msg && msg->match_elements<deposit_atom, int64_t>()) {
      in_flight += msg->get_as<int64_t>(1);
      std::cout << "  in flight " << std::setw(3) << m.sender << " -> "
                << std::setw(3) << m.receiver << "  " << std::setw(5)
                << msg->get_as<int64_t>(1) << "  ("
                << caf::snapshot::to_string(m.location) << ")\n";
    }
  }
  std::cout << "  balances " << balances << " + in flight " << in_flight
            << " = " << balances + in_flight << '\n';
  return balances + in_flight;
}

} // namespace

void caf_main(caf::actor_system& sys, const config& cfg) {
  std::vector<caf::actor> accounts;
  for (size_t i = 0; i < cfg.accounts; ++i)
    accounts.push_back(sys.spawn(account_fn, static_cast<unsigned>(i + 1)));
  for (auto& a : accounts)
    caf::anon_send(a, peers_atom::value, accounts);
  for (auto& a : accounts)
    caf::anon_send(a, tick_atom::value);
  auto total = static_cast<int64_t>(cfg.accounts) * initial_balance;
  std::cout << "initial total: " << total << "\n";
  caf::scoped_actor self{sys};
  int failures = 0;
  for (size_t i = 0; i < cfg.snapshots; ++i) {
    self->request(caf::snapshot::coordinator(sys), 30s,
                  caf::snapshot::take_atom::value)
      .receive(
        [&](const caf::snapshot::snapshot_info& info) {
          std::cout << "stored " << info.path << " (" << info.bytes
                    << " bytes, " << info.duration_ms << " ms)\n";
          auto snap = caf::snapshot::load(info.path);
          if (!snap) {
            std::cerr << caf::snapshot::render(snap.error()) << '\n';
            ++failures;
          } else if (print(sys, *snap) != total) {
            std::cerr << "money is not conserved!\n";
            ++failures;
          }
        },
        [&](caf::error& err) {
          std::cerr << "snapshot failed: " << sys.render(err) << '\n';
          ++failures;
        });
  }
  for (auto& a : accounts)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  if (failures > 0)
    std::exit(1);
}

CAF_MAIN()
