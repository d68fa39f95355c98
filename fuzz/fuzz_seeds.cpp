// Writes seed corpora for the fuzzers from real data:
//   DIR/load/    snapshot files of a small system (states, stash, clock);
//   DIR/control/ BASP payloads of every message a coordinator accepts.
//
// Usage: fuzz_seeds DIR

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "caf/all.hpp"
#include "caf/binary_serializer.hpp"

#include "caf/snapshot/all.hpp"
#include "caf/snapshot/detail/protocol.hpp"

namespace {

namespace fs = std::filesystem;
namespace snap = caf::snapshot;
namespace d = caf::snapshot::detail;

struct counter {
  int64_t value = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & value;
  }
};

// (Spawned with an argument: CAF 0.17.6 binds a null reference for
// function-based actors without arguments, which UBSan reports.)
caf::behavior counter_fn(snap::stateful_actor<counter>* self, int64_t init) {
  self->state.value = init;
  return {
    [=](int x) { self->state.value += x; },
    [=](const std::string&) { return caf::skip(); }, // stays stashed
  };
}

void write(const fs::path& path, const std::vector<char>& bytes) {
  std::ofstream out{path, std::ios::binary};
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <class... Ts>
void write_payload(caf::actor_system& sys, const fs::path& path, Ts&&... xs) {
  std::vector<caf::strong_actor_ptr> stages;
  auto msg = caf::make_message(std::forward<Ts>(xs)...);
  std::vector<char> bytes;
  caf::binary_serializer sink{sys, bytes};
  if (auto err = sink(stages, msg)) {
    std::cerr << "cannot serialize " << path << ": " << sys.render(err)
              << '\n';
    return;
  }
  write(path, bytes);
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds DIR\n";
    return 2;
  }
  fs::path out{argv[1]};
  fs::create_directories(out / "load");
  fs::create_directories(out / "control");
  auto snaps = out / "snapshots";
  caf::actor_system_config cfg;
  cfg.load<snap::module>();
  cfg.set("snapshot.directory", snaps.string());
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  // -- load: real snapshot files ----------------------------------------------
  auto a = sys.spawn(counter_fn, int64_t{1});
  auto b = sys.spawn(counter_fn, int64_t{2});
  caf::anon_send(a, 5);
  caf::anon_send(b, std::string{"stashed"});
  caf::scoped_actor self{sys};
  for (int i = 0; i < 2; ++i) {
    self->request(snap::coordinator(sys), std::chrono::seconds{60},
                  snap::take_atom::value)
      .receive(
        [&](snap::snapshot_info& info) {
          fs::copy_file(info.path, out / "load" / fs::path{info.path}.filename(),
                        fs::copy_options::overwrite_existing);
        },
        [&](caf::error& err) {
          std::cerr << "snapshot failed: " << sys.render(err) << '\n';
        });
  }
  // -- control: every message type a coordinator accepts ----------------------
  auto ctl = out / "control";
  snap::actor_record rec;
  rec.id = 7;
  rec.node = caf::to_string(sys.node());
  rec.name = "counter";
  rec.state = {'\x16', '\0', '\0', '\0'};
  rec.state_text = "value=5";
  rec.pending_requests = {42};
  rec.awaited = {{42, 8, rec.node}};
  snap::message_record m;
  m.sender = 7;
  m.sender_node = rec.node;
  m.receiver = 8;
  m.receiver_node = rec.node;
  m.content = {'\x01', '\x02'};
  m.text = "(1)";
  d::cut_report rep;
  rep.snapshot_id = 1;
  rep.record = rec;
  rep.queued = {m};
  d::channel_report chan;
  chan.snapshot_id = 1;
  chan.participant = 7;
  chan.recorded = {m};
  auto node = caf::to_string(sys.node());
  write_payload(sys, ctl / "report", d::report_atom::value, rep);
  write_payload(sys, ctl / "final", d::final_atom::value, chan);
  write_payload(sys, ctl / "relay_cut", d::relay_atom::value, rep);
  write_payload(sys, ctl / "relay_channel", d::relay_atom::value, chan);
  write_payload(sys, ctl / "cut_done", d::cut_done_atom::value, uint64_t{1},
                node, uint64_t{3});
  write_payload(sys, ctl / "node_done", d::node_done_atom::value, uint64_t{1},
                node);
  write_payload(sys, ctl / "notice", d::notice_atom::value, sys.node(),
                uint64_t{0}, uint64_t{2});
  write_payload(sys, ctl / "start", d::start_atom::value, uint64_t{2},
                std::vector<std::string>{node});
  write_payload(sys, ctl / "members", d::members_atom::value,
                std::vector<d::node_info>{});
  write_payload(sys, ctl / "abort", d::abort_atom::value, uint64_t{1},
                caf::error{});
  write_payload(sys, ctl / "join", d::join_atom::value, d::protocol_version,
                caf::actor{}, caf::actor{}, node, uint64_t{0});
  write_payload(sys, ctl / "take", snap::take_atom::value);
  write_payload(sys, ctl / "cancel", snap::cancel_atom::value);
  write_payload(sys, ctl / "cancel_id", snap::cancel_atom::value, uint64_t{1});
  write_payload(sys, ctl / "fetch", d::fetch_atom::value, uint64_t{1},
                uint64_t{0});
  write_payload(sys, ctl / "info", d::info_atom::value);
  write_payload(sys, ctl / "deadline", d::deadline_atom::value, uint64_t{1});
  // Not a control message, but what stopped the coordinator in the first
  // fuzz_control finding: an exit from outside the node (it is ignored).
  write_payload(sys, ctl / "exit",
                caf::exit_msg{caf::actor_addr{}, caf::exit_reason::kill});
  caf::anon_send_exit(a, caf::exit_reason::kill);
  caf::anon_send_exit(b, caf::exit_reason::kill);
  size_t n = 0;
  for (auto& entry : fs::directory_iterator{out / "load"})
    n += entry.is_regular_file() ? 1 : 0;
  std::cout << "seeds: " << n << " snapshot files, "
            << std::distance(fs::directory_iterator{ctl},
                             fs::directory_iterator{})
            << " control messages\n";
  return n > 0 ? 0 : 1;
}
