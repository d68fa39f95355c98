// A downstream program that uses caf-snapshot only through its public
// interface: the umbrella header and the CAF::snapshot target. Built by the
// `consumer_find_package` and `consumer_add_subdirectory` tests.
//
// Takes one snapshot of a single stateful participant, loads the stored file
// and checks the actor record. Prints `OK` and exits with 0 on success.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

#include <unistd.h>

#include "caf/all.hpp"
#include "caf/snapshot/all.hpp"

namespace {

constexpr int64_t expected_count = 42;

struct counter_state {
  int64_t count = 0;

  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & count;
  }
};

caf::behavior counter(caf::snapshot::stateful_actor<counter_state>* self,
                      int64_t initial) {
  self->state.count = initial;
  return {
    [=](int64_t x) { self->state.count += x; },
  };
}

int fail(const std::string& what) {
  std::cerr << "FAILED: " << what << '\n';
  return EXIT_FAILURE;
}

/// Creates a fresh directory under the system's temporary directory.
std::string make_temp_dir() {
  auto base = std::filesystem::temp_directory_path();
  auto tmpl = (base / "caf-snapshot-consumer-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    return {};
  return tmpl;
}

int run(const std::string& dir) {
  caf::actor_system_config cfg;
  cfg.load<caf::snapshot::module>();
  cfg.set("snapshot.directory", dir);
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  auto participant = sys.spawn(counter, expected_count);
  auto coord = caf::snapshot::coordinator(sys);
  if (!coord)
    return fail("no coordinator: is the snapshot module loaded?");
  caf::expected<caf::snapshot::snapshot_info> info{caf::error{}};
  caf::scoped_actor self{sys};
  self
    ->request(coord, std::chrono::seconds{60}, caf::snapshot::take_atom::value)
    .receive([&](caf::snapshot::snapshot_info& x) { info = std::move(x); },
             [&](caf::error& err) { info = std::move(err); });
  if (!info)
    return fail("take: " + sys.render(info.error()));
  auto snap = caf::snapshot::load(info->path);
  if (!snap)
    return fail("load: " + caf::snapshot::render(snap.error()));
  if (!snap->complete)
    return fail("incomplete snapshot: " + snap->incomplete_reason);
  if (snap->actors.size() != 1)
    return fail("expected 1 actor record, got "
                + std::to_string(snap->actors.size()));
  auto& rec = snap->actors.front();
  if (rec.id != participant.id())
    return fail("record is for actor " + std::to_string(rec.id) + ", expected "
                + std::to_string(participant.id()));
  if (rec.status != caf::snapshot::actor_status::running)
    return fail("actor status " + to_string(rec.status));
  counter_state restored;
  if (auto err = rec.load_state(restored))
    return fail("load_state: " + caf::snapshot::render(err));
  if (restored.count != expected_count)
    return fail("restored count " + std::to_string(restored.count));
  caf::anon_send_exit(participant, caf::exit_reason::user_shutdown);
  std::cout << "OK\n";
  return EXIT_SUCCESS;
}

} // namespace

int main() {
  auto dir = make_temp_dir();
  if (dir.empty())
    return fail("cannot create a temporary directory");
  int result = EXIT_FAILURE;
  try {
    result = run(dir);
  } catch (std::exception& e) {
    result = fail(std::string{"exception: "} + e.what());
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return result;
}
