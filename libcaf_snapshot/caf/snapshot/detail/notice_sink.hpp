// Receives the epoch announcements of remote participants. Its `enqueue`
// runs on the middleman's thread, in the order the middleman delivers the
// messages of each remote node, so that the epoch table is updated exactly
// between a participant's last message before its cut and its first one
// after. Then it tells the coordinator, which counts announcements.
#pragma once

#include "caf/actor.hpp"
#include "caf/event_based_actor.hpp"

namespace caf::snapshot::detail {

class registry;

/// The per-node receiver of `notice_atom` messages.
class notice_sink : public caf::event_based_actor {
public:
  notice_sink(caf::actor_config& cfg, registry* reg);

  using caf::event_based_actor::enqueue;

  void enqueue(caf::mailbox_element_ptr x, caf::execution_unit* eu) override;

  caf::behavior make_behavior() override;

  const char* name() const override;

private:
  registry* registry_;
};

} // namespace caf::snapshot::detail
