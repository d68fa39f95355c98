// Soak: snapshots back to back while the application keeps working. After
// a warm-up, resident memory stays within 10% and no file descriptor
// leaks. CI runs 150 snapshots; set CAF_SNAPSHOT_SOAK_SNAPSHOTS=1000 for
// the full run (the note of the hardening issue quotes it).

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "edge_cases_util.hpp"

namespace {

using namespace edge;

size_t snapshots_to_take() {
  if (auto str = std::getenv("CAF_SNAPSHOT_SOAK_SNAPSHOTS"))
    return std::strtoul(str, nullptr, 10);
  return 150;
}

// Resident set size in bytes.
size_t rss_bytes() {
  std::ifstream in{"/proc/self/statm"};
  size_t pages = 0;
  size_t resident = 0;
  in >> pages >> resident;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

size_t open_fds() {
  size_t n = 0;
  for (auto& entry : std::filesystem::directory_iterator{"/proc/self/fd"}) {
    static_cast<void>(entry);
    ++n;
  }
  return n;
}

using hop_atom = caf::atom_constant<caf::atom("s_hop")>;

constexpr size_t ring_size = 200;

struct hopper {
  int64_t hops = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar & hops;
  }
};

// Forwards each token to the next actor of the ring, forever.
caf::behavior hopper_fn(snap::stateful_actor<hopper>* self,
                        std::shared_ptr<std::vector<caf::actor>> ring,
                        size_t index) {
  return {
    [=](hop_atom, int64_t token) {
      ++self->state.hops;
      if (ring->size() < ring_size)
        return; // still being built
      auto& next = (*ring)[(index + 1) % ring_size];
      self->send(next, hop_atom::value, token);
    },
  };
}

class soak_config : public test::config {
public:
  explicit soak_config(const std::string& dir) : test::config(dir) {
    set("snapshot.keep", size_t{3});
  }
};

} // namespace

TEST(soak, memory_and_descriptors_stay_flat_over_many_snapshots) {
  test::temp_dir dir;
  soak_config cfg{dir.path()};
  caf::actor_system sys{cfg};
  auto ring = std::make_shared<std::vector<caf::actor>>();
  for (size_t i = 0; i < ring_size; ++i)
    ring->push_back(sys.spawn(hopper_fn, ring, i));
  for (int64_t token = 0; token < 50; ++token)
    caf::anon_send((*ring)[static_cast<size_t>(token) % ring_size],
                   hop_atom::value, token);
  auto total = snapshots_to_take();
  auto warm_up = std::max<size_t>(total / 10, 10);
  size_t rss_after_warm_up = 0;
  size_t fds_after_warm_up = 0;
  size_t rss_peak = 0;
  for (size_t i = 0; i < total; ++i) {
    auto info = test::take(sys);
    ASSERT_TRUE(info) << "snapshot " << i << ": " << sys.render(info.error());
    if (i + 1 == warm_up) {
      rss_after_warm_up = rss_bytes();
      fds_after_warm_up = open_fds();
    } else if (i + 1 > warm_up) {
      rss_peak = std::max(rss_peak, rss_bytes());
    }
  }
  auto rss_end = rss_bytes();
  auto fds_end = open_fds();
  std::cout << "soak: " << total << " snapshots, rss after warm-up "
            << rss_after_warm_up / 1024 << " KiB, peak " << rss_peak / 1024
            << " KiB, end " << rss_end / 1024 << " KiB; fds "
            << fds_after_warm_up << " -> " << fds_end << '\n';
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // ASan keeps freed memory in its quarantine (256 MiB by default), TSan
  // grows its shadow and metadata with every thread's history: RSS says
  // nothing about leaks there (LeakSanitizer does). The plain build checks
  // the bound.
  static_cast<void>(rss_peak);
#else
  EXPECT_LE(rss_peak, rss_after_warm_up + rss_after_warm_up / 10);
#endif
  EXPECT_EQ(fds_end, fds_after_warm_up);
  // Retention kept the directory small.
  size_t files = 0;
  for (auto& entry : std::filesystem::directory_iterator{dir.path()}) {
    static_cast<void>(entry);
    ++files;
  }
  EXPECT_LE(files, 3u);
  // The tokens are conserved in the last snapshot: 50 in flight or being
  // handled is checked by the property tests; here the ring still works.
  auto s = test::take_and_load(sys);
  EXPECT_EQ(s.actors.size(), ring_size);
  for (auto& a : *ring)
    caf::anon_send_exit(a, caf::exit_reason::kill);
}
