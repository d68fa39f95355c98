#include "caf/snapshot/detail/participant_core.hpp"

#include <algorithm>
#include <cstdlib>
#include <cxxabi.h>
#include <exception>
#include <unordered_map>

#include "caf/actor_cast.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/binary_serializer.hpp"
#include "caf/exit_reason.hpp"
#include "caf/send.hpp"

#include "caf/snapshot/detail/protocol.hpp"
#include "caf/snapshot/errc.hpp"
#include "caf/snapshot/module.hpp"

namespace caf::snapshot::detail {

// One snapshot whose channels this participant records.
struct channel_recording {
  uint64_t snapshot_id;
  std::vector<message_record> records;
  bool normal_flushed = false;
  bool urgent_flushed = false;
};

struct recording_state {
  // Oldest snapshot first.
  std::vector<channel_recording> snapshots;
  // Elements already classified that are still in the mailbox (queued at
  // the cut, or skipped while recording). Retries must not record again.
  std::unordered_set<const caf::mailbox_element*> known;
};

struct participant_extras {
  // Elements skipped by the behavior and not handled since.
  std::unordered_set<const caf::mailbox_element*> stash;
  // Delayed sends that may still be in the clock.
  std::vector<delayed_token_ptr> delayed;
  // Requests sent with the participant's `request` and their receivers;
  // pruned to the pending ones whenever it doubles.
  struct sent_request {
    uint64_t response_id;
    caf::actor_id target;
    caf::node_id target_node;
  };
  std::vector<sent_request> sent_requests;
  size_t prune_sent_requests_at = 32;
};

namespace {

// CAF lets only subclasses read an actor's flags; a pointer to the member,
// named through a subclass, reads them for any actor.
struct flag_reader : caf::abstract_actor {
  static bool get(const caf::abstract_actor* x, int flag) {
    auto fn = &flag_reader::getf;
    return (x->*fn)(flag);
  }
};

} // namespace

bool is_participant(const caf::abstract_actor* x) noexcept {
  return x != nullptr && flag_reader::get(x, participant_flag);
}

thread_local participant_core* participant_core::current_ = nullptr;

std::string demangle(const std::type_info& x) {
  // Every cut asks for its actor's type name; demangling each time was 5%
  // of a participant's work in a snapshot. One cache per thread needs no
  // lock and holds a few entries (one per participant type).
  thread_local std::unordered_map<const std::type_info*, std::string> cache;
  auto i = cache.find(&x);
  if (i != cache.end())
    return i->second;
  int status = 0;
  auto ptr = abi::__cxa_demangle(x.name(), nullptr, nullptr, &status);
  std::string result = ptr != nullptr ? ptr : x.name();
  std::free(ptr);
  cache.emplace(&x, result);
  return result;
}

participant_core::participant_core(caf::abstract_actor* self,
                                   caf::actor_system& sys)
    : self_(self), registry_(nullptr) {
  if (auto mod = module::find(sys))
    registry_ = &mod->participants();
}

void participant_core::enter_registry() {
  if (registry_ == nullptr)
    return;
  auto parent = current_;
  const participant_core* spawner = nullptr;
  if (parent != nullptr && parent->registry_ == registry_)
    spawner = parent;
  registry_->add(this, spawner);
  // In a cluster, other nodes must know a newborn's epoch before its first
  // message reaches them (they assume 0 for participants they never heard
  // of). Sent from the spawning thread, before the actor can run.
  if (registry_->clustered() && epoch() > 0)
    announce(epoch(), epoch());
}

participant_core::~participant_core() {
  // Terminated participants left the registry in `on_terminate` already
  // (and may outlive it); others leave now.
  if (registry_ != nullptr && prev_ != this)
    registry_->remove(this);
}

participant_extras& participant_core::extras() {
  if (!extras_)
    extras_ = std::make_unique<participant_extras>();
  return *extras_;
}

caf::mailbox_element_ptr
participant_core::stamp_incoming(caf::mailbox_element_ptr x) const {
  if (as_tagged(*x) != nullptr)
    return x; // Control traffic and delayed sends keep their colour.
  auto src = current_;
  if (src != nullptr && src->registry_ == registry_)
    return stamp(std::move(x), src->epoch());
  auto word = registry_->word();
  if (registry_->clustered() && x->sender
      && x->sender->node() != self_->node()) {
    // From another node: its sender announced its epoch through the same
    // connection before sending anything after its cut.
    auto colour = registry_->cluster().remote_epoch(x->sender->node(),
                                                    x->sender->id());
    if ((word & 1) == 0 && colour == (word >> 1))
      return x;
    return stamp(std::move(x), colour);
  }
  if ((word & 1) == 0)
    return x;
  return stamp(std::move(x), external_colour);
}

void participant_core::announce(uint64_t prev, uint64_t next) {
  auto sinks = registry_->cluster().peer_sinks();
  if (sinks.empty())
    return;
  auto self = caf::actor_cast<caf::actor>(self_);
  for (auto& sink : sinks)
    caf::send_as(self, sink, notice_atom::value, prev, next);
}

void participant_core::on_control(const tagged_element& x) {
  switch (x.control) {
    case control_kind::marker:
      cut(x.snapshot_id);
      break;
    case control_kind::flush: {
      if (!recording_)
        break;
      auto& xs = recording_->snapshots;
      for (size_t i = 0; i < xs.size(); ++i) {
        if (xs[i].snapshot_id != x.snapshot_id)
          continue;
        if (x.is_high_priority()) {
          xs[i].urgent_flushed = true;
        } else {
          xs[i].normal_flushed = true;
          // Fetching takes the whole inbox at once, so every element pushed
          // before this flush has been fetched: urgent ones wait in the
          // urgent queue or have been seen. With that queue empty, the
          // urgent channel is closed too; otherwise a flush of our own
          // behind them closes it (see design.md).
          if (!xs[i].urgent_flushed) {
            if (urgent_queue_empty())
              xs[i].urgent_flushed = true;
            else
              self_->enqueue(make_control(control_kind::flush, x.snapshot_id,
                                          caf::message_priority::high),
                             nullptr);
          }
        }
        if (xs[i].urgent_flushed && xs[i].normal_flushed)
          finish(i, true);
        break;
      }
      break;
    }
    case control_kind::relay:
      if (x.token) {
        // Sent from here, the message carries this participant's epoch now:
        // before the cut if it left the clock before the cut, after it
        // otherwise (then the cut recorded it as in the clock).
        x.token->observe();
        send_relayed(*x.token);
      }
      break;
    default:
      break;
  }
}

void participant_core::send_relayed(const delayed_token& x) {
  if (x.relay_to)
    x.relay_to->enqueue(caf::make_mailbox_element(
                          caf::actor_cast<caf::strong_actor_ptr>(self_),
                          x.mid, {}, x.content),
                        nullptr);
}

bool participant_core::observe(const caf::mailbox_element& x) {
  if (recording_ && recording_->known.count(&x) != 0)
    return false;
  auto tagged = as_tagged(x);
  uint64_t recorded_by_sender = 0;
  if (tagged != nullptr) {
    if (tagged->token)
      tagged->recorded_by_sender = std::max(tagged->recorded_by_sender,
                                            tagged->token->observe());
    recorded_by_sender = tagged->recorded_by_sender;
    // Lai-Yang: a message sent after its sender's cut for snapshot k must
    // not be handled before our own cut for k. A delayed message that its
    // sender recorded as in flight for k counts as sent after that cut.
    if (tagged->colour != external_colour && tagged->colour > epoch())
      cut(tagged->colour);
    if (recorded_by_sender > epoch())
      cut(recorded_by_sender);
  }
  if (!recording_)
    return true;
  for (auto& snap : recording_->snapshots) {
    // Untagged elements were sent while no snapshot was active, hence before
    // every cut we record for; external ones after our cut are not part of
    // the snapshot.
    bool in_channel = tagged == nullptr
                      || (tagged->colour != external_colour
                          && tagged->colour < snap.snapshot_id);
    if (in_channel && snap.snapshot_id > recorded_by_sender)
      snap.records.emplace_back(make_record(x, message_location::wire));
  }
  return true;
}

void participant_core::after_consume(const caf::mailbox_element& x,
                                     bool skipped, bool first_observation) {
  if (!recording_)
    return;
  if (skipped) {
    if (first_observation)
      recording_->known.insert(&x);
  } else {
    recording_->known.erase(&x);
  }
}

void participant_core::cut(uint64_t id) {
  if (registry_ == nullptr || id <= epoch())
    return;
  take_cut(id, actor_status::running, caf::error{});
}

void participant_core::take_cut(uint64_t id, actor_status status,
                                const caf::error& reason) {
  auto first = epoch() + 1;
  set_epoch(id);
  auto count = static_cast<size_t>(id - first + 1);
  auto mod = module::find(system());
  auto coordinator = mod != nullptr ? mod->coordinator() : caf::actor{};
  // The state, serialized once for all snapshots cut here.
  actor_record rec;
  rec.id = self_->id();
  rec.node = caf::to_string(self_->node());
  rec.name = type_name();
  rec.status = status;
  if (status == actor_status::exited)
    rec.exit_reason = system().render(reason);
  caf::error failure;
  try {
    save_state(rec.state, rec.state_text);
  } catch (std::exception& e) {
    failure = make_error(errc::state_not_serializable,
                         "actor " + std::to_string(rec.id) + " (" + rec.name
                           + "): " + e.what());
  } catch (...) {
    failure = make_error(errc::state_not_serializable,
                         "actor " + std::to_string(rec.id) + " (" + rec.name
                           + "): unknown exception");
  }
  if (!failure && uses_streams())
    failure = make_error(errc::streams_unsupported,
                         "actor " + std::to_string(rec.id) + " (" + rec.name
                           + ") has active CAF streams");
  rec.pending_requests = pending_requests();
  rec.awaited = awaited(rec.pending_requests);
  // Everything waiting in the mailbox at the cut is in a channel, except
  // messages that their senders sent after their own cut.
  if (!recording_)
    recording_ = std::make_unique<recording_state>();
  std::vector<std::vector<message_record>> queued(count);
  scan_mailbox([&](const caf::mailbox_element& x, message_location loc) {
    auto tagged = as_tagged(x);
    if (tagged != nullptr && tagged->control != control_kind::none)
      return;
    uint64_t recorded_by_sender = 0;
    if (tagged != nullptr && tagged->token) {
      tagged->recorded_by_sender = std::max(tagged->recorded_by_sender,
                                            tagged->token->observe());
      recorded_by_sender = tagged->recorded_by_sender;
    }
    for (size_t i = 0; i < count; ++i) {
      auto sid = first + i;
      bool in_channel = tagged == nullptr
                        || tagged->colour == external_colour
                        || tagged->colour < sid;
      if (in_channel && sid > recorded_by_sender)
        queued[i].emplace_back(make_record(
          x, extras_ != nullptr && extras_->stash.count(&x) != 0
               ? message_location::stash
               : loc));
    }
    // A delayed message recorded by its sender for a later snapshot makes
    // us cut again before handling it: leave it to `observe`.
    if (recorded_by_sender <= id)
      recording_->known.insert(&x);
  });
  // Delayed sends still in the clock are in the channel to their receiver.
  if (extras_) {
    auto& delayed = extras_->delayed;
    auto gone = [](const delayed_token_ptr& x) {
      return x->state.load() == delayed_token::observed || x.use_count() == 1;
    };
    delayed.erase(std::remove_if(delayed.begin(), delayed.end(), gone),
                  delayed.end());
    for (auto& token : delayed) {
      auto before = token->state.load();
      if (!token->capture(id))
        continue;
      for (size_t j = 0; j < count; ++j)
        if (first + j > before)
          queued[j].emplace_back(make_record(*token));
    }
  }
  // Other nodes learn the new epoch before any message sent after the cut.
  if (registry_ != nullptr && registry_->clustered())
    announce(first - 1, id);
  // One report per snapshot; then record channels until flushed.
  for (size_t j = 0; j < count; ++j) {
    cut_report rep;
    rep.snapshot_id = first + j;
    rep.self = caf::actor_cast<caf::strong_actor_ptr>(self_);
    rep.record = j + 1 < count ? rec : std::move(rec);
    rep.queued = std::move(queued[j]);
    rep.failure = failure;
    if (coordinator)
      caf::send_as(caf::actor_cast<caf::actor>(self_), coordinator,
                   report_atom::value, std::move(rep));
    recording_->snapshots.push_back(channel_recording{first + j, {}});
  }
}

void participant_core::finish(size_t index, bool flushed) {
  auto& xs = recording_->snapshots;
  channel_report rep;
  rep.snapshot_id = xs[index].snapshot_id;
  rep.participant = self_->id();
  rep.recorded = std::move(xs[index].records);
  xs.erase(xs.begin() + static_cast<std::ptrdiff_t>(index));
  if (flushed && registry_ != nullptr) {
    // The coordinator sent the flush after handling our cut report, so the
    // report cannot overtake it. One message per batch instead of one per
    // participant: a quarter of a large snapshot's time went to handling
    // channel reports one by one.
    if (registry_->finals().push(std::move(rep)))
      if (auto coordinator = registry_->coordinator())
        caf::send_as(caf::actor_cast<caf::actor>(self_), coordinator,
                     drain_atom::value);
  } else if (auto mod = module::find(system())) {
    // Exiting before the flush: our cut report may still be on its way,
    // and this message stays behind it.
    if (auto coordinator = mod->coordinator())
      caf::send_as(caf::actor_cast<caf::actor>(self_), coordinator,
                   final_atom::value, std::move(rep));
  }
  if (xs.empty())
    recording_.reset();
}

void participant_core::on_terminate(const caf::error& reason) {
  if (registry_ == nullptr)
    return;
  if (self_->ctrl()->strong_refs.load() == 0) {
    // CAF runs `cleanup` from the destructor of an actor nobody references
    // any more. A handle to ourselves would resurrect the actor and destroy
    // it a second time, so send nothing. Nothing waits for us either: a
    // pending snapshot holds a handle to each participant it expects, and
    // a delayed message in the clock holds one to its relaying sender.
    registry_->remove(this);
    recording_.reset();
    extras_.reset();
    return;
  }
  post_mortem(reason);
  // Leave the registry first: a snapshot activated after this point does not
  // expect us; one activated before is returned here and gets our last cut.
  auto active = registry_->remove(this);
  if (active > epoch())
    take_cut(active, actor_status::exited, reason);
  // Keep `registry_`: other threads may still enqueue into our mailbox,
  // and `enqueue` reads the registry's epoch word (the registry outlives
  // every participant of its system). Leaving the registry is idempotent.
  while (recording_ && !recording_->snapshots.empty())
    finish(0, false);
  recording_.reset();
  if (!extras_)
    return;
  extras_->stash.clear();
  // Delayed messages to other nodes still travel through us: hand them to
  // the clock directly, so that they arrive although we are gone.
  for (auto& token : extras_->delayed)
    if (token->relay_to
        && token->state.exchange(delayed_token::observed)
             != delayed_token::observed)
      system().clock().schedule_message(
        token->due, token->relay_to,
        caf::make_mailbox_element(caf::actor_cast<caf::strong_actor_ptr>(
                                    self_),
                                  token->mid, {}, token->content));
  extras_.reset();
}

void participant_core::post_mortem(const caf::error& reason) {
  if (!reason || reason == caf::exit_reason::normal
      || reason == caf::exit_reason::user_shutdown)
    return;
  auto mod = module::find(system());
  if (mod == nullptr || !mod->settings().on_actor_failure)
    return;
  auto coordinator = mod->coordinator();
  if (!coordinator)
    return;
  auto self = caf::actor_cast<caf::actor>(self_);
  auto what = "actor " + std::to_string(self_->id()) + " (" + type_name()
              + ") failed: " + system().render(reason);
  // Activated here, before we leave the registry: we take our final cut for
  // it, so the post-mortem holds our state at the failure. A member's
  // snapshots are numbered by the root: ask it instead.
  if (auto act = registry_->activate_if_idle())
    caf::send_as(self, coordinator, post_mortem_atom::value, act->id,
                 std::move(act->participants), std::move(what));
  else if (registry_->is_member())
    caf::send_as(self, coordinator, trigger_atom::value, std::move(what));
}

void participant_core::schedule_tracked(caf::actor_clock::time_point at,
                                        caf::strong_actor_ptr receiver,
                                        caf::message_id mid,
                                        caf::message content) {
  if (!receiver)
    return;
  auto target = caf::actor_cast<caf::abstract_actor*>(receiver);
  auto& clock = system().clock();
  auto sender = caf::actor_cast<caf::strong_actor_ptr>(self_);
  // To another node: the clock delivers to ourselves, we send it on.
  if (registry_ != nullptr && registry_->clustered()
      && target->node() != self_->node()) {
    auto token = std::make_shared<delayed_token>();
    token->content = content;
    token->mid = mid;
    token->receiver = target->id();
    token->receiver_node = caf::to_string(target->node());
    token->relay_to = std::move(receiver);
    token->due = at;
    auto elem = new tagged_element(sender, mid, {}, std::move(content),
                                   epoch());
    elem->control = control_kind::relay;
    elem->token = token;
    extras().delayed.emplace_back(std::move(token));
    clock.schedule_message(at, std::move(sender),
                           caf::mailbox_element_ptr{elem});
    return;
  }
  // Only channels between participants of this system are part of its
  // snapshots; everything else goes through the clock untouched.
  if (registry_ == nullptr || !is_local_participant(receiver)) {
    clock.schedule_message(at, std::move(receiver),
                           caf::make_mailbox_element(std::move(sender), mid,
                                                     {}, std::move(content)));
    return;
  }
  auto token = std::make_shared<delayed_token>();
  token->content = content;
  token->mid = mid;
  token->receiver = target->id();
  token->receiver_node = caf::to_string(target->node());
  auto elem = new tagged_element(std::move(sender), mid, {},
                                 std::move(content), epoch());
  elem->token = token;
  extras().delayed.emplace_back(std::move(token));
  clock.schedule_message(at, std::move(receiver),
                         caf::mailbox_element_ptr{elem});
}

void participant_core::remember_skipped(const caf::mailbox_element& x) {
  extras().stash.insert(&x);
}

void participant_core::forget_skipped(const caf::mailbox_element& x) {
  extras_->stash.erase(&x);
}

void participant_core::note_request(uint64_t response_id,
                                    const caf::strong_actor_ptr& dest) {
  if (!dest)
    return;
  auto& ex = extras();
  auto& sent = ex.sent_requests;
  if (sent.size() >= ex.prune_sent_requests_at) {
    auto pending = pending_requests();
    std::sort(pending.begin(), pending.end());
    auto gone = [&](const participant_extras::sent_request& x) {
      return !std::binary_search(pending.begin(), pending.end(),
                                 x.response_id);
    };
    sent.erase(std::remove_if(sent.begin(), sent.end(), gone), sent.end());
    ex.prune_sent_requests_at = std::max(size_t{32}, 2 * sent.size());
  }
  sent.push_back(participant_extras::sent_request{response_id, dest->id(),
                                                  dest->node()});
}

std::vector<awaited_request>
participant_core::awaited(const std::vector<uint64_t>& pending) {
  std::vector<awaited_request> result;
  if (!extras_ || extras_->sent_requests.empty())
    return result;
  std::unordered_map<uint64_t, const participant_extras::sent_request*> index;
  for (auto& x : extras_->sent_requests)
    index[x.response_id] = &x;
  for (auto id : pending) {
    auto i = index.find(id);
    if (i != index.end())
      result.push_back(awaited_request{id, i->second->target,
                                       caf::to_string(i->second->target_node)});
  }
  return result;
}

bool participant_core::is_local_participant(
  const caf::strong_actor_ptr& x) const {
  if (!x || registry_ == nullptr)
    return false;
  auto ptr = caf::actor_cast<caf::abstract_actor*>(x);
  // Proxies live in this system too: compare nodes, since a remote actor
  // may have the ID of a local participant.
  return &ptr->home_system() == &system() && x->node() == system().node()
         && is_participant(ptr);
}

message_record
participant_core::make_record(const caf::mailbox_element& x,
                              message_location loc) const {
  message_record rec;
  if (x.sender) {
    rec.sender = x.sender->id();
    rec.sender_node = caf::to_string(x.sender->node());
  }
  rec.receiver = self_->id();
  rec.receiver_node = caf::to_string(self_->node());
  rec.mid = x.mid.integer_value();
  rec.priority = x.is_high_priority() ? 1 : 0;
  rec.location = loc;
  auto tagged = as_tagged(x);
  // Untagged messages from other nodes of a cluster count as participant
  // traffic: their senders' status is not known here.
  rec.from_participant
    = tagged != nullptr
        ? tagged->colour != external_colour
        : is_local_participant(x.sender)
            || (x.sender && registry_ != nullptr && registry_->clustered()
                && x.sender->node() != self_->node());
  auto msg = x.copy_content_to_message();
  caf::binary_serializer sink{system(), rec.content};
  if (auto err = msg.save(sink))
    rec.content.clear();
  rec.text = caf::to_string(msg);
  return rec;
}

message_record participant_core::make_record(const delayed_token& x) const {
  message_record rec;
  rec.sender = self_->id();
  rec.sender_node = caf::to_string(self_->node());
  rec.receiver = x.receiver;
  rec.receiver_node = x.receiver_node;
  rec.mid = x.mid.integer_value();
  rec.priority = x.mid.category() == caf::message_id::urgent_message_category
                   ? 1
                   : 0;
  rec.location = message_location::clock;
  rec.from_participant = true;
  caf::binary_serializer sink{system(), rec.content};
  if (auto err = x.content.save(sink))
    rec.content.clear();
  rec.text = caf::to_string(x.content);
  return rec;
}

} // namespace caf::snapshot::detail

// Every participant carries one core: it is the whole memory overhead of a
// participant over a plain actor (the registry links cores, no allocation).
static_assert(sizeof(caf::snapshot::detail::participant_core) <= 64,
              "participant_core outgrew the 64-byte budget per participant");
