#include "caf/snapshot/detail/exit_guard.hpp"

#include <iostream>

namespace caf::snapshot::detail {

void report_dropped_exit(const char* who, const caf::mailbox_element& x) {
  std::cerr << "[caf.snapshot] " << who << " ignored an exit message from "
            << (x.sender ? "node " + caf::to_string(x.sender->node())
                         : std::string{"an anonymous sender"})
            << " (only actors of its own node may stop it)\n";
}

} // namespace caf::snapshot::detail
