#include "caf/snapshot/cluster.hpp"

#include "caf/io/middleman.hpp"
#include "caf/scoped_actor.hpp"

#include "caf/snapshot/coordinator.hpp"
#include "caf/snapshot/detail/protocol.hpp"
#include "caf/snapshot/errc.hpp"
#include "caf/snapshot/module.hpp"

namespace caf::snapshot {

namespace {

caf::error check_prerequisites(caf::actor_system& sys) {
  if (module::find(sys) == nullptr)
    return make_error(errc::module_not_loaded,
                      "load caf::snapshot::module into the actor system");
  if (!sys.has_middleman())
    return make_error(errc::invalid_argument,
                      "load caf::io::middleman into the actor system");
  return caf::none;
}

} // namespace

caf::expected<uint16_t> publish(caf::actor_system& sys, uint16_t port,
                                const std::string& address) {
  if (auto err = check_prerequisites(sys))
    return err;
  auto coordinator = module::find(sys)->coordinator();
  return sys.middleman().publish(coordinator, port, address.c_str(), true);
}

caf::error join(caf::actor_system& sys, const std::string& host,
                uint16_t port) {
  if (auto err = check_prerequisites(sys))
    return err;
  auto root = sys.middleman().remote_actor(host, port);
  if (!root)
    return std::move(root.error());
  auto mod = module::find(sys);
  caf::scoped_actor self{sys, true};
  caf::error result;
  self
    ->request(mod->coordinator(), mod->settings().timeout,
              detail::join_atom::value, *root)
    .receive([] {}, [&](caf::error& err) { result = std::move(err); });
  return result;
}

} // namespace caf::snapshot
