// Umbrella header of caf-snapshot.
#pragma once

#include "caf/snapshot/cluster.hpp"
#include "caf/snapshot/coordinator.hpp"
#include "caf/snapshot/errc.hpp"
#include "caf/snapshot/fwd.hpp"
#include "caf/snapshot/global_snapshot.hpp"
#include "caf/snapshot/load.hpp"
#include "caf/snapshot/module.hpp"
#include "caf/snapshot/participant.hpp"
#include "caf/snapshot/snapshot_info.hpp"
#include "caf/snapshot/state_archive.hpp"
#include "caf/snapshot/stateful_actor.hpp"
