// Token conservation: accounts move money with every kind of traffic while
// snapshots are taken; in every snapshot the recorded balances plus the
// money in flight equal the initial total.

#include <atomic>
#include <map>
#include <random>
#include <vector>

#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {

using deposit_atom = caf::atom_constant<caf::atom("deposit")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using peers_atom = caf::atom_constant<caf::atom("peers")>;
using query_atom = caf::atom_constant<caf::atom("query")>;
using pause_atom = caf::atom_constant<caf::atom("pause")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using home_atom = caf::atom_constant<caf::atom("home")>;

constexpr int64_t initial_balance = 1000;

struct account {
  int64_t balance = 0;
  std::vector<caf::actor> peers;  // not archived
  std::vector<caf::actor> calm;   // peers that never await: urgent targets
  std::mt19937_64 rng;            // not archived
  bool awaits = false;            // may enter await mode
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & balance;
  }
};

using account_actor = caf::snapshot::stateful_actor<account>;

// A short-lived account: receives money at spawn, gives it back and quits.
caf::behavior child_fn(caf::snapshot::stateful_actor<account>* self,
                       caf::actor parent, int64_t amount) {
  self->state.balance = amount;
  return {
    [=](home_atom) {
      self->send(parent, deposit_atom::value, self->state.balance);
      self->state.balance = 0;
      self->quit();
    },
  };
}

// Ticks sent by the driver and not handled yet. The driver keeps this below
// a bound, so that a slow build (ThreadSanitizer: about 15 times slower)
// does not pile up a backlog that delays snapshots beyond their timeout.
std::atomic<int64_t> ticks_pending{0};

constexpr int64_t max_ticks_pending = 2000;

caf::behavior account_fn(account_actor* self, uint64_t seed, bool awaits) {
  self->state.balance = initial_balance;
  self->state.rng.seed(seed);
  self->state.awaits = awaits;
  auto pick = [=](const std::vector<caf::actor>& xs) -> const caf::actor& {
    std::uniform_int_distribution<size_t> d{0, xs.size() - 1};
    return xs[d(self->state.rng)];
  };
  auto amount = [=]() -> int64_t {
    auto& st = self->state;
    if (st.balance <= 0)
      return 0;
    std::uniform_int_distribution<int64_t> d{1, std::min<int64_t>(
                                                  st.balance, 50)};
    auto x = d(st.rng);
    st.balance -= x;
    return x;
  };
  // Deposits while paused are skipped (stashed) until `resume`.
  auto paused = std::make_shared<caf::behavior>();
  *paused = caf::behavior{
    [=](resume_atom) { self->unbecome(); },
    [=](tick_atom) { return caf::skip(); },
    [=](deposit_atom, int64_t) { return caf::skip(); },
    [=](query_atom) { return self->state.balance; },
  };
  return {
    [=](peers_atom, std::vector<caf::actor>& peers,
        std::vector<caf::actor>& calm) {
      self->state.peers = std::move(peers);
      self->state.calm = std::move(calm);
    },
    [=](deposit_atom, int64_t x) { self->state.balance += x; },
    [=](query_atom) { return self->state.balance; },
    [=](resume_atom) {
      // nop: a resume that arrives when not paused
    },
    [=](tick_atom) {
      --ticks_pending;
      auto& st = self->state;
      if (st.peers.empty())
        return;
      std::uniform_int_distribution<int> kind{0, 8};
      for (int i = 0; i < 4; ++i) {
        auto x = amount();
        if (x == 0)
          return;
        switch (kind(st.rng)) {
          case 0: // plain send
          case 1:
            self->send(pick(st.peers), deposit_atom::value, x);
            break;
          case 2: // urgent, only to actors that never await (CAF 0.17.6
                  // drops urgent messages that reach an awaiting actor)
            self->send<caf::message_priority::high>(pick(st.calm),
                                                   deposit_atom::value, x);
            break;
          case 3: // through the actor clock
            self->delayed_send(pick(st.peers),
                               std::chrono::microseconds{x * 20},
                               deposit_atom::value, x);
            break;
          case 4: { // request/then: money travels with the request
            self->request(pick(st.peers), caf::infinite, deposit_atom::value,
                          x)
              .then([] {});
            break;
          }
          case 5: { // await: stashes everything else until the answer
            if (st.awaits) {
              self->request(pick(st.calm), caf::infinite, query_atom::value)
                .await([](int64_t) {});
            }
            self->send(pick(st.peers), deposit_atom::value, x);
            break;
          }
          case 6: { // pause: deposits get skipped for a while
            self->become(caf::keep_behavior, *paused);
            self->delayed_send(self, std::chrono::microseconds{200},
                               resume_atom::value);
            self->send(pick(st.peers), deposit_atom::value, x);
            break;
          }
          case 7: { // spawn a child that holds money and gives it back
            auto child = self->spawn(child_fn, caf::actor_cast<caf::actor>(self), x);
            self->delayed_send(child, std::chrono::microseconds{100},
                               home_atom::value);
            break;
          }
          default: // tick a peer: traffic that carries no money
            self->send(pick(st.peers), deposit_atom::value, x);
            self->send(pick(st.peers), tick_atom::value);
        }
      }
    },
  };
}

struct totals {
  size_t in_flight = 0;
  std::map<caf::snapshot::message_location, size_t> by_location;
  size_t exited = 0;
  size_t children = 0;
};

int64_t money_in(const caf::snapshot::global_snapshot& snap,
                 caf::actor_system& sys, totals& t) {
  int64_t sum = 0;
  for (auto& a : snap.actors) {
    account st;
    auto err = a.load_state(st);
    EXPECT_FALSE(err) << caf::snapshot::render(err);
    sum += st.balance;
    if (a.status == caf::snapshot::actor_status::exited)
      ++t.exited;
  }
  for (auto& m : snap.in_flight) {
    auto msg = m.decode(sys);
    EXPECT_TRUE(msg) << m.text;
    if (!msg)
      continue;
    ++t.in_flight;
    ++t.by_location[m.location];
    if (msg->match_elements<deposit_atom, int64_t>())
      sum += msg->get_as<int64_t>(1);
  }
  return sum;
}

void run_bank(uint64_t seed, size_t num_accounts, size_t num_snapshots,
              totals& t) {
  test::temp_dir dir;
  test::config cfg{dir.path()};
  caf::actor_system sys{cfg};
  std::vector<caf::actor> accounts;
  std::vector<caf::actor> calm;
  for (size_t i = 0; i < num_accounts; ++i) {
    bool awaits = i % 3 == 0;
    auto a = sys.spawn(account_fn, seed * 1000 + i, awaits);
    accounts.push_back(a);
    if (!awaits)
      calm.push_back(a);
  }
  for (auto& a : accounts)
    caf::anon_send(a, peers_atom::value, accounts, calm);
  auto total = static_cast<int64_t>(num_accounts) * initial_balance;
  std::atomic<bool> done{false};
  ticks_pending = 0; // those of the previous run died with their receivers
  // External input keeps traffic going while snapshots run.
  std::thread driver{[&] {
    std::mt19937_64 rng{seed};
    while (!done) {
      if (ticks_pending < max_ticks_pending) {
        ticks_pending += 8;
        for (int i = 0; i < 8; ++i)
          caf::anon_send(accounts[rng() % accounts.size()], tick_atom::value);
      }
      std::this_thread::sleep_for(std::chrono::microseconds{200});
    }
  }};
  for (size_t i = 0; i < num_snapshots; ++i) {
    auto snap = test::take_and_load(sys);
    ASSERT_GE(snap.actors.size(), num_accounts) << "seed " << seed;
    EXPECT_EQ(money_in(snap, sys, t), total)
      << "seed " << seed << ", snapshot " << snap.id;
    t.children += snap.actors.size() - num_accounts;
  }
  done = true;
  driver.join();
  for (auto& a : accounts)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

} // namespace

TEST(bank_property, money_is_conserved_in_every_snapshot) {
  totals t;
  for (uint64_t seed = 1; seed <= 12; ++seed)
    run_bank(seed, 24, 6, t);
  // Not vacuous: in-flight messages were captured, from every place.
  EXPECT_GT(t.in_flight, 0u);
  using loc = caf::snapshot::message_location;
  EXPECT_GT(t.by_location[loc::queue], 0u);
  EXPECT_GT(t.by_location[loc::urgent] + t.by_location[loc::stash], 0u);
  EXPECT_GT(t.by_location[loc::clock], 0u);
  EXPECT_GT(t.by_location[loc::wire], 0u);
  EXPECT_GT(t.children, 0u);
  std::cout << "in flight: " << t.in_flight << " (queue "
            << t.by_location[loc::queue] << ", urgent "
            << t.by_location[loc::urgent] << ", stash "
            << t.by_location[loc::stash] << ", clock "
            << t.by_location[loc::clock] << ", wire "
            << t.by_location[loc::wire] << "), children " << t.children
            << ", exited " << t.exited << "\n";
}
