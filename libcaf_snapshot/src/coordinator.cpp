#include "caf/snapshot/coordinator.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/response_promise.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"

#include "caf/snapshot/detail/exit_guard.hpp"
#include "caf/snapshot/detail/file_system.hpp"
#include "caf/snapshot/detail/protocol.hpp"
#include "caf/snapshot/detail/retention.hpp"
#include "caf/snapshot/detail/snapshot_writer.hpp"
#include "caf/snapshot/detail/tagged_element.hpp"
#include "caf/snapshot/errc.hpp"
#include "caf/snapshot/snapshot_info.hpp"

// One coordinator runs per actor system. Standing alone, or as the root of a
// cluster, it takes snapshots and stores them. As a member of a cluster, it
// runs the root's snapshots on its node and relays its records to the root.
//
// Per snapshot and node, in order:
// 1. markers to the local participants; their reports (relayed to the root);
// 2. once all local participants cut: tell every other node how many epoch
//    announcements to expect from this node (`cut_done_atom`);
// 3. once all local participants cut and every other node's announcements
//    arrived: flush the local participants (all messages sent before any
//    cut are then enqueued here);
// 4. once all local channel reports arrived: a member tells the root
//    (`node_done_atom`); the root stores the file when every node is done.

namespace caf::snapshot::detail {

namespace {

uint64_t now_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
    duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count());
}

// A participant as seen by one pending snapshot.
struct expected_participant {
  caf::strong_actor_ptr handle;
  bool reported = false;
  bool finished = false;
};

// One snapshot on this node, from its start until this node's part is done.
struct pending_snapshot {
  uint64_t id = 0;
  // Set on the node that stores the file (standalone or root).
  caf::response_promise promise;
  std::unique_ptr<snapshot_writer> writer;
  std::unordered_map<caf::actor_id, expected_participant> participants;
  size_t missing_reports = 0;
  size_t missing_finals = 0;
  // Participants of the activation whose markers wait for room in the
  // window (see `marker_window`), and the next one to mark.
  std::vector<caf::strong_actor_ptr> unmarked;
  size_t next_unmarked = 0;
  size_t reports_received = 0;
  // The other nodes taking part (node strings).
  std::set<std::string> peers;
  // Root only: members that did not report `node_done_atom` yet.
  std::set<std::string> busy_members;
  // Root only: nodes lost while the snapshot ran.
  std::vector<std::string> lost;
  bool cut_announced = false;
  bool flushed = false;
  // Members: set until the coordinator handled every message enqueued
  // before the activation (see `settle_atom`); the cut is not complete
  // before that.
  bool settling = false;
  // What triggered a snapshot nobody requested (a signal, a failed actor);
  // its outcome is logged. Empty for requested snapshots.
  std::string trigger;
  std::chrono::steady_clock::time_point started;
  uint64_t requested_at_ms = 0;

  bool stores_file() const noexcept {
    return writer != nullptr;
  }
};

struct coordinator_state {
  module* mod = nullptr;
  std::string my_node;
  caf::actor sink;
  std::map<uint64_t, pending_snapshot> pending;
  // Set on members of a cluster.
  caf::actor root;
  // All other nodes of the cluster, by node string.
  std::map<std::string, node_info> nodes;
  // Announcements received per (node, snapshot), and the numbers promised.
  std::map<std::pair<std::string, uint64_t>, size_t> notices;
  std::map<std::pair<std::string, uint64_t>, size_t> promised;
  // Members: the highest snapshot the root started here, and reports of
  // participants that cut for a later one (a message from a node that cut
  // already can reach them before the root's start message reaches us).
  uint64_t highest_started = 0;
  std::map<uint64_t, std::vector<cut_report>> early_reports;
  std::map<uint64_t, std::vector<channel_report>> early_finals;
  // Members: take requests forwarded to the root, answered with node_lost
  // if the root disappears first.
  std::map<uint64_t, caf::response_promise> forwarded;
  uint64_t forward_seq = 0;
  // Files stored by this coordinator (the latest `max_remembered_files`),
  // readable with `fetch_atom`.
  std::map<uint64_t, std::string> stored;
  static inline const char* name = "caf.snapshot.coordinator";
};

using coordinator_actor = caf::stateful_actor<coordinator_state>;

// -- small helpers ------------------------------------------------------------

// Enqueued without an execution unit: CAF 0.17.6 then spreads the woken
// participants over all workers. With the coordinator's unit, all N land on
// one worker's queue, and work stealing takes its tail in O(queue length)
// per steal: O(N^2) for a snapshot of N idle participants (measured:
// 100,000 participants took 44.8 s instead of about 1 s).
void send_control(const caf::strong_actor_ptr& to, control_kind kind,
                  uint64_t id, caf::message_priority prio) {
  if (to)
    to->enqueue(make_control(kind, id, prio), nullptr);
}

// Ends channel recording for `id` at `to`. Each priority is a FIFO of its
// own; the normal-priority flush suffices when the receiver's urgent queue
// is empty once it arrives, otherwise the receiver sends itself an urgent
// flush (participant_core::on_control).
void send_flush(const caf::strong_actor_ptr& to, uint64_t id) {
  send_control(to, control_kind::flush, id, caf::message_priority::normal);
}

bool is_member(coordinator_actor* self) {
  return static_cast<bool>(self->state.root);
}

// How many stored files `fetch_atom` can read (the most recent ones).
constexpr size_t max_remembered_files = 1024;

// Logs a dropped control message: never fatal, never silent.
void drop(coordinator_actor* self, const std::string& what) {
  auto& src = self->current_sender();
  std::cerr << "[caf.snapshot] coordinator dropped " << what << " from "
            << (src ? caf::to_string(src->node()) + "#"
                        + std::to_string(src->id())
                    : std::string{"an anonymous sender"})
            << '\n';
}

// Whether the current message comes from an actor of this node (local
// participants and the registry send with a sender; remote anonymous
// messages arrive without one).
bool from_this_node(coordinator_actor* self) {
  auto& src = self->current_sender();
  return src && src->node() == self->node();
}

// The node string of the peer coordinator that sent the current message,
// or an empty string if it is not a coordinator of this cluster.
std::string sending_peer(coordinator_actor* self) {
  auto& src = self->current_sender();
  if (!src)
    return {};
  for (auto& kvp : self->state.nodes)
    if (caf::actor_cast<caf::strong_actor_ptr>(kvp.second.coordinator) == src)
      return kvp.first;
  return {};
}

// Whether `id` may name a snapshot this node runs or is about to run.
bool plausible_snapshot(coordinator_actor* self, uint64_t id) {
  auto latest = self->state.mod->participants().latest();
  return self->state.pending.count(id) != 0
         || (id > latest && id - latest <= max_snapshots_ahead);
}

void publish_peers(coordinator_actor* self) {
  std::vector<caf::actor> sinks;
  for (auto& kvp : self->state.nodes)
    sinks.emplace_back(kvp.second.sink);
  auto& reg = self->state.mod->participants();
  reg.cluster().set_peer_sinks(std::move(sinks));
}

std::string describe_missing(coordinator_actor* self,
                             const pending_snapshot& snap) {
  std::string waiting_for_cut;
  std::string waiting_for_channels;
  size_t cuts = 0;
  size_t channels = 0;
  auto append = [](std::string& str, size_t& n, caf::actor_id id) {
    if (n++ < 8)
      str += (str.empty() ? "" : ", ") + std::to_string(id);
  };
  for (auto& kvp : snap.participants) {
    if (!kvp.second.reported)
      append(waiting_for_cut, cuts, kvp.first);
    else if (!kvp.second.finished)
      append(waiting_for_channels, channels, kvp.first);
  }
  std::string result = "snapshot " + std::to_string(snap.id);
  auto sep = [&] { return result.back() == ')' || cuts + channels > 0
                            ? ";"
                            : ""; };
  if (cuts > 0) {
    result += " waited for the cut of " + std::to_string(cuts)
              + " actor(s): " + waiting_for_cut;
    if (cuts > 8)
      result += ", ...";
  }
  if (channels > 0) {
    result += (cuts > 0 ? ";" : "") + std::string{" waited for the channels of "}
              + std::to_string(channels) + " actor(s): " + waiting_for_channels;
    if (channels > 8)
      result += ", ...";
  }
  std::string nodes;
  for (auto& peer : snap.peers) {
    auto key = std::make_pair(peer, snap.id);
    auto p = self->state.promised.find(key);
    auto n = self->state.notices.find(key);
    size_t got = n != self->state.notices.end() ? n->second : 0;
    if (p == self->state.promised.end())
      nodes += (nodes.empty() ? "" : ", ") + peer + " (cut not done)";
    else if (got < p->second)
      nodes += (nodes.empty() ? "" : ", ") + peer + " (" + std::to_string(got)
               + " of " + std::to_string(p->second) + " announcements)";
  }
  for (auto& member : snap.busy_members)
    if (nodes.find(member) == std::string::npos)
      nodes += (nodes.empty() ? "" : ", ") + member + " (channels)";
  if (!nodes.empty())
    result += sep() + std::string{" waited for node(s): "} + nodes;
  return result;
}

// -- life cycle of a snapshot -------------------------------------------------

void close(coordinator_actor* self, uint64_t id) {
  auto& st = self->state;
  st.mod->participants().close(id);
  st.pending.erase(id);
  // Forget the counts of this snapshot and of older ones that are not
  // running here (overlapping snapshots may complete out of order).
  auto obsolete = [&](uint64_t x) {
    return x == id || (x < id && st.pending.count(x) == 0);
  };
  for (auto i = st.notices.begin(); i != st.notices.end();)
    i = obsolete(i->first.second) ? st.notices.erase(i) : std::next(i);
  for (auto i = st.promised.begin(); i != st.promised.end();)
    i = obsolete(i->first.second) ? st.promised.erase(i) : std::next(i);
}

void fail(coordinator_actor* self, pending_snapshot& snap, caf::error err) {
  if (snap.writer)
    snap.writer->abort();
  if (!snap.trigger.empty())
    std::cerr << "[caf.snapshot] " << snap.trigger << ": snapshot " << snap.id
              << " failed: " << render(err) << '\n';
  if (snap.promise.pending())
    snap.promise.deliver(err);
  // Participants that already cut stop recording; the others get a flush
  // when their late report arrives.
  for (auto& kvp : snap.participants)
    if (kvp.second.reported && !kvp.second.finished)
      send_flush(kvp.second.handle, snap.id);
  if (is_member(self)) {
    self->send(self->state.root, abort_atom::value, snap.id, std::move(err));
  } else {
    for (auto& kvp : self->state.nodes)
      if (snap.peers.count(kvp.first) != 0)
        self->send(kvp.second.coordinator, abort_atom::value, snap.id,
                   caf::error{});
  }
  close(self, snap.id);
}

bool channels_closed_everywhere(coordinator_actor* self,
                                const pending_snapshot& snap) {
  auto& st = self->state;
  for (auto& peer : snap.peers) {
    auto key = std::make_pair(peer, snap.id);
    auto p = st.promised.find(key);
    if (p == st.promised.end())
      return false;
    auto n = st.notices.find(key);
    if ((n != st.notices.end() ? n->second : 0) < p->second)
      return false;
  }
  return true;
}

void store(coordinator_actor* self, pending_snapshot& snap) {
  std::string reason;
  for (auto& node : snap.lost)
    reason += (reason.empty() ? "lost node(s): " : ", ") + node;
  std::string path;
  auto size = snap.writer->commit(reason.empty(), reason, now_ms(), path);
  if (!size) {
    fail(self, snap, std::move(size.error()));
    return;
  }
  snapshot_info info;
  info.id = snap.id;
  info.path = std::move(path);
  info.actors = snap.writer->actors_written();
  info.in_flight = snap.writer->messages_written();
  info.bytes = *size;
  info.duration_ms = static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - snap.started)
      .count());
  if (!snap.trigger.empty())
    std::cerr << "[caf.snapshot] " << snap.trigger << ": snapshot " << snap.id
              << " stored at " << info.path << " (" << info.actors
              << " actors, " << info.in_flight << " messages in flight)\n";
  auto& stored = self->state.stored;
  stored[snap.id] = info.path;
  if (stored.size() > max_remembered_files)
    stored.erase(stored.begin());
  if (auto keep = self->state.mod->settings().keep; keep > 0) {
    // Retention never fails a stored snapshot: it says what it could not do.
    auto removed = prune_snapshots(self->state.mod->file_system(),
                                   self->state.mod->settings().directory,
                                   keep, info.path);
    if (!removed)
      std::cerr << "[caf.snapshot] snapshot.keep: " << render(removed.error())
                << '\n';
  }
  snap.promise.deliver(std::move(info));
  close(self, snap.id);
}

void try_complete(coordinator_actor* self, pending_snapshot& snap) {
  if (snap.missing_reports > 0 || snap.settling)
    return;
  if (!snap.cut_announced) {
    snap.cut_announced = true;
    for (auto& kvp : self->state.nodes)
      if (snap.peers.count(kvp.first) != 0)
        self->send(kvp.second.coordinator, cut_done_atom::value, snap.id,
                   self->state.my_node,
                   static_cast<uint64_t>(snap.participants.size()));
  }
  if (!channels_closed_everywhere(self, snap))
    return;
  if (!snap.flushed) {
    // Every participant has cut, so every message sent before a cut has
    // been enqueued (local sends are synchronous; remote ones precede their
    // sender's announcement) or sits in the clock (recorded by its sender):
    // a flush behind it closes the channel.
    snap.flushed = true;
    for (auto& kvp : snap.participants)
      if (!kvp.second.finished)
        send_flush(kvp.second.handle, snap.id);
  }
  if (snap.missing_finals > 0)
    return;
  if (!snap.stores_file()) {
    self->send(self->state.root, node_done_atom::value, snap.id,
               self->state.my_node);
    close(self, snap.id);
    return;
  }
  if (!snap.busy_members.empty())
    return;
  store(self, snap);
}

// At most this many markers of a snapshot wait for their reports. Reports
// reach the coordinator faster than it appends them to the file; with all
// markers sent at once, a snapshot of 1M participants held 1.46 bytes of
// reports per file byte in the coordinator's mailbox (bench/memory). A
// participant that cuts without its marker (on a message of the new
// colour) reports all the same and makes room.
constexpr size_t marker_window = 8192;

// Waits for `who` in `snap` (once per participant) and sends its marker,
// or queues it behind the window if `paced`.
void expect(pending_snapshot& snap, caf::strong_actor_ptr who,
            bool paced = false) {
  auto id = who->id();
  auto i = snap.participants.emplace(id, expected_participant{});
  if (!i.second)
    return;
  i.first->second.handle = who;
  ++snap.missing_reports;
  ++snap.missing_finals;
  if (paced)
    snap.unmarked.emplace_back(std::move(who));
  else
    send_control(who, control_kind::marker, snap.id,
                 caf::message_priority::high);
}

// Sends queued markers in bursts: once at most half of `marker_window`
// awaits reports, up to a full window. Bursts keep the workers busy; one
// marker per report woke them one at a time (measured at 1M participants:
// about 10 % slower than bursts).
void send_paced_markers(pending_snapshot& snap) {
  auto& xs = snap.unmarked;
  auto awaiting = [&] {
    return snap.next_unmarked > snap.reports_received
             ? snap.next_unmarked - snap.reports_received
             : size_t{0};
  };
  if (awaiting() > marker_window / 2)
    return;
  while (snap.next_unmarked < xs.size() && awaiting() < marker_window) {
    auto& who = xs[snap.next_unmarked++];
    send_control(who, control_kind::marker, snap.id,
                 caf::message_priority::high);
    who = nullptr;
  }
  if (snap.next_unmarked == xs.size() && !xs.empty()) {
    xs.clear();
    xs.shrink_to_fit();
    snap.next_unmarked = 0;
  }
}

// Checks `snapshot.max-participants` before any marker goes out.
caf::error check_participant_limit(coordinator_actor* self, uint64_t id,
                                   size_t count) {
  auto limit = self->state.mod->settings().max_participants;
  if (limit == 0 || count <= limit)
    return caf::none;
  return make_error(errc::limit_exceeded,
                    "snapshot " + std::to_string(id) + " on "
                      + self->state.my_node + ": " + std::to_string(count)
                      + " participants exceed snapshot.max-participants = "
                      + std::to_string(limit));
}

void mark_participants(pending_snapshot& snap,
                       std::vector<caf::actor_addr>& participants) {
  snap.participants.reserve(participants.size());
  snap.unmarked.reserve(participants.size());
  for (auto& addr : participants)
    if (auto hdl = caf::actor_cast<caf::strong_actor_ptr>(addr))
      expect(snap, std::move(hdl), true);
  send_paced_markers(snap);
}

// Standalone or root: a new snapshot that this node stores. `act` is
// usually activated right here; a failing participant activates its
// post-mortem itself.
void start(coordinator_actor* self, caf::response_promise rp,
           registry::activation act, std::string trigger = {}) {
  auto& st = self->state;
  auto& mod = *st.mod;
  auto& snap = st.pending[act.id];
  snap.id = act.id;
  snap.promise = std::move(rp);
  snap.trigger = std::move(trigger);
  if (auto err = check_participant_limit(self, act.id,
                                         act.participants.size())) {
    fail(self, snap, std::move(err));
    return;
  }
  snap.started = std::chrono::steady_clock::now();
  snap.requested_at_ms = now_ms();
  auto writer = snapshot_writer::open(mod.file_system(),
                                      mod.settings().directory, act.id,
                                      st.my_node, snap.requested_at_ms);
  if (!writer) {
    fail(self, snap, std::move(writer.error()));
    return;
  }
  snap.writer = std::move(*writer);
  std::vector<std::string> taking_part{st.my_node};
  for (auto& kvp : st.nodes) {
    snap.peers.insert(kvp.first);
    snap.busy_members.insert(kvp.first);
    taking_part.emplace_back(kvp.first);
  }
  for (auto& kvp : st.nodes)
    self->send(kvp.second.coordinator, start_atom::value, act.id,
               taking_part);
  mark_participants(snap, act.participants);
  self->delayed_send(self, mod.settings().timeout, deadline_atom::value,
                     act.id);
  try_complete(self, snap);
}

void handle_report(coordinator_actor* self, cut_report& rep);

void handle_final(coordinator_actor* self, channel_report& rep);

caf::error take_report(coordinator_actor* self, pending_snapshot& snap,
                       cut_report& rep);

caf::error take_channels(coordinator_actor* self, pending_snapshot& snap,
                         channel_report& rep);

void handle_final(coordinator_actor* self, channel_report& rep) {
  auto& st = self->state;
  auto i = st.pending.find(rep.snapshot_id);
  if (i == st.pending.end()) {
    // A participant that cut early and exited before the root's start
    // message arrived: keep its channels for the start.
    if (is_member(self) && rep.snapshot_id > st.highest_started)
      st.early_finals[rep.snapshot_id].emplace_back(std::move(rep));
    return;
  }
  auto& snap = i->second;
  auto j = snap.participants.find(rep.participant);
  if (j == snap.participants.end() || j->second.finished)
    return;
  j->second.finished = true;
  --snap.missing_finals;
  if (auto err = take_channels(self, snap, rep)) {
    fail(self, snap, std::move(err));
    return;
  }
  try_complete(self, snap);
}

// Handles the channel reports that participants left in the registry.
void drain_finals(coordinator_actor* self) {
  self->state.mod->participants().finals().drain(
    [self](channel_report& rep) { handle_final(self, rep); });
}

// Member: run the root's snapshot `id` on this node.
void start_member(coordinator_actor* self, uint64_t id,
                  const std::vector<std::string>& taking_part) {
  auto& st = self->state;
  st.highest_started = std::max(st.highest_started, id);
  auto act = st.mod->participants().activate(id);
  auto& snap = st.pending[id];
  snap.id = id;
  snap.started = std::chrono::steady_clock::now();
  for (auto& node : taking_part)
    if (node != st.my_node && st.nodes.count(node) != 0)
      snap.peers.insert(node);
  if (auto err = check_participant_limit(self, id, act.participants.size())) {
    fail(self, snap, std::move(err));
    return;
  }
  mark_participants(snap, act.participants);
  auto early = st.early_reports.find(id);
  if (early != st.early_reports.end()) {
    auto reports = std::move(early->second);
    st.early_reports.erase(early);
    // Expect every early reporter before handling any report: some may
    // have exited since and are no longer in the registry.
    for (auto& rep : reports)
      if (rep.self)
        expect(snap, rep.self);
    for (auto& rep : reports)
      handle_report(self, rep);
  }
  auto early_final = st.early_finals.find(id);
  if (early_final != st.early_finals.end()) {
    auto finals = std::move(early_final->second);
    st.early_finals.erase(early_final);
    for (auto& rep : finals)
      handle_final(self, rep);
  }
  // A participant that cut early for `id` and exited before the activation
  // is not in `act`, and its report may still wait in our mailbox (sent
  // before it left the registry, hence before the activation): it must be
  // counted before the cut is complete. A message to ourselves queues up
  // behind it.
  auto i = st.pending.find(id);
  if (i != st.pending.end()) {
    i->second.settling = true;
    self->send(self, settle_atom::value, id);
  }
}

void handle_report(coordinator_actor* self, cut_report& rep) {
  auto& st = self->state;
  auto i = st.pending.find(rep.snapshot_id);
  if (i == st.pending.end() && is_member(self)
      && rep.snapshot_id > st.highest_started) {
    // The root's start message is still on its way.
    st.early_reports[rep.snapshot_id].emplace_back(std::move(rep));
    return;
  }
  if (i == st.pending.end() || i->second.cut_announced) {
    // Stale: the snapshot failed, timed out, or moved on without this
    // actor. Stop its channel recording.
    send_flush(rep.self, rep.snapshot_id);
    return;
  }
  auto& snap = i->second;
  if (!rep.self)
    return;
  auto j = snap.participants.find(rep.self->id());
  if (j == snap.participants.end()) {
    expect(snap, rep.self);
    j = snap.participants.find(rep.self->id());
  }
  if (j->second.reported)
    return;
  j->second.reported = true;
  --snap.missing_reports;
  ++snap.reports_received;
  send_paced_markers(snap);
  if (rep.failure) {
    fail(self, snap, std::move(rep.failure));
    return;
  }
  if (auto err = take_report(self, snap, rep)) {
    fail(self, snap, std::move(err));
    return;
  }
  try_complete(self, snap);
}

// A node of the cluster is gone: nobody waits for it any longer.
void lose_node(coordinator_actor* self, const std::string& node) {
  auto& st = self->state;
  auto i = st.nodes.find(node);
  if (i == st.nodes.end())
    return;
  auto node_id = i->second.coordinator.node();
  st.nodes.erase(i);
  publish_peers(self);
  st.mod->participants().cluster().forget(node_id);
  std::vector<uint64_t> ids;
  for (auto& kvp : st.pending)
    ids.emplace_back(kvp.first);
  for (auto id : ids) {
    auto j = st.pending.find(id);
    if (j == st.pending.end())
      continue;
    auto& snap = j->second;
    if (snap.peers.erase(node) == 0)
      continue;
    if (snap.stores_file()) {
      snap.busy_members.erase(node);
      snap.lost.emplace_back(node);
    }
    try_complete(self, snap);
  }
  if (!is_member(self)) {
    std::vector<node_info> all;
    all.push_back(node_info{caf::actor_cast<caf::actor>(self), st.sink,
                            st.my_node});
    for (auto& kvp : st.nodes)
      all.emplace_back(kvp.second);
    for (auto& kvp : st.nodes)
      self->send(kvp.second.coordinator, members_atom::value, all);
  }
}

void fail_all(coordinator_actor* self, const caf::error& err) {
  std::vector<uint64_t> ids;
  for (auto& kvp : self->state.pending)
    ids.emplace_back(kvp.first);
  for (auto id : ids) {
    auto i = self->state.pending.find(id);
    if (i != self->state.pending.end())
      fail(self, i->second, err);
  }
}

// -- records ------------------------------------------------------------------

// Checks `snapshot.max-bytes` after an append.
caf::error check_file_limit(coordinator_actor* self,
                            const pending_snapshot& snap) {
  auto limit = self->state.mod->settings().max_bytes;
  if (limit == 0 || snap.writer->bytes_written() <= limit)
    return caf::none;
  return make_error(errc::limit_exceeded,
                    "snapshot " + std::to_string(snap.id) + ": the file grew "
                      "beyond snapshot.max-bytes = "
                      + std::to_string(limit));
}

// Checks `snapshot.max-wire-bytes` before relaying records to the root,
// which would drop larger ones.
caf::error check_wire_limit(coordinator_actor* self, uint64_t id,
                            caf::actor_id who, size_t size) {
  auto limit = self->state.mod->settings().max_wire_bytes;
  if (limit == 0 || size <= limit)
    return caf::none;
  return make_error(errc::limit_exceeded,
                    "snapshot " + std::to_string(id) + ": a record of actor "
                      + std::to_string(who) + " holds "
                      + std::to_string(size)
                      + " bytes, above snapshot.max-wire-bytes = "
                      + std::to_string(limit));
}

// Appends a cut report to the file (or relays it to the root).
caf::error take_report(coordinator_actor* self, pending_snapshot& snap,
                       cut_report& rep) {
  if (!snap.stores_file()) {
    if (auto err = check_wire_limit(self, snap.id, rep.record.id,
                                    rep.record.state.size()))
      return err;
    for (auto& m : rep.queued)
      if (auto err = check_wire_limit(self, snap.id, m.receiver,
                                      m.content.size()))
        return err;
    rep.self = nullptr; // Not needed by the root; avoids a proxy there.
    self->send(self->state.root, relay_atom::value, std::move(rep));
    return caf::none;
  }
  auto err = snap.writer->append(rep.record);
  for (size_t k = 0; !err && k < rep.queued.size(); ++k)
    err = snap.writer->append(rep.queued[k]);
  if (!err)
    err = check_file_limit(self, snap);
  return err;
}

caf::error take_channels(coordinator_actor* self, pending_snapshot& snap,
                         channel_report& rep) {
  if (!snap.stores_file()) {
    for (auto& m : rep.recorded)
      if (auto err = check_wire_limit(self, snap.id, m.receiver,
                                      m.content.size()))
        return err;
    self->send(self->state.root, relay_atom::value, std::move(rep));
    return caf::none;
  }
  caf::error err;
  for (size_t k = 0; !err && k < rep.recorded.size(); ++k)
    err = snap.writer->append(rep.recorded[k]);
  if (!err)
    err = check_file_limit(self, snap);
  return err;
}

// -- behavior -----------------------------------------------------------------

caf::behavior coordinator_fn(coordinator_actor* self, module* mod,
                             caf::actor sink) {
  auto& st = self->state;
  st.mod = mod;
  st.my_node = caf::to_string(self->node());
  st.sink = std::move(sink);
  // CAF's default handler prints unexpected messages, and printing some
  // hostile values crashes CAF 0.17.6 (found by fuzz_control: a duration
  // with an invalid unit). Log who sent what kind of message, never its
  // content; requests still get CAF's unexpected_message error.
  self->set_default_handler(
    [](caf::scheduled_actor* ptr, caf::message_view& x) -> caf::result<caf::message> {
      auto types = x.content().size();
      auto& src = ptr->current_sender();
      std::cerr << "[caf.snapshot] coordinator dropped an unexpected message "
                   "with "
                << types << " element(s) from "
                << (src ? caf::to_string(src->node()) + "#"
                            + std::to_string(src->id())
                        : std::string{"an anonymous sender"})
                << '\n';
      return caf::sec::unexpected_message;
    });
  self->set_exit_handler([=](caf::exit_msg& msg) {
    fail_all(self, make_error(errc::shutting_down,
                              "the actor system shuts down"));
    self->quit(std::move(msg.reason));
  });
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    if (st.root && msg.source == st.root.address()) {
      // Without its root the cluster is gone for this node: answer what
      // waits for the root and go on alone.
      auto err = make_error(errc::node_lost,
                            "the cluster's root "
                              + caf::to_string(msg.source.node())
                              + " is gone");
      st.root = nullptr;
      st.mod->participants().set_member(false);
      for (auto& kvp : st.forwarded)
        kvp.second.deliver(err);
      st.forwarded.clear();
      fail_all(self, err);
      st.nodes.clear();
      publish_peers(self);
      return;
    }
    std::string lost;
    for (auto& kvp : st.nodes)
      if (kvp.second.coordinator.address() == msg.source)
        lost = kvp.first;
    if (!lost.empty())
      lose_node(self, lost);
  });
  return {
    // -- requests from users --------------------------------------------------
    [=](take_atom) {
      if (is_member(self)) {
        // The root numbers and stores the cluster's snapshots.
        auto& st = self->state;
        auto key = ++st.forward_seq;
        st.forwarded.emplace(key, self->make_response_promise());
        auto answer = [=](auto&& x) {
          auto& fwd = self->state.forwarded;
          auto i = fwd.find(key);
          if (i != fwd.end()) {
            i->second.deliver(std::move(x));
            fwd.erase(i);
          }
        };
        self->request(st.root, caf::infinite, take_atom::value)
          .then([=](snapshot_info& info) { answer(std::move(info)); },
                [=](caf::error& err) { answer(std::move(err)); });
        return;
      }
      start(self, self->make_response_promise(),
            self->state.mod->participants().activate());
    },
    [=](trigger_atom, std::string& what) {
      if (!from_this_node(self)) {
        drop(self, "a snapshot trigger from another node");
        return;
      }
      auto& st = self->state;
      if (is_member(self)) {
        std::cerr << "[caf.snapshot] " << what
                  << ": asking the cluster's root for a snapshot\n";
        self->request(st.root, caf::infinite, take_atom::value)
          .then(
            [=](snapshot_info& info) {
              std::cerr << "[caf.snapshot] " << what << ": snapshot "
                        << info.id << " stored by the root at " << info.path
                        << '\n';
            },
            [=](caf::error& err) {
              std::cerr << "[caf.snapshot] " << what
                        << ": the root's snapshot failed: " << render(err)
                        << '\n';
            });
        return;
      }
      start(self, caf::response_promise{},
            st.mod->participants().activate(), std::move(what));
    },
    [=](post_mortem_atom, uint64_t id,
        std::vector<caf::actor_addr>& participants, std::string& what) {
      if (!from_this_node(self)) {
        drop(self, "a post-mortem from another node");
        return;
      }
      start(self, caf::response_promise{},
            registry::activation{id, std::move(participants)},
            std::move(what));
    },
    [=](cancel_atom) -> caf::result<uint64_t> {
      if (is_member(self))
        return make_error(errc::invalid_argument,
                          "this node is a cluster member: cancel at the root");
      std::vector<uint64_t> ids;
      for (auto& kvp : self->state.pending)
        ids.push_back(kvp.first);
      for (auto id : ids) {
        auto i = self->state.pending.find(id);
        if (i != self->state.pending.end())
          fail(self, i->second,
               make_error(errc::cancelled,
                          "snapshot " + std::to_string(id) + " cancelled"));
      }
      return static_cast<uint64_t>(ids.size());
    },
    [=](cancel_atom, uint64_t id) -> caf::result<caf::unit_t> {
      if (is_member(self))
        return make_error(errc::invalid_argument,
                          "this node is a cluster member: cancel at the root");
      auto i = self->state.pending.find(id);
      if (i == self->state.pending.end())
        return make_error(errc::invalid_argument,
                          "snapshot " + std::to_string(id) + " is not pending");
      fail(self, i->second,
           make_error(errc::cancelled,
                      "snapshot " + std::to_string(id) + " cancelled"));
      return caf::unit;
    },
    // -- cluster membership ---------------------------------------------------
    [=](join_atom, caf::actor root) {
      // A local `caf::snapshot::join`: ask `root` to take us in.
      auto& st = self->state;
      auto rp = self->make_response_promise();
      if (!root) {
        rp.deliver(make_error(errc::invalid_argument, "no root coordinator"));
        return;
      }
      if (!st.nodes.empty() || is_member(self)) {
        rp.deliver(make_error(errc::invalid_argument,
                              "this node is already part of a cluster"));
        return;
      }
      self
        ->request(root, st.mod->settings().timeout, join_atom::value,
                  protocol_version, caf::actor_cast<caf::actor>(self),
                  st.sink, st.my_node, st.mod->participants().latest())
        .then(
          [=](std::vector<node_info>& all, uint64_t latest) mutable {
            auto& st = self->state;
            st.root = root;
            self->monitor(root);
            st.mod->participants().raise_latest(latest);
            st.mod->participants().set_clustered();
            st.mod->participants().set_member(true);
            for (auto& x : all)
              if (x.node != st.my_node && x.coordinator && x.sink)
                st.nodes[x.node] = x;
            for (auto& kvp : st.nodes)
              if (kvp.second.coordinator != root)
                self->monitor(kvp.second.coordinator);
            publish_peers(self);
            rp.deliver(caf::unit);
          },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
    },
    [=](join_atom, uint32_t version, caf::actor coord, caf::actor sink,
        std::string& node, uint64_t latest) {
      // A member asks to join this (root) node.
      auto& st = self->state;
      auto rp = self->make_response_promise();
      if (version != protocol_version) {
        rp.deliver(make_error(errc::incompatible_version,
                              "node " + node + " speaks snapshot protocol "
                                + std::to_string(version) + ", this node "
                                + std::to_string(protocol_version)));
        return;
      }
      if (is_member(self)) {
        rp.deliver(make_error(errc::invalid_argument,
                              "this node is a member, not the root, of "
                              "its cluster"));
        return;
      }
      if (!coord || !sink || node.empty() || node == st.my_node) {
        rp.deliver(make_error(errc::invalid_argument,
                              "malformed join request"));
        return;
      }
      auto& reg = st.mod->participants();
      reg.raise_latest(latest);
      reg.set_clustered();
      st.nodes[node] = node_info{coord, sink, node};
      self->monitor(coord);
      publish_peers(self);
      std::vector<node_info> all;
      all.push_back(node_info{caf::actor_cast<caf::actor>(self), st.sink,
                              st.my_node});
      for (auto& kvp : st.nodes)
        all.emplace_back(kvp.second);
      for (auto& kvp : st.nodes)
        if (kvp.first != node)
          self->send(kvp.second.coordinator, members_atom::value, all);
      rp.deliver(std::move(all), reg.latest());
    },
    [=](members_atom, std::vector<node_info>& all) {
      auto& st = self->state;
      if (!is_member(self)
          || caf::actor_cast<caf::actor>(self->current_sender()) != st.root)
        return;
      std::map<std::string, node_info> nodes;
      for (auto& x : all)
        if (x.node != st.my_node && x.coordinator && x.sink)
          nodes[x.node] = x;
      for (auto& kvp : nodes)
        if (st.nodes.count(kvp.first) == 0)
          self->monitor(kvp.second.coordinator);
      std::vector<std::string> gone;
      for (auto& kvp : st.nodes)
        if (nodes.count(kvp.first) == 0)
          gone.emplace_back(kvp.first);
      for (auto& kvp : nodes)
        st.nodes[kvp.first] = kvp.second;
      publish_peers(self);
      for (auto& node : gone)
        lose_node(self, node);
    },
    // -- snapshots across nodes -----------------------------------------------
    [=](start_atom, uint64_t id, std::vector<std::string>& taking_part) {
      auto& st = self->state;
      if (!is_member(self)
          || caf::actor_cast<caf::actor>(self->current_sender()) != st.root
          || st.pending.count(id) != 0)
        return;
      start_member(self, id, taking_part);
    },
    [=](cut_done_atom, uint64_t id, std::string& node, uint64_t count) {
      auto& st = self->state;
      if (sending_peer(self) != node || node.empty()) {
        drop(self, "a cut count not sent by the coordinator of " + node);
        return;
      }
      if (!plausible_snapshot(self, id))
        return; // Closed here already (or bogus).
      st.promised[std::make_pair(node, id)] = count;
      auto i = st.pending.find(id);
      if (i != st.pending.end())
        try_complete(self, i->second);
    },
    [=](notice_atom, caf::node_id& node, uint64_t prev, uint64_t next) {
      // From the local sink: a remote participant cut for (prev, next].
      auto& st = self->state;
      if (caf::actor_cast<caf::strong_actor_ptr>(st.sink)
          != self->current_sender()) {
        drop(self, "an announcement not forwarded by the notice sink");
        return;
      }
      if (prev >= next)
        return;
      auto name = caf::to_string(node);
      // Count the snapshots running here, then those not started here yet
      // (bounded: a range never costs more than the snapshots it can name).
      std::vector<uint64_t> running;
      for (auto i = st.pending.upper_bound(prev);
           i != st.pending.end() && i->first <= next; ++i)
        running.push_back(i->first);
      for (auto id : running)
        ++st.notices[std::make_pair(name, id)];
      auto latest = st.mod->participants().latest();
      auto first = std::max(prev, latest) + 1;
      auto last = std::min(next, latest + max_snapshots_ahead);
      for (auto id = first; id <= last && id > latest; ++id)
        if (st.pending.count(id) == 0)
          ++st.notices[std::make_pair(name, id)];
      for (auto id : running) {
        auto i = st.pending.find(id);
        if (i != st.pending.end())
          try_complete(self, i->second);
      }
    },
    [=](relay_atom, cut_report& rep) {
      auto i = self->state.pending.find(rep.snapshot_id);
      if (i == self->state.pending.end() || !i->second.stores_file())
        return;
      if (i->second.peers.count(sending_peer(self)) == 0) {
        drop(self, "a relayed cut report from outside the snapshot");
        return;
      }
      if (auto err = take_report(self, i->second, rep))
        fail(self, i->second, std::move(err));
    },
    [=](relay_atom, channel_report& rep) {
      auto i = self->state.pending.find(rep.snapshot_id);
      if (i == self->state.pending.end() || !i->second.stores_file())
        return;
      if (i->second.peers.count(sending_peer(self)) == 0) {
        drop(self, "a relayed channel report from outside the snapshot");
        return;
      }
      if (auto err = take_channels(self, i->second, rep))
        fail(self, i->second, std::move(err));
    },
    [=](node_done_atom, uint64_t id, std::string& node) {
      if (sending_peer(self) != node || node.empty()) {
        drop(self, "a node-done message not sent by the coordinator of "
                     + node);
        return;
      }
      auto i = self->state.pending.find(id);
      if (i == self->state.pending.end() || !i->second.stores_file())
        return;
      i->second.busy_members.erase(node);
      try_complete(self, i->second);
    },
    [=](abort_atom, uint64_t id, caf::error& err) {
      auto& st = self->state;
      auto from_root = is_member(self)
                       && caf::actor_cast<caf::strong_actor_ptr>(st.root)
                            == self->current_sender();
      if (!from_root && (is_member(self) || sending_peer(self).empty())) {
        drop(self, "an abort not sent by a coordinator of this cluster");
        return;
      }
      auto i = self->state.pending.find(id);
      if (i == self->state.pending.end())
        return;
      if (!err)
        err = make_error(errc::node_lost, "snapshot "
                                            + std::to_string(id)
                                            + " aborted by the root");
      fail(self, i->second, std::move(err));
    },
    // -- local participants ---------------------------------------------------
    [=](joined_atom, caf::strong_actor_ptr who, uint64_t epoch) {
      if (!from_this_node(self) || !who || who->node() != self->node()) {
        drop(self, "a join notice of a non-local actor");
        return;
      }
      for (auto& kvp : self->state.pending)
        if (kvp.first > epoch && !kvp.second.cut_announced)
          expect(kvp.second, who);
    },
    [=](report_atom, cut_report& rep) {
      if (!from_this_node(self) || !rep.self
          || rep.self->node() != self->node()) {
        drop(self, "a cut report of a non-local actor");
        return;
      }
      handle_report(self, rep);
    },
    [=](final_atom, channel_report& rep) {
      if (!from_this_node(self)) {
        drop(self, "a channel report from another node");
        return;
      }
      handle_final(self, rep);
    },
    [=](settle_atom, uint64_t id) {
      if (self->current_sender().get() != self->ctrl()) {
        drop(self, "a settle message from another actor");
        return;
      }
      auto i = self->state.pending.find(id);
      if (i == self->state.pending.end())
        return;
      i->second.settling = false;
      try_complete(self, i->second);
    },
    [=](drain_atom) {
      if (!from_this_node(self)) {
        drop(self, "a drain request from another node");
        return;
      }
      drain_finals(self);
    },
    [=](fetch_atom, uint64_t id,
        uint64_t offset) -> caf::result<std::vector<char>, uint64_t> {
      auto i = self->state.stored.find(id);
      if (i == self->state.stored.end())
        return make_error(errc::invalid_argument,
                          "no stored snapshot " + std::to_string(id)
                            + " at this coordinator");
      std::vector<char> chunk;
      uint64_t size = 0;
      if (auto err = read_chunk(i->second, offset, fetch_chunk_size, chunk,
                                size))
        return make_error(err == EINVAL ? errc::invalid_argument
                                        : errc::storage_failed,
                          i->second + " at offset " + std::to_string(offset)
                            + ": " + errno_text(err));
      return {std::move(chunk), size};
    },
    [=](info_atom) {
      return std::make_tuple(protocol_version, self->state.my_node);
    },
    [=](deadline_atom, uint64_t id) {
      if (!from_this_node(self)) {
        drop(self, "a deadline from another node");
        return;
      }
      // Channel reports waiting in the registry are not missing.
      drain_finals(self);
      auto i = self->state.pending.find(id);
      if (i == self->state.pending.end())
        return;
      auto reason = describe_missing(self, i->second);
      fail(self, i->second, make_error(errc::timed_out, std::move(reason)));
    },
  };
}

// The coordinator as a class, for its `enqueue`: it drops exit messages
// from outside its node (see exit_guard.hpp), which any peer could send to
// the published handle.
class coordinator_impl : public coordinator_actor {
public:
  using super = coordinator_actor;

  coordinator_impl(caf::actor_config& cfg, module* mod, caf::actor sink)
      : super(cfg), mod_(mod), sink_(std::move(sink)) {
    // nop
  }

  caf::behavior make_behavior() override {
    return coordinator_fn(this, mod_, std::move(sink_));
  }

  using super::enqueue;

  void enqueue(caf::mailbox_element_ptr x, caf::execution_unit* eu) override {
    if (x && is_foreign_exit(*x, node())) {
      report_dropped_exit("coordinator", *x);
      return;
    }
    super::enqueue(std::move(x), eu);
  }

private:
  module* mod_;
  caf::actor sink_;
};

} // namespace

caf::actor spawn_coordinator(module& mod, caf::actor sink) {
  // Not detached: in a cluster, CAF 0.17.6's middleman can drop queued
  // down messages that still hold a reference to the coordinator, and the
  // actor system then waits forever for a detached actor's thread.
  return mod.system().spawn<coordinator_impl, caf::hidden>(&mod,
                                                           std::move(sink));
}

} // namespace caf::snapshot::detail
