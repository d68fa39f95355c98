#include "caf/snapshot/detail/retention.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <tuple>
#include <utility>

#include "caf/snapshot/errc.hpp"

namespace caf::snapshot::detail {

namespace {

// Parses the ID and request time of a committed snapshot file name; false
// for other names.
bool parse_snapshot_name(const std::string& name, uint64_t& id,
                         uint64_t& ms) {
  const std::string prefix = "snapshot-";
  const std::string suffix = ".cafsnap";
  if (name.size() <= prefix.size() + suffix.size()
      || name.compare(0, prefix.size(), prefix) != 0
      || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  auto middle = name.substr(prefix.size(),
                            name.size() - prefix.size() - suffix.size());
  // <id>-<ms> or <id>-<ms>-<n>, all decimal.
  size_t fields = 0;
  size_t digits = 0;
  uint64_t first = 0;
  uint64_t second = 0;
  for (auto c : middle) {
    if (c == '-') {
      if (digits == 0)
        return false;
      ++fields;
      digits = 0;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return false;
    if (fields < 2 && digits >= 19)
      return false;
    auto& field = fields == 0 ? first : second;
    if (fields < 2)
      field = field * 10 + static_cast<uint64_t>(c - '0');
    ++digits;
  }
  if (digits == 0 || fields < 1 || fields > 2)
    return false;
  id = first;
  ms = second;
  return true;
}

} // namespace

caf::expected<std::vector<std::string>>
prune_snapshots(file_system& fs, const std::string& directory, size_t keep,
                const std::string& just_written) {
  // Oldest first: by request time (IDs restart with each coordinator run),
  // then by ID (overlapping requests within one millisecond).
  std::vector<std::tuple<uint64_t, uint64_t, std::string>> files;
  std::error_code ec;
  std::filesystem::directory_iterator i{directory, ec};
  if (ec)
    return make_error(errc::storage_failed,
                      directory + ": cannot list: " + ec.message());
  for (; i != std::filesystem::directory_iterator{}; i.increment(ec)) {
    if (ec)
      return make_error(errc::storage_failed,
                        directory + ": cannot list: " + ec.message());
    uint64_t id = 0;
    uint64_t ms = 0;
    auto name = i->path().filename().string();
    if (parse_snapshot_name(name, id, ms) && i->is_regular_file(ec))
      files.emplace_back(ms, id, i->path().string());
  }
  std::vector<std::string> removed;
  if (files.size() <= keep)
    return removed;
  std::sort(files.begin(), files.end());
  auto excess = files.size() - keep;
  for (auto& file : files) {
    if (excess == 0)
      break;
    auto& path = std::get<2>(file);
    if (path == just_written)
      continue;
    if (auto err = fs.unlink(path); err != 0 && err != ENOENT)
      return make_error(errc::storage_failed,
                        path + ": cannot remove: " + errno_text(err));
    removed.push_back(path);
    --excess;
  }
  return removed;
}

} // namespace caf::snapshot::detail
