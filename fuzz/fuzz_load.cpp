// Fuzzes `caf::snapshot::load`: any file must give a snapshot or an error,
// never a crash, a hang or a large allocation.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include <unistd.h>

#include "caf/snapshot/load.hpp"

namespace {

// One file per fuzzing process, rewritten for each input.
const std::string& input_path() {
  static const std::string path = "/tmp/caf-snapshot-fuzz-load-"
                                  + std::to_string(::getpid()) + ".cafsnap";
  return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& path = input_path();
  if (auto f = std::fopen(path.c_str(), "wb")) {
    if (size > 0)
      std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  auto result = caf::snapshot::load(path);
  if (result) {
    // Touch everything that was decoded.
    size_t n = 0;
    for (auto& a : result->actors)
      n += a.state.size() + a.awaited.size();
    for (auto& m : result->in_flight)
      n += m.content.size();
    static_cast<void>(n);
  }
  std::remove(path.c_str());
  return 0;
}
