// caf-snapshot diff A B: what changed between two snapshots of one system:
// actors added and gone, changed states, and how the mailboxes grew.
//
// Linear in actors and messages of both files (hash indexes built once)
// plus one partial sort per section for what is shown.

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "caf/snapshot/global_snapshot.hpp"

#include "actor_labels.hpp"
#include "args.hpp"
#include "command.hpp"
#include "format.hpp"
#include "load_or_report.hpp"
#include "mailbox_counts.hpp"
#include "snapshot_index.hpp"

namespace caf_snapshot_tool {
namespace {

namespace cs = caf::snapshot;

constexpr const char* help_text
  = R"(Usage: caf-snapshot diff A B [--limit N] [--all]

Compares two snapshot files, usually of the same actor system with A taken
before B. Actors are matched by node and ID and named ID(NAME@NODE).
Prints:
  1. a summary line: actors in A and in B, how many were added, are gone
     and changed, and the messages in flight in A and in B;
  2. which snapshots were compared (ID, request time, complete or not);
  3. added actors (recorded in B but not in A) and gone actors (recorded
     in A but not in B), by node and ID;
  4. changed actors (their state bytes or their status differ), by node
     and ID, with the readable state before and after;
  5. mailbox growth: for each actor whose number of waiting messages (the
     messages in flight to it) changed, the number in A and in B by
     location (queue, urgent, stash, clock, wire), largest growth first.

Options:
  --limit N   Show at most N actors per section (default 20); a line says
              how many were omitted
  --all       Show everything: no limits, texts are not shortened
              (otherwise states are cut after 1000 bytes)
  -h, --help  Show this help

Exit codes: 0 the files were compared (differences are no error), 1 a file
is missing or damaged (one line on stderr), 2 wrong usage.
)";

constexpr size_t default_limit = 20;
constexpr size_t default_text_limit = 1000;
constexpr size_t unlimited = std::numeric_limits<size_t>::max();

struct options {
  std::string file_a;
  std::string file_b;
  size_t limit = default_limit;
  size_t text_limit = default_text_limit;
};

options parse_options(const parsed_args& parsed) {
  options result;
  auto& files = parsed.positionals;
  if (files.size() < 2)
    throw usage_error(files.empty() ? "missing snapshot files A and B"
                                    : "missing second snapshot file B");
  if (files.size() > 2)
    throw usage_error("expects exactly two snapshot files A and B, got '"
                      + files[2] + "' as well");
  result.file_a = files[0];
  result.file_b = files[1];
  if (auto limit = parsed.last("limit")) {
    auto n = parse_uint(*limit, "--limit");
    result.limit = n > unlimited ? unlimited : static_cast<size_t>(n);
  }
  if (parsed.has("all")) {
    result.limit = unlimited;
    result.text_limit = unlimited;
  }
  return result;
}

using actor_map
  = std::unordered_map<actor_key, const cs::actor_record*, actor_key_hash>;

// Indexes the records of `snap` by key; the first of duplicates wins.
actor_map map_actors(const cs::global_snapshot& snap) {
  actor_map result;
  result.reserve(snap.actors.size());
  for (auto& a : snap.actors)
    result.emplace(actor_key{a.node, a.id}, &a);
  return result;
}

actor_key key_of(const cs::actor_record& x) {
  return actor_key{x.node, x.id};
}

// An actor recorded in both snapshots whose state or status changed.
struct change {
  const cs::actor_record* before;
  const cs::actor_record* after;
};

// The messages waiting for one actor in both snapshots.
struct growth {
  actor_key to;
  location_counts before{};
  location_counts after{};

  int64_t delta() const {
    return static_cast<int64_t>(total(after))
           - static_cast<int64_t>(total(before));
  }
};

class differ {
public:
  differ(const cs::global_snapshot& a, const cs::global_snapshot& b,
         const options& opts)
    : a_(a), b_(b), opts_(opts), labels_(opts.text_limit) {
    labels_.add(b);
    labels_.add(a);
    compare_actors();
    compare_mailboxes();
  }

  void print() {
    out_ << "actors " << a_.actors.size() << " -> " << b_.actors.size() << ": "
         << added_.size() << " added, " << gone_.size() << " gone, "
         << changed_.size() << " changed; in flight " << a_.in_flight.size()
         << " -> " << b_.in_flight.size() << '\n';
    describe("A", a_, opts_.file_a);
    describe("B", b_, opts_.file_b);
    if (a_.coordinator_node != b_.coordinator_node)
      out_ << "note: the snapshots come from different coordinators\n";
    print_actors("added", added_);
    print_actors("gone", gone_);
    print_changes();
    print_growth();
  }

private:
  void compare_actors() {
    auto in_a = map_actors(a_);
    auto in_b = map_actors(b_);
    for (auto& x : b_.actors) {
      auto i = in_b.find(key_of(x));
      if (i->second == &x && in_a.count(i->first) == 0)
        added_.push_back(&x);
    }
    for (auto& x : a_.actors) {
      auto key = key_of(x);
      if (in_a[key] != &x)
        continue;
      auto i = in_b.find(key);
      if (i == in_b.end())
        gone_.push_back(&x);
      else if (x.state != i->second->state || x.status != i->second->status
               || x.exit_reason != i->second->exit_reason)
        changed_.push_back(change{&x, i->second});
    }
  }

  void compare_mailboxes() {
    auto before = count_mailboxes(a_);
    auto after = count_mailboxes(b_);
    for (auto& [to, counts] : before) {
      growth x{to, counts, {}};
      if (auto i = after.find(to); i != after.end())
        x.after = i->second;
      if (x.delta() != 0)
        growth_.push_back(x);
    }
    for (auto& [to, counts] : after)
      if (before.count(to) == 0)
        growth_.push_back(growth{to, {}, counts});
  }

  void describe(const char* which, const cs::global_snapshot& snap,
                const std::string& file) {
    out_ << which << ": snapshot " << snap.id << ", requested "
         << iso_time(snap.requested_at_ms) << ", ";
    if (snap.complete)
      out_ << "complete";
    else
      out_ << "incomplete (" << text(snap.incomplete_reason) << ')';
    out_ << ": " << text(file) << '\n';
  }

  std::string text(std::string_view str) const {
    return printable(str, opts_.text_limit);
  }

  std::string state_of(const cs::actor_record& x) const {
    return x.state_text.empty() ? std::string{"(none)"} : text(x.state_text);
  }

  // Prints the section header and returns how many entries to show.
  size_t header(const char* title, size_t n, const char* order) {
    out_ << '\n' << title;
    if (n == 0) {
      out_ << ": none\n";
      return 0;
    }
    out_ << " (" << plural(n, "actor") << ", " << order << "):\n";
    return std::min(opts_.limit, n);
  }

  void omitted(size_t n) {
    if (n > 0)
      out_ << "  ... " << plural(n, "actor")
           << " omitted (--limit N or --all shows more)\n";
  }

  void print_actors(const char* title,
                    std::vector<const cs::actor_record*>& xs) {
    auto shown = header(title, xs.size(), "by node and ID");
    std::partial_sort(xs.begin(), xs.begin() + shown, xs.end(),
                      [](auto x, auto y) { return key_of(*x) < key_of(*y); });
    for (size_t i = 0; i < shown; ++i) {
      auto& x = *xs[i];
      out_ << "  " << labels_(key_of(x));
      if (x.status == cs::actor_status::exited)
        out_ << ", exited (" << text(x.exit_reason) << ')';
      out_ << '\n';
    }
    omitted(xs.size() - shown);
  }

  void print_changes() {
    auto shown = header("changed", changed_.size(), "by node and ID");
    std::partial_sort(changed_.begin(), changed_.begin() + shown,
                      changed_.end(), [](const change& x, const change& y) {
                        return key_of(*x.before) < key_of(*y.before);
                      });
    for (size_t i = 0; i < shown; ++i) {
      auto& [before, after] = changed_[i];
      out_ << "  " << labels_(key_of(*before)) << '\n';
      if (before->status != after->status
          || before->exit_reason != after->exit_reason) {
        auto status = [this](const cs::actor_record& x) {
          auto result = cs::to_string(x.status);
          if (x.status == cs::actor_status::exited)
            result += " (" + text(x.exit_reason) + ')';
          return result;
        };
        out_ << "    status: " << status(*before) << " -> " << status(*after)
             << '\n';
      }
      if (before->state == after->state)
        continue;
      out_ << "    before: " << state_of(*before) << '\n';
      out_ << "    after:  " << state_of(*after) << '\n';
      if (before->state_text == after->state_text)
        out_ << "    (the readable states are equal, the state bytes are "
                "not)\n";
    }
    omitted(changed_.size() - shown);
  }

  void print_growth() {
    auto shown = header("mailbox growth", growth_.size(),
                        "largest growth first");
    std::partial_sort(growth_.begin(), growth_.begin() + shown, growth_.end(),
                      [](const growth& x, const growth& y) {
                        auto dx = x.delta();
                        auto dy = y.delta();
                        return dx != dy ? dx > dy : x.to < y.to;
                      });
    for (size_t i = 0; i < shown; ++i) {
      auto& x = growth_[i];
      auto delta = x.delta();
      out_ << "  " << labels_(x.to) << ": " << total(x.before) << " -> "
           << total(x.after) << " (" << (delta > 0 ? "+" : "") << delta << ')';
      const char* sep = "; ";
      for (size_t loc = 0; loc < num_locations; ++loc) {
        if (x.before[loc] == 0 && x.after[loc] == 0)
          continue;
        out_ << sep << cs::to_string(static_cast<cs::message_location>(loc))
             << ' ' << x.before[loc] << " -> " << x.after[loc];
        sep = ", ";
      }
      out_ << '\n';
    }
    omitted(growth_.size() - shown);
  }

  const cs::global_snapshot& a_;
  const cs::global_snapshot& b_;
  const options& opts_;
  actor_labels labels_;
  std::ostream& out_ = std::cout;
  std::vector<const cs::actor_record*> added_;
  std::vector<const cs::actor_record*> gone_;
  std::vector<change> changed_;
  std::vector<growth> growth_;
};

int run(const std::vector<std::string>& args) {
  auto parsed = parse_args(args, {{"limit", true}, {"all", false}});
  if (parsed.help) {
    std::cout << help_text;
    return exit_ok;
  }
  auto opts = parse_options(parsed);
  auto a = load_or_report(opts.file_a);
  if (!a)
    return exit_bad_file;
  auto b = load_or_report(opts.file_b);
  if (!b)
    return exit_bad_file;
  differ{*a, *b, opts}.print();
  return exit_ok;
}

} // namespace

const command diff_command{
  "diff",
  "Compare two snapshots: actors added and gone, states, mailbox growth",
  help_text,
  run,
};

} // namespace caf_snapshot_tool
