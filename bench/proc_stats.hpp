// Memory figures of the running process, read from /proc (Linux).
//
// Usage:
//   auto before = bench::resident_bytes();
//   ...
//   auto extra = bench::resident_bytes() - before;
#pragma once

#include <malloc.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace bench {

/// Resident set size now (/proc/self/statm), in bytes.
inline int64_t resident_bytes() {
  std::ifstream in{"/proc/self/statm"};
  int64_t pages = 0;
  int64_t resident = 0;
  in >> pages >> resident;
  return resident * static_cast<int64_t>(::sysconf(_SC_PAGESIZE));
}

/// Bytes the heap hands out right now, over all malloc arenas (glibc's
/// `mallinfo2`): unlike the resident size, not rounded to pages and not
/// inflated by memory that `free` kept.
inline int64_t heap_bytes() {
  auto info = ::mallinfo2();
  return static_cast<int64_t>(info.uordblks + info.hblkhd);
}

/// Peak resident set size (`VmHWM` in /proc/self/status), in bytes.
inline int64_t peak_resident_bytes() {
  std::ifstream in{"/proc/self/status"};
  std::string key;
  while (in >> key) {
    if (key == "VmHWM:") {
      int64_t kib = 0;
      in >> kib;
      return kib * 1024;
    }
    std::getline(in, key);
  }
  return 0;
}

/// Resets the peak resident set size to the current one (writes 5 to
/// /proc/self/clear_refs, Linux 4.0 and later). Returns whether it worked.
inline bool reset_peak_resident() {
  std::ofstream out{"/proc/self/clear_refs"};
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

} // namespace bench
