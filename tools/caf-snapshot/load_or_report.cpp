#include "load_or_report.hpp"

#include <iostream>
#include <utility>

#include "caf/snapshot/errc.hpp"
#include "caf/snapshot/load.hpp"

#include "format.hpp"

namespace caf_snapshot_tool {

std::optional<caf::snapshot::global_snapshot>
load_or_report(const std::string& path) {
  auto snap = caf::snapshot::load(path);
  if (!snap) {
    std::cerr << printable(caf::snapshot::render(snap.error())) << std::endl;
    return std::nullopt;
  }
  return std::move(*snap);
}

} // namespace caf_snapshot_tool
