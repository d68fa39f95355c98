// Participants with a state that is saved with Boost.Serialization at the
// actor's cut point.
//
// Usage:
//   struct account {
//     int64_t balance = 0;
//     template <class Archive>
//     void serialize(Archive& ar, const unsigned) { ar & balance; }
//   };
//   caf::behavior account_fn(caf::snapshot::stateful_actor<account>* self);
//   auto a = sys.spawn(account_fn);
#pragma once

#include <string>
#include <vector>

#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "caf/snapshot/participant.hpp"
#include "caf/snapshot/state_archive.hpp"

namespace caf::snapshot {

/// A participant whose `State` (Boost-serializable) is recorded at its cut.
/// `Base` may be `caf::event_based_actor` or a typed interface's `base`.
template <class State, class Base = caf::event_based_actor>
class stateful_actor : public caf::stateful_actor<State, participant<Base>> {
public:
  using super = caf::stateful_actor<State, participant<Base>>;

  template <class... Ts>
  explicit stateful_actor(caf::actor_config& cfg, Ts&&... xs)
      : super(cfg, std::forward<Ts>(xs)...) {
    // nop
  }

protected:
  void save_state(std::vector<char>& bytes, std::string& text) override {
    save_boost(this->state, bytes, text);
  }

  /// `State::name` if the state has one (as CAF uses it), else the name of
  /// the `State` type.
  std::string type_name() const override {
    std::string result = this->name();
    if (result == "scheduled_actor" || result == "user.scheduled-actor")
      result = detail::demangle(typeid(State));
    return result;
  }
};

/// A participant with no state of its own.
using event_based_actor = participant<caf::event_based_actor>;

} // namespace caf::snapshot
