// Fuzzes what another node can send a coordinator: each input is a BASP
// message payload (forwarding stack, message), deserialized like CAF's
// middleman does. Every message that parses goes to a live coordinator as
// an anonymous message (as from a remote node); after each of the first 64
// inputs and then every 256 the coordinator must still answer `info_atom`,
// else the fuzzer aborts.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "caf/all.hpp"
#include "caf/binary_deserializer.hpp"

#include "caf/snapshot/all.hpp"
#include "caf/snapshot/detail/protocol.hpp"

namespace {

namespace snap = caf::snapshot;

// Where the fuzzed `take_atom`s store their snapshots (emptied regularly).
const std::filesystem::path& directory() {
  static const auto path
    = std::filesystem::temp_directory_path()
      / ("caf-snapshot-fuzz-control-" + std::to_string(::getpid()));
  return path;
}

struct config : caf::actor_system_config {
  config() {
    load<snap::module>();
    set("snapshot.directory", directory().string());
    set("snapshot.timeout", caf::timespan{std::chrono::seconds{5}});
    set("logger.console", caf::atom("none"));
  }
};

struct environment {
  config cfg;
  caf::actor_system sys{cfg};
  caf::actor coordinator = snap::coordinator(sys);
  // A participant, so that snapshots have something to record (spawned
  // with an argument: CAF 0.17.6 binds a null reference for function-based
  // actors without arguments, which UBSan reports).
  caf::actor participant = sys.spawn(
    [](snap::event_based_actor*, int) { return caf::behavior{[](int) {}}; },
    0);
  size_t inputs = 0;
};

// Ends the process without running destructors. libFuzzer leaves by
// calling exit(), and CAF's lazily created statics would be destroyed
// before a static actor system (a crash in ~actor_system, not a finding).
// Registered again and again, so that it runs before any destructor of a
// static created meanwhile (atexit handlers run in reverse order).
void skip_destructors_at_exit() {
  std::atexit([] { std::_Exit(0); });
}

environment& env() {
  static auto* instance = [] {
    auto result = new environment; // never destroyed, see above
    skip_destructors_at_exit();
    return result;
  }();
  return *instance;
}

void check_alive(environment& e) {
  caf::scoped_actor self{e.sys};
  bool ok = false;
  self
    ->request(e.coordinator, std::chrono::seconds{60},
              snap::detail::info_atom::value)
    .receive([&](uint32_t, const std::string&) { ok = true; },
             [&](caf::error&) {});
  if (!ok)
    std::abort(); // The coordinator died or hangs: a finding.
  skip_destructors_at_exit();
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator{directory(), ec})
    if (entry.path().extension() == ".cafsnap")
      std::filesystem::remove(entry.path(), ec);
}

// CAF 0.17.6 resizes a `std::vector<char>` message element ("@charbuf") to
// the length it reads before checking it, so a few bytes make any CAF node
// allocate up to 4 GiB (see fuzz/regressions/control/caf-charbuf-4gib).
// caf-snapshot's own records bound their buffers; this one is CAF's, so
// the fuzzer skips such messages to keep fuzzing ours. The type name may
// sit anywhere, also in a message nested in an error's context
// (fuzz/regressions/control/caf-charbuf-nested-oom): search all bytes.
bool holds_caf_byte_buffer(const char* data, size_t size) {
  return std::string_view{data, size}.find("@charbuf")
         != std::string_view::npos;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& e = env();
  auto bytes = reinterpret_cast<const char*>(data);
  if (holds_caf_byte_buffer(bytes, size))
    return 0;
  caf::binary_deserializer source{e.sys, bytes, size};
  std::vector<caf::strong_actor_ptr> stages;
  caf::message msg;
  try {
    if (source(stages, msg))
      return 0;
  } catch (std::exception&) {
    // CAF 0.17.6 itself throws for some hostile payloads (e.g. a
    // `config_value` with an invalid type index; see
    // fuzz/regressions/control/caf-config-value-throws): its middleman
    // would terminate. Outside caf-snapshot's reach; keep fuzzing ours.
    return 0;
  }
  if (!msg.empty())
    e.coordinator->enqueue(caf::make_mailbox_element(nullptr,
                                                     caf::make_message_id(),
                                                     {}, std::move(msg)),
                           nullptr);
  // The first inputs (seeds, regression replays) are each checked; later
  // ones every 256, to keep the fuzzer fast.
  if (++e.inputs <= 64 || e.inputs % 256 == 0)
    check_alive(e);
  return 0;
}
