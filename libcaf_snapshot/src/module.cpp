#include "caf/snapshot/module.hpp"

#include <iostream>
#include <map>
#include <mutex>

#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "caf/snapshot/coordinator.hpp"
#include "caf/snapshot/detail/notice_sink.hpp"
#include "caf/snapshot/detail/protocol.hpp"
#include "caf/snapshot/errc.hpp"
#include "caf/snapshot/global_snapshot.hpp"
#include "caf/snapshot/snapshot_info.hpp"

namespace caf::snapshot {

namespace {

// CAF 0.17.6 offers no accessor for a module in the `network_manager` slot.
std::mutex modules_mtx;
std::map<const caf::actor_system*, module*> modules;

} // namespace

module::module(caf::actor_system& sys) : sys_(sys) {
  std::lock_guard<std::mutex> guard{modules_mtx};
  modules[&sys] = this;
}

module::~module() {
  std::lock_guard<std::mutex> guard{modules_mtx};
  auto i = modules.find(&sys_);
  if (i != modules.end() && i->second == this)
    modules.erase(i);
}

caf::actor_system::module* module::make(caf::actor_system& sys,
                                        caf::detail::type_list<>) {
  return new module(sys);
}

void module::init(caf::actor_system_config& cfg) {
  settings_.directory = caf::get_or(cfg, "snapshot.directory",
                                    settings_.directory);
  settings_.timeout = caf::get_or(cfg, "snapshot.timeout", settings_.timeout);
  settings_.on_actor_failure = caf::get_or(cfg, "snapshot.on-actor-failure",
                                           settings_.on_actor_failure);
  settings_.keep = caf::get_or(cfg, "snapshot.keep", settings_.keep);
  settings_.max_bytes = caf::get_or(cfg, "snapshot.max-bytes",
                                    settings_.max_bytes);
  settings_.max_participants = caf::get_or(cfg, "snapshot.max-participants",
                                           settings_.max_participants);
  settings_.max_wire_bytes = caf::get_or(cfg, "snapshot.max-wire-bytes",
                                         settings_.max_wire_bytes);
  detail::set_max_deserialized_bytes(settings_.max_wire_bytes);
  auto signal = caf::get_or(cfg, "snapshot.on-signal", std::string{});
  if (!signal.empty()) {
    // A typo must not stop the application: say so and run without it.
    if (auto signo = detail::signal_trigger::parse(signal))
      settings_.on_signal = *signo;
    else
      std::cerr << "[caf.snapshot] " << render(signo.error())
                << "; snapshots on signals are off\n";
  }
  cfg.add_error_category(error_category, [](uint8_t code, caf::atom_value,
                                            const caf::message& ctx) {
    return render(caf::error{code, error_category, ctx});
  });
  cfg.add_message_type<snapshot_info>("caf::snapshot::snapshot_info");
  cfg.add_message_type<actor_record>("caf::snapshot::actor_record");
  cfg.add_message_type<message_record>("caf::snapshot::message_record");
  cfg.add_message_type<detail::cut_report>("caf::snapshot::cut_report");
  cfg.add_message_type<detail::channel_report>(
    "caf::snapshot::channel_report");
  cfg.add_message_type<detail::node_info>("caf::snapshot::node_info");
}

void module::start() {
  sink_ = sys_.spawn<detail::notice_sink, caf::hidden>(&registry_);
  coordinator_ = detail::spawn_coordinator(*this, sink_);
  registry_.set_coordinator(coordinator_);
  if (settings_.on_signal != 0)
    signal_trigger_ = std::make_unique<detail::signal_trigger>(
      settings_.on_signal, coordinator_);
}

void module::stop() {
  signal_trigger_.reset();
  registry_.set_coordinator(nullptr);
  // Exits with a sender of this node: both actors ignore any other exit.
  caf::scoped_actor self{sys_, true};
  if (coordinator_) {
    // Wait until the coordinator has answered every pending request, while
    // the scheduler still runs the requesters.
    self->send_exit(coordinator_, caf::exit_reason::user_shutdown);
    self->wait_for(coordinator_);
    coordinator_ = nullptr;
  }
  if (sink_) {
    self->send_exit(sink_, caf::exit_reason::user_shutdown);
    sink_ = nullptr;
  }
}

caf::actor_system::module::id_t module::id() const {
  return network_manager;
}

void* module::subtype_ptr() {
  return this;
}

module* module::find(const caf::actor_system& sys) noexcept {
  std::lock_guard<std::mutex> guard{modules_mtx};
  auto i = modules.find(&sys);
  return i != modules.end() ? i->second : nullptr;
}

caf::actor coordinator(const caf::actor_system& sys) {
  auto mod = module::find(sys);
  return mod != nullptr ? mod->coordinator() : caf::actor{};
}

} // namespace caf::snapshot

namespace caf {

template <>
actor_system_config& actor_system_config::load<caf::snapshot::module>() {
  module_factories.push_back([](actor_system& sys) -> actor_system::module* {
    return caf::snapshot::module::make(sys, detail::type_list<>{});
  });
  opt_group{custom_options_, "snapshot"}
    .add<std::string>("directory", "directory for snapshot files")
    .add<timespan>("timeout", "time limit for taking one snapshot")
    .add<std::string>("on-signal",
                      "take a snapshot on this signal, e.g. SIGUSR1 (off)")
    .add<bool>("on-actor-failure",
               "take a post-mortem snapshot when a participant fails (off)")
    .add<size_t>("keep", "snapshot files to keep; older ones are removed "
                         "(0: keep all)")
    .add<uint64_t>("max-bytes", "largest snapshot file (0: no limit)")
    .add<size_t>("max-participants",
                 "most participants per node in a snapshot (0: no limit)")
    .add<uint64_t>("max-wire-bytes",
                   "largest state or message content from or to another "
                   "node (default 256 MiB)");
  return *this;
}

} // namespace caf
