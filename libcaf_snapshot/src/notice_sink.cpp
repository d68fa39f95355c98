#include "caf/snapshot/detail/notice_sink.hpp"

#include <iostream>

#include "caf/send.hpp"

#include "caf/snapshot/detail/exit_guard.hpp"
#include "caf/snapshot/detail/protocol.hpp"
#include "caf/snapshot/detail/registry.hpp"

namespace caf::snapshot::detail {

notice_sink::notice_sink(caf::actor_config& cfg, registry* reg)
    : caf::event_based_actor(cfg), registry_(reg) {
  // nop
}

void notice_sink::enqueue(caf::mailbox_element_ptr x,
                          caf::execution_unit* eu) {
  if (!x)
    return;
  if (is_foreign_exit(*x, node())) {
    report_dropped_exit("notice sink", *x);
    return;
  }
  auto& content = x->content();
  if (!content.match_elements<notice_atom, uint64_t, uint64_t>()) {
    if (x->sender && x->sender->node() != node()) {
      std::cerr << "[caf.snapshot] dropped a malformed announcement from "
                << caf::to_string(x->sender->node()) << '\n';
      return;
    }
    // Local system messages (the module's exit) take the normal way.
    caf::event_based_actor::enqueue(std::move(x), eu);
    return;
  }
  if (!x->sender) {
    std::cerr << "[caf.snapshot] dropped an anonymous announcement\n";
    return;
  }
  auto prev = content.get_as<uint64_t>(1);
  auto next = content.get_as<uint64_t>(2);
  if (prev > next) {
    std::cerr << "[caf.snapshot] dropped an announcement with epochs " << prev
              << " > " << next << '\n';
    return;
  }
  auto latest = registry_->word() >> 1; // lock-free
  if (next > latest && next - latest > max_snapshots_ahead) {
    std::cerr << "[caf.snapshot] dropped an announcement of snapshot " << next
              << " from " << caf::to_string(x->sender->node())
              << ": this node's latest is " << latest << '\n';
    return;
  }
  auto node = x->sender->node();
  registry_->cluster().announce(node, x->sender->id(), next);
  if (prev < next)
    if (auto coordinator = registry_->coordinator())
      caf::send_as(caf::actor_cast<caf::actor>(this), coordinator,
                   notice_atom::value, node, prev, next);
}

caf::behavior notice_sink::make_behavior() {
  // Everything is handled in `enqueue`; nothing reaches the mailbox.
  set_default_handler(caf::drop);
  return {[](notice_atom) {}};
}

const char* notice_sink::name() const {
  return "caf.snapshot.notice_sink";
}

} // namespace caf::snapshot::detail
