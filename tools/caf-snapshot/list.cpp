// caf-snapshot list DIR: one line per snapshot file, sorted by ID.

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "caf/snapshot/errc.hpp"
#include "caf/snapshot/load.hpp"

#include "args.hpp"
#include "command.hpp"
#include "format.hpp"

namespace fs = std::filesystem;

namespace caf_snapshot_tool {
namespace {

constexpr const char* help_text = R"(Usage: caf-snapshot list DIR

Lists the snapshot files (*.cafsnap) in directory DIR, one line per file,
sorted by snapshot ID (then by request time and name). Files whose names
start with a dot, such as the temporary files of snapshots in progress, are
skipped. Each file is read completely and verified.

Columns:
  ID         snapshot ID (sequence number at the coordinator)
  TIME       request time in UTC (ISO-8601)
  NODES      number of distinct nodes of the recorded actors
  ACTORS     number of participants recorded
  IN-FLIGHT  number of messages in flight at the cut
  SIZE       file size
  STATUS     complete, incomplete or damaged
  FILE       path of the file; damaged files are followed by their error

Damaged or unreadable files are listed with their error instead of stopping
the listing. ID and TIME of a damaged file are taken from its name.

Options:
  -h, --help   Show this help

Exit codes: 0 every file was read, 1 DIR cannot be read or some file is
damaged (one line on stderr says how many), 2 wrong usage.
)";

struct row {
  // Sort key.
  bool has_id = false;
  uint64_t id = 0;
  uint64_t requested_at_ms = 0;
  std::string file;
  // Cells.
  std::string time = "-";
  std::string nodes = "-";
  std::string actors = "-";
  std::string in_flight = "-";
  std::string size = "-";
  std::string status;
  std::string error;
};

// Parses a decimal number; false if `str` is empty, not decimal or too big.
bool parse_number(std::string_view str, uint64_t& out) {
  if (str.empty() || str.size() > 19)
    return false;
  uint64_t x = 0;
  for (auto c : str) {
    if (c < '0' || c > '9')
      return false;
    x = x * 10 + static_cast<uint64_t>(c - '0');
  }
  out = x;
  return true;
}

// Takes ID and request time from `snapshot-<id>-<ms>[-<n>].cafsnap`.
void parse_file_name(std::string_view name, row& r) {
  constexpr std::string_view prefix = "snapshot-";
  constexpr std::string_view suffix = ".cafsnap";
  if (name.size() < prefix.size() + suffix.size()
      || name.substr(0, prefix.size()) != prefix)
    return;
  name.remove_prefix(prefix.size());
  name.remove_suffix(suffix.size());
  auto dash = name.find('-');
  if (dash == std::string_view::npos)
    return;
  auto rest = name.substr(dash + 1);
  auto ms_str = rest.substr(0, rest.find('-'));
  uint64_t id = 0;
  uint64_t ms = 0;
  if (!parse_number(name.substr(0, dash), id) || !parse_number(ms_str, ms))
    return;
  r.has_id = true;
  r.id = id;
  r.requested_at_ms = ms;
  r.time = iso_time(ms);
}

bool is_snapshot_name(const std::string& name) {
  constexpr std::string_view suffix = ".cafsnap";
  return !name.empty() && name[0] != '.' && name.size() > suffix.size()
         && std::string_view{name}.substr(name.size() - suffix.size())
              == suffix;
}

row make_row(const fs::path& path) {
  row r;
  r.file = path.string();
  std::error_code ec;
  auto bytes = fs::file_size(path, ec);
  if (!ec)
    r.size = human_size(bytes);
  auto snap = caf::snapshot::load(r.file);
  if (!snap) {
    parse_file_name(path.filename().string(), r);
    r.status = "damaged";
    r.error = printable(caf::snapshot::render(snap.error()));
    return r;
  }
  r.has_id = true;
  r.id = snap->id;
  r.requested_at_ms = snap->requested_at_ms;
  r.time = iso_time(snap->requested_at_ms);
  std::unordered_set<std::string_view> nodes;
  for (auto& a : snap->actors)
    nodes.insert(a.node);
  r.nodes = std::to_string(nodes.size());
  r.actors = std::to_string(snap->actors.size());
  r.in_flight = std::to_string(snap->in_flight.size());
  r.status = snap->complete ? "complete" : "incomplete";
  return r;
}

int run(const std::vector<std::string>& args) {
  auto parsed = parse_args(args, {});
  if (parsed.help) {
    std::cout << help_text;
    return exit_ok;
  }
  if (parsed.positionals.size() != 1)
    throw usage_error(parsed.positionals.empty()
                        ? "missing directory argument DIR"
                        : "expects exactly one directory DIR");
  const auto& dir = parsed.positionals[0];
  auto cannot_read = [&](const std::string& reason) {
    auto err = caf::snapshot::make_error(caf::snapshot::errc::cannot_open,
                                         dir + ": " + reason);
    std::cerr << printable(caf::snapshot::render(err)) << std::endl;
    return exit_bad_file;
  };
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return cannot_read(ec ? ec.message() : "not a directory");
  std::vector<fs::path> files;
  for (fs::directory_iterator it{dir, ec}, end; !ec && it != end;
       it.increment(ec)) {
    auto name = it->path().filename().string();
    std::error_code dir_ec;
    if (is_snapshot_name(name) && !it->is_directory(dir_ec))
      files.push_back(it->path());
  }
  if (ec)
    return cannot_read(ec.message());
  std::vector<row> rows;
  rows.reserve(files.size());
  for (auto& path : files)
    rows.push_back(make_row(path)); // one snapshot in memory at a time
  std::sort(rows.begin(), rows.end(), [](const row& x, const row& y) {
    auto key = [](const row& r) {
      return std::make_tuple(!r.has_id, r.id, r.requested_at_ms,
                             std::string_view{r.file});
    };
    return key(x) < key(y);
  });
  if (rows.empty()) {
    std::cout << "no snapshot files in " << printable(dir) << '\n';
    return exit_ok;
  }
  // Columns; all but the last are padded, numbers right-aligned.
  std::vector<std::string> header{"ID",        "TIME", "NODES",  "ACTORS",
                                  "IN-FLIGHT", "SIZE", "STATUS", "FILE"};
  std::vector<bool> right{true, false, true, true, true, true, false, false};
  auto cells = [](const row& r) {
    return std::vector<std::string>{r.has_id ? std::to_string(r.id) : "?",
                                    r.time,
                                    r.nodes,
                                    r.actors,
                                    r.in_flight,
                                    r.size,
                                    r.status,
                                    printable(r.file)};
  };
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i)
    width[i] = header[i].size();
  for (auto& r : rows) {
    auto xs = cells(r);
    for (size_t i = 0; i < xs.size(); ++i)
      width[i] = std::max(width[i], xs[i].size());
  }
  auto print = [&](const std::vector<std::string>& xs,
                   const std::string& trailer) {
    std::string line;
    for (size_t i = 0; i < xs.size(); ++i) {
      if (i > 0)
        line += "  ";
      auto pad = std::string(width[i] - xs[i].size(), ' ');
      if (i + 1 == xs.size())
        line += xs[i];
      else if (right[i])
        line += pad + xs[i];
      else
        line += xs[i] + pad;
    }
    if (!trailer.empty())
      line += "  " + trailer;
    std::cout << line << '\n';
  };
  print(header, "");
  size_t damaged = 0;
  for (auto& r : rows) {
    print(cells(r), r.error);
    if (!r.error.empty())
      ++damaged;
  }
  if (damaged > 0) {
    std::cout.flush();
    std::cerr << "caf-snapshot list: " << damaged << " of "
              << plural(rows.size(), "snapshot file")
              << (damaged == 1 ? " is" : " are")
              << " damaged or unreadable (see the listing)" << std::endl;
    return exit_bad_file;
  }
  return exit_ok;
}

} // namespace

const command list_command{
  "list",
  "List the snapshot files of a directory, sorted by ID",
  help_text,
  run,
};

} // namespace caf_snapshot_tool
