// caf-snapshot check FILE: looks for the usual reasons of a stuck actor
// system in one snapshot (deadlocked requests, full queues, stashed
// messages) and prints one line per finding.
//
// Linear in actors and messages: one wait-for graph, one count of every
// mailbox and one pass for the texts of the stashed messages shown.

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "caf/snapshot/global_snapshot.hpp"

#include "actor_labels.hpp"
#include "args.hpp"
#include "command.hpp"
#include "format.hpp"
#include "load_or_report.hpp"
#include "mailbox_counts.hpp"
#include "wait_for_graph.hpp"

namespace caf_snapshot_tool {
namespace {

namespace cs = caf::snapshot;

constexpr const char* help_text
  = R"(Usage: caf-snapshot check FILE [--max-waiting N] [--max-stash N]

Looks for problems in one snapshot file and prints one line per finding,
grouped in this order, then a summary line ("no problems found" or
"N problem(s) found"):

  deadlock: A(NAME@NODE) -> B(NAME@NODE) -> A(NAME@NODE) (requests ...)
      A cycle of pending requests: each actor awaits the response to a
      request it sent to the next one. The receiver of a request is taken
      from the actor's record or, in files that do not name receivers
      (format version 1), from the request message while it is still in
      flight. Each group of actors waiting for each other (a strongly
      connected component of the wait-for graph) is one finding: a
      shortest cycle through it, the request IDs of each arrow, and the
      other actors of the group.
  possible deadlock: B(...) -> A(...) -> ?
      B's request waits unhandled in A's mailbox while A itself awaits
      responses to requests whose receiver is unknown.
  waiting: A(...) has N messages waiting (queue Q, urgent U)
      More than --max-waiting messages in the actor's queues.
  stash: A(...) has N stashed messages; oldest: TEXT from SENDER; ...
      More than --max-stash messages that the actor skipped (or put aside
      while awaiting a response), with the oldest three.
  warning: ...
      No problem in itself, but it limits what the check can see: an
      incomplete snapshot, or pending requests whose receiver is unknown.

Actors are named ID(NAME@NODE); NAME is ? for actors not in the snapshot.

Options:
  --max-waiting N  Report actors with more than N messages in their queue
                   and urgent queue (default 1000)
  --max-stash N    Report actors with more than N stashed messages
                   (default 0: any stashed message is reported)
  -h, --help       Show this help

Exit codes: 0 no problems found (warnings allowed), 1 problems found or
the file is missing or damaged (then one line on stderr), 2 wrong usage.
)";

/// The exit code for "problems found" (documented in the help text).
constexpr int exit_problems = 1;

/// Number of stashed messages shown per actor.
constexpr size_t stash_texts = 3;

/// Bytes shown of each stashed message.
constexpr size_t stash_text_limit = 100;

/// Request numbers listed per finding.
constexpr size_t requests_shown = 5;

struct options {
  std::string file;
  uint64_t max_waiting = 1000;
  uint64_t max_stash = 0;
};

options parse_options(const parsed_args& parsed) {
  options result;
  if (parsed.positionals.empty())
    throw usage_error("missing snapshot FILE");
  if (parsed.positionals.size() > 1)
    throw usage_error("expects exactly one snapshot FILE, got '"
                      + parsed.positionals[1] + "' as well");
  result.file = parsed.positionals[0];
  if (auto n = parsed.last("max-waiting"))
    result.max_waiting = parse_uint(*n, "--max-waiting");
  if (auto n = parsed.last("max-stash"))
    result.max_stash = parse_uint(*n, "--max-stash");
  return result;
}

// Renders request numbers: "3", "3/5", or "1/2/3/4/5/... (9 in all)".
std::string request_list(const std::vector<uint64_t>& xs) {
  std::string result;
  for (size_t i = 0; i < xs.size() && i < requests_shown; ++i) {
    if (i > 0)
      result += '/';
    result += std::to_string(xs[i]);
  }
  if (xs.size() > requests_shown)
    result += "/... (" + std::to_string(xs.size()) + " in all)";
  return result;
}

class checker {
public:
  checker(const cs::global_snapshot& snap, const options& opts)
    : snap_(snap), opts_(opts), graph_(snap), out_(std::cout) {
    labels_.add(snap);
    for (auto& x : graph_.unresolved())
      unresolved_[x.from].push_back(x.request);
  }

  /// Prints every finding and the summary; returns the exit code.
  int run() {
    check_deadlocks();
    check_mailboxes();
    warn();
    if (problems_ == 0)
      out_ << "no problems found";
    else
      out_ << plural(problems_, "problem") << " found";
    if (warnings_ > 0)
      out_ << " (" << plural(warnings_, "warning") << ')';
    out_ << '\n';
    return problems_ > 0 ? exit_problems : exit_ok;
  }

private:
  void problem(const std::string& line) {
    out_ << line << '\n';
    ++problems_;
  }

  void warning(const std::string& line) {
    out_ << "warning: " << line << '\n';
    ++warnings_;
  }

  void check_deadlocks() {
    // The index of the deadlock of each actor in one.
    std::unordered_map<actor_key, size_t, actor_key_hash> member_of;
    auto deadlocks = graph_.deadlocks();
    for (size_t i = 0; i < deadlocks.size(); ++i) {
      auto& d = deadlocks[i];
      std::string line = "deadlock: ";
      std::string requests;
      for (size_t j = 0; j < d.cycle.size(); ++j) {
        member_of[d.cycle[j]] = i;
        line += labels_(d.cycle[j]) + " -> ";
        if (j > 0)
          requests += ", ";
        requests += request_list(d.requests[j]);
      }
      line += labels_(d.cycle.front());
      line += d.cycle.size() == 1 ? " (request " : " (requests per arrow: ";
      line += requests + ')';
      if (!d.others.empty()) {
        line += "; also deadlocked with them: ";
        for (size_t j = 0; j < d.others.size(); ++j) {
          member_of[d.others[j]] = i;
          line += (j > 0 ? ", " : "") + labels_(d.others[j]);
        }
      }
      problem(line);
    }
    // A request waiting unhandled at an actor that awaits unknown receivers.
    for (auto& e : graph_.edges()) {
      if (!e.location || *e.location == cs::message_location::clock
          || *e.location == cs::message_location::wire)
        continue;
      auto blocked = unresolved_.find(e.to);
      if (blocked == unresolved_.end())
        continue;
      if (auto i = member_of.find(e.from), j = member_of.find(e.to);
          i != member_of.end() && j != member_of.end()
          && i->second == j->second)
        continue;
      auto& awaits = blocked->second;
      problem("possible deadlock: " + labels_(e.from) + " -> " + labels_(e.to)
              + " -> ?: request " + std::to_string(e.request) + " of "
              + std::to_string(e.from.id) + " waits in the "
              + cs::to_string(*e.location) + " of " + std::to_string(e.to.id)
              + ", which awaits "
              + (awaits.size() == 1 ? "request " : "requests ")
              + request_list(awaits) + " with unknown receiver");
    }
  }

  void check_mailboxes() {
    using entry = std::pair<actor_key, location_counts>;
    std::vector<entry> waiting;
    std::vector<entry> stashed;
    auto queue = location_index(cs::message_location::queue);
    auto urgent = location_index(cs::message_location::urgent);
    auto stash = location_index(cs::message_location::stash);
    for (auto& [to, counts] : count_mailboxes(snap_)) {
      if (counts[queue] + counts[urgent] > opts_.max_waiting)
        waiting.emplace_back(to, counts);
      if (counts[stash] > opts_.max_stash)
        stashed.emplace_back(to, counts);
    }
    // Largest first, then by node and ID.
    auto sort_by = [](std::vector<entry>& xs, auto count) {
      std::sort(xs.begin(), xs.end(), [&](const entry& x, const entry& y) {
        auto nx = count(x.second);
        auto ny = count(y.second);
        return nx != ny ? nx > ny : x.first < y.first;
      });
    };
    sort_by(waiting,
            [&](const location_counts& xs) { return xs[queue] + xs[urgent]; });
    sort_by(stashed, [&](const location_counts& xs) { return xs[stash]; });
    for (auto& [to, counts] : waiting)
      problem("waiting: " + labels_(to) + " has "
              + plural(counts[queue] + counts[urgent], "message")
              + " waiting (queue " + std::to_string(counts[queue]) + ", urgent "
              + std::to_string(counts[urgent]) + "), more than "
              + std::to_string(opts_.max_waiting));
    if (stashed.empty())
      return;
    // The oldest stashed messages: the file lists each mailbox in order.
    std::unordered_map<actor_key, std::vector<const cs::message_record*>,
                       actor_key_hash>
      oldest;
    for (auto& x : stashed)
      oldest[x.first];
    for (auto& m : snap_.in_flight) {
      if (m.location != cs::message_location::stash)
        continue;
      auto i = oldest.find(actor_key{m.receiver_node, m.receiver});
      if (i != oldest.end() && i->second.size() < stash_texts)
        i->second.push_back(&m);
    }
    for (auto& [to, counts] : stashed) {
      auto line = "stash: " + labels_(to) + " has "
                  + plural(counts[stash], "stashed message") + "; oldest: ";
      auto& ms = oldest[to];
      for (size_t i = 0; i < ms.size(); ++i) {
        if (i > 0)
          line += "; ";
        line += printable(ms[i]->text, stash_text_limit) + " from "
                + labels_(actor_key{ms[i]->sender_node, ms[i]->sender});
      }
      problem(line);
    }
  }

  void warn() {
    if (!snap_.complete)
      warning("incomplete snapshot ("
              + printable(snap_.incomplete_reason, stash_text_limit)
              + "); actors that did not report are missing from the check");
    if (!unresolved_.empty())
      warning("receivers unknown for "
              + plural(graph_.unresolved().size(), "pending request") + " of "
              + plural(unresolved_.size(), "actor")
              + " (neither recorded nor still in flight): deadlocks through"
                " them cannot be seen");
  }

  const cs::global_snapshot& snap_;
  const options& opts_;
  wait_for_graph graph_;
  actor_labels labels_;
  std::ostream& out_;
  // Unresolved request numbers by actor.
  std::unordered_map<actor_key, std::vector<uint64_t>, actor_key_hash>
    unresolved_;
  size_t problems_ = 0;
  size_t warnings_ = 0;
};

int run(const std::vector<std::string>& args) {
  auto parsed = parse_args(args, {{"max-waiting", true}, {"max-stash", true}});
  if (parsed.help) {
    std::cout << help_text;
    return exit_ok;
  }
  auto opts = parse_options(parsed);
  auto snap = load_or_report(opts.file);
  if (!snap)
    return exit_bad_file;
  return checker{*snap, opts}.run();
}

} // namespace

const command check_command{
  "check",
  "Look for deadlocks, full queues and stashed messages in a snapshot",
  help_text,
  run,
};

} // namespace caf_snapshot_tool
