#include "caf/snapshot/coordinator.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <unordered_map>

#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/response_promise.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"

#include "caf/snapshot/detail/file_system.hpp"
#include "caf/snapshot/detail/protocol.hpp"
#include "caf/snapshot/detail/snapshot_writer.hpp"
#include "caf/snapshot/detail/tagged_element.hpp"
#include "caf/snapshot/errc.hpp"
#include "caf/snapshot/snapshot_info.hpp"

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

// One snapshot between `take_atom` and its reply.
struct pending_snapshot {
  uint64_t id = 0;
  caf::response_promise promise;
  std::unique_ptr<snapshot_writer> writer;
  std::unordered_map<caf::actor_id, expected_participant> participants;
  size_t missing_reports = 0;
  size_t missing_finals = 0;
  bool flushed = false;
  std::chrono::steady_clock::time_point started;
  uint64_t requested_at_ms = 0;
};

struct coordinator_state {
  module* mod = nullptr;
  std::map<uint64_t, pending_snapshot> pending;
  static inline const char* name = "caf.snapshot.coordinator";
};

using coordinator_actor = caf::stateful_actor<coordinator_state>;

void send_control(const caf::strong_actor_ptr& to, control_kind kind,
                  uint64_t id, caf::message_priority prio,
                  caf::execution_unit* ctx) {
  if (to)
    to->enqueue(make_control(kind, id, prio), ctx);
}

// Ends channel recording for `id` at `to`: one flush per priority, since
// each priority is a FIFO of its own.
void send_flush(coordinator_actor* self, const caf::strong_actor_ptr& to,
                uint64_t id) {
  send_control(to, control_kind::flush, id, caf::message_priority::normal,
               self->context());
  send_control(to, control_kind::flush, id, caf::message_priority::high,
               self->context());
}

std::string describe_missing(const pending_snapshot& snap) {
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
  return result;
}

void close(coordinator_actor* self, uint64_t id) {
  self->state.mod->participants().close(id);
  self->state.pending.erase(id);
}

void fail(coordinator_actor* self, pending_snapshot& snap, caf::error err) {
  if (snap.writer)
    snap.writer->abort();
  snap.promise.deliver(std::move(err));
  // Participants that already cut stop recording; the others get a flush
  // when their late report arrives.
  for (auto& kvp : snap.participants)
    if (kvp.second.reported && !kvp.second.finished)
      send_flush(self, kvp.second.handle, snap.id);
  close(self, snap.id);
}

void try_complete(coordinator_actor* self, pending_snapshot& snap) {
  if (snap.missing_reports > 0)
    return;
  if (!snap.flushed) {
    // Every participant has cut, so every message sent before a cut has
    // been enqueued (local sends are synchronous) or sits in the clock
    // (recorded by its sender): a flush behind it closes the channel.
    snap.flushed = true;
    for (auto& kvp : snap.participants)
      if (!kvp.second.finished)
        send_flush(self, kvp.second.handle, snap.id);
  }
  if (snap.missing_finals > 0)
    return;
  std::string path;
  auto size = snap.writer->commit(true, "", now_ms(), path);
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
  snap.promise.deliver(std::move(info));
  close(self, snap.id);
}

void expect(coordinator_actor* self, pending_snapshot& snap,
            caf::strong_actor_ptr who) {
  auto id = who->id();
  auto i = snap.participants.emplace(id, expected_participant{});
  if (!i.second)
    return;
  i.first->second.handle = who;
  ++snap.missing_reports;
  ++snap.missing_finals;
  send_control(who, control_kind::marker, snap.id,
               caf::message_priority::high, self->context());
}

void start(coordinator_actor* self, caf::response_promise rp) {
  auto& mod = *self->state.mod;
  auto act = mod.participants().activate();
  auto& snap = self->state.pending[act.id];
  snap.id = act.id;
  snap.promise = std::move(rp);
  snap.started = std::chrono::steady_clock::now();
  snap.requested_at_ms = now_ms();
  auto writer = snapshot_writer::open(default_file_system(),
                                      mod.settings().directory, act.id,
                                      caf::to_string(self->node()),
                                      snap.requested_at_ms);
  if (!writer) {
    fail(self, snap, std::move(writer.error()));
    return;
  }
  snap.writer = std::move(*writer);
  snap.participants.reserve(act.participants.size());
  for (auto& addr : act.participants)
    if (auto hdl = caf::actor_cast<caf::strong_actor_ptr>(addr))
      expect(self, snap, std::move(hdl));
  self->delayed_send(self, mod.settings().timeout, deadline_atom::value,
                     act.id);
  try_complete(self, snap);
}

caf::behavior coordinator_fn(coordinator_actor* self, module* mod) {
  self->state.mod = mod;
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto ids = std::vector<uint64_t>{};
    for (auto& kvp : self->state.pending)
      ids.emplace_back(kvp.first);
    for (auto id : ids) {
      auto i = self->state.pending.find(id);
      if (i != self->state.pending.end())
        fail(self, i->second,
             make_error(errc::shutting_down,
                        "snapshot " + std::to_string(id)
                          + ": the actor system shuts down"));
    }
    self->quit(std::move(msg.reason));
  });
  return {
    [=](take_atom) {
      auto rp = self->make_response_promise();
      start(self, std::move(rp));
    },
    [=](joined_atom, caf::strong_actor_ptr who, uint64_t epoch) {
      if (!who)
        return;
      for (auto& kvp : self->state.pending)
        if (kvp.first > epoch && !kvp.second.flushed)
          expect(self, kvp.second, who);
    },
    [=](report_atom, cut_report& rep) {
      auto i = self->state.pending.find(rep.snapshot_id);
      if (i == self->state.pending.end() || i->second.flushed) {
        // Stale: the snapshot failed, timed out, or moved on without this
        // actor. Stop its channel recording.
        send_flush(self, rep.self, rep.snapshot_id);
        return;
      }
      auto& snap = i->second;
      if (!rep.self)
        return;
      auto j = snap.participants.find(rep.self->id());
      if (j == snap.participants.end()) {
        expect(self, snap, rep.self);
        j = snap.participants.find(rep.self->id());
      }
      if (j->second.reported)
        return;
      j->second.reported = true;
      --snap.missing_reports;
      if (rep.failure) {
        fail(self, snap, std::move(rep.failure));
        return;
      }
      auto err = snap.writer->append(rep.record);
      for (size_t k = 0; !err && k < rep.queued.size(); ++k)
        err = snap.writer->append(rep.queued[k]);
      if (err) {
        fail(self, snap, std::move(err));
        return;
      }
      try_complete(self, snap);
    },
    [=](final_atom, channel_report& rep) {
      auto i = self->state.pending.find(rep.snapshot_id);
      if (i == self->state.pending.end())
        return;
      auto& snap = i->second;
      auto j = snap.participants.find(rep.participant);
      if (j == snap.participants.end() || j->second.finished)
        return;
      j->second.finished = true;
      --snap.missing_finals;
      caf::error err;
      for (size_t k = 0; !err && k < rep.recorded.size(); ++k)
        err = snap.writer->append(rep.recorded[k]);
      if (err) {
        fail(self, snap, std::move(err));
        return;
      }
      try_complete(self, snap);
    },
    [=](deadline_atom, uint64_t id) {
      auto i = self->state.pending.find(id);
      if (i == self->state.pending.end())
        return;
      auto reason = describe_missing(i->second);
      fail(self, i->second, make_error(errc::timed_out, std::move(reason)));
    },
  };
}

} // namespace

caf::actor spawn_coordinator(module& mod) {
  return mod.system().spawn<caf::detached + caf::hidden>(coordinator_fn,
                                                         &mod);
}

} // namespace caf::snapshot::detail
