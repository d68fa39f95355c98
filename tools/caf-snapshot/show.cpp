// caf-snapshot show FILE: summary, actors with their waiting messages, and
// channel counts of one snapshot, as text (here) or as JSON with --json
// (show_json.cpp).
//
// Every pass over actors and messages is linear (the indexes of
// snapshot_index are built once) plus one partial sort of what is shown, so
// snapshots with 100,000 actors and millions of messages print quickly.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "caf/message_id.hpp"

#include "caf/snapshot/global_snapshot.hpp"

#include "args.hpp"
#include "command.hpp"
#include "format.hpp"
#include "load_or_report.hpp"
#include "show.hpp"
#include "snapshot_index.hpp"

namespace caf_snapshot_tool {
namespace {

namespace cs = caf::snapshot;

constexpr const char* help_text
  = R"(Usage: caf-snapshot show FILE [--actor ID] [--node NODE] [--limit N] [--all]
                         [--json]

Prints one snapshot file:
  1. a summary: ID, coordinator node, request and completion time, duration,
     whether it is complete, number of actors and nodes, and the messages in
     flight by location (queue, urgent, stash, clock, wire);
  2. the actors, sorted by node and ID: node, name, status (with exit
     reason), readable state, number of pending requests, and the messages
     waiting for the actor with their location and text;
  3. the channels (sender -> receiver) with the number of messages in
     flight on each, busiest first.

Options:
  --actor ID    Show only actors with this ID (repeatable, or a comma list:
                --actor 5,7). Channels are shown if either end matches.
  --node NODE   Show only actors of this node; NODE may be a prefix of the
                node string (repeatable)
  --limit N     Show at most N actors, N messages per actor, N nodes and N
                channels (default 20); a line says how many were omitted
  --all         Show everything: no limits, texts are not shortened
                (otherwise states and messages are cut after 1000 bytes)
  --json        Print the same content as one JSON document (schema
                "caf-snapshot/show", version 1, described in docs/json.md);
                the limits above apply to it as well
  -h, --help    Show this help

Exit codes: 0 success, 1 the file is missing or damaged (one line on
stderr), 2 wrong usage.
)";

// -- options ------------------------------------------------------------------

show_options parse_options(const parsed_args& parsed) {
  show_options result;
  if (parsed.positionals.empty())
    throw usage_error("missing snapshot FILE");
  if (parsed.positionals.size() > 1)
    throw usage_error("expects exactly one snapshot FILE, got '"
                      + parsed.positionals[1] + "' as well");
  result.file = parsed.positionals[0];
  result.select = selection::from(parsed);
  if (auto limit = parsed.last("limit")) {
    auto n = parse_uint(*limit, "--limit");
    result.limit = n > show_unlimited ? show_unlimited : static_cast<size_t>(n);
  }
  if (parsed.has("all")) {
    result.limit = show_unlimited;
    result.text_limit = show_unlimited;
  }
  result.json = parsed.has("json");
  return result;
}

// -- printing -----------------------------------------------------------------

class printer {
public:
  printer(const snapshot_index& idx, const show_options& opts)
    : idx_(idx), snap_(idx.snapshot()), opts_(opts), out_(std::cout) {
    // nop
  }

  void print() {
    print_summary();
    print_actors();
    print_channels();
  }

private:
  // Renders an actor as `ID` (one node in the snapshot) or `ID@NODE`.
  std::string ref(caf::actor_id id, std::string_view node) const {
    if (id == 0 && node.empty())
      return "anonymous";
    auto result = std::to_string(id);
    if (!idx_.single_node()) {
      result += '@';
      result += printable(node, opts_.text_limit);
    }
    return result;
  }

  std::string text(std::string_view str) const {
    return printable(str, opts_.text_limit);
  }

  // Prints the note about omitted items, if any.
  void omitted(size_t n, std::string_view noun, std::string_view indent) {
    if (n > 0)
      out_ << indent << "... " << plural(n, noun)
           << " omitted (--limit N or --all shows more)\n";
  }

  void print_summary() {
    auto& s = snap_;
    auto& nodes = idx_.nodes();
    out_ << "snapshot " << s.id << '\n';
    out_ << "  file:         " << text(opts_.file);
    std::error_code ec;
    auto bytes = std::filesystem::file_size(opts_.file, ec);
    if (!ec)
      out_ << " (" << plural(bytes, "byte") << ')';
    out_ << '\n';
    out_ << "  coordinator:  " << text(s.coordinator_node) << '\n';
    out_ << "  requested:    " << iso_time(s.requested_at_ms) << '\n';
    out_ << "  completed:    " << iso_time(s.completed_at_ms) << '\n';
    out_ << "  duration:     ";
    if (s.completed_at_ms >= s.requested_at_ms)
      out_ << (s.completed_at_ms - s.requested_at_ms) << " ms\n";
    else
      out_ << "unknown (completed before requested)\n";
    out_ << "  complete:     ";
    if (s.complete)
      out_ << "yes\n";
    else
      out_ << "no (" << text(s.incomplete_reason) << ")\n";
    out_ << "  actors:       " << s.actors.size() << " on "
         << plural(nodes.size(), "node") << '\n';
    out_ << "  in flight:    " << s.in_flight.size() << " (";
    for (size_t i = 0; i < num_locations; ++i)
      out_ << (i > 0 ? ", " : "")
           << cs::to_string(static_cast<cs::message_location>(i)) << ' '
           << idx_.by_location()[i];
    out_ << "; " << idx_.external() << " external)\n";
    if (idx_.unrecorded_receivers() > 0)
      out_ << "  to actors not recorded: "
           << plural(idx_.unrecorded_receivers(), "message") << '\n';
    if (nodes.size() > 1) {
      out_ << "  nodes:\n";
      auto shown = std::min(opts_.limit, nodes.size());
      for (size_t i = 0; i < shown; ++i)
        out_ << "    " << text(nodes[i]) << ": "
             << plural(idx_.actors_on(nodes[i]), "actor") << '\n';
      omitted(nodes.size() - shown, "node", "    ");
    }
  }

  void print_actors() {
    auto& sel = opts_.select;
    std::vector<size_t> selected;
    for (size_t i = 0; i < snap_.actors.size(); ++i)
      if (sel.matches(snap_.actors[i].id, snap_.actors[i].node))
        selected.push_back(i);
    auto shown = std::min(opts_.limit, selected.size());
    auto key = [this](size_t i) {
      return actor_key{snap_.actors[i].node, snap_.actors[i].id};
    };
    std::partial_sort(selected.begin(), selected.begin() + shown,
                      selected.end(),
                      [&](size_t x, size_t y) { return key(x) < key(y); });
    out_ << '\n';
    if (sel.filtered()) {
      if (selected.empty()) {
        out_ << "actors: none of " << snap_.actors.size()
             << " matches --actor/--node\n";
        return;
      }
      out_ << "actors (" << selected.size() << " of " << snap_.actors.size()
           << " match --actor/--node, " << shown << " shown):\n";
    } else {
      out_ << "actors (" << shown << " of " << snap_.actors.size()
           << " shown, by node and ID):\n";
    }
    for (size_t i = 0; i < shown; ++i)
      print_actor(snap_.actors[selected[i]]);
    if (selected.size() > shown)
      out_ << '\n';
    omitted(selected.size() - shown, "actor", "");
  }

  void print_actor(const cs::actor_record& a) {
    out_ << "\nactor " << a.id << " @ " << text(a.node) << '\n';
    out_ << "  name:      " << text(a.name) << '\n';
    out_ << "  status:    " << cs::to_string(a.status);
    if (a.status == cs::actor_status::exited)
      out_ << " (" << text(a.exit_reason) << ')';
    out_ << '\n';
    out_ << "  state:     "
         << (a.state_text.empty() ? std::string{"(none)"} : text(a.state_text))
         << '\n';
    out_ << "  requests:  " << a.pending_requests.size() << " pending\n";
    auto& msgs = idx_.waiting(actor_key{a.node, a.id});
    out_ << "  messages:  " << msgs.size() << " waiting\n";
    auto shown = std::min(opts_.limit, msgs.size());
    for (size_t i = 0; i < shown; ++i)
      print_message(snap_.in_flight[msgs[i]]);
    omitted(msgs.size() - shown, "message", "    ");
  }

  void print_message(const cs::message_record& m) {
    out_ << "    [" << cs::to_string(m.location) << "] from "
         << ref(m.sender, m.sender_node);
    std::vector<std::string> notes;
    if (!m.from_participant)
      notes.emplace_back("external");
    if (m.priority != 0 && m.location != cs::message_location::urgent)
      notes.emplace_back("high priority");
    caf::message_id mid{m.mid};
    auto request_id = request_number(m.mid);
    if (mid.is_response())
      notes.emplace_back("response to request " + std::to_string(request_id));
    else if (mid.is_request())
      notes.emplace_back("request " + std::to_string(request_id));
    if (m.content.empty())
      notes.emplace_back("content not serializable");
    if (!notes.empty()) {
      out_ << " (";
      for (size_t i = 0; i < notes.size(); ++i)
        out_ << (i > 0 ? ", " : "") << notes[i];
      out_ << ')';
    }
    out_ << ": " << text(m.text) << '\n';
  }

  void print_channels() {
    auto filtered = opts_.select.filtered();
    auto channels = idx_.channels(opts_.select);
    auto shown = std::min(opts_.limit, channels.size());
    out_ << '\n';
    if (channels.empty()) {
      out_ << "channels: no messages in flight"
           << (filtered ? " to or from the matching actors\n" : "\n");
      return;
    }
    out_ << "channels (" << shown << " of " << channels.size() << " shown"
         << (filtered ? ", to or from the matching actors" : "")
         << ", sender -> receiver, busiest first):\n";
    for (size_t i = 0; i < shown; ++i) {
      auto& ch = channels[i];
      auto n = ch.messages.size();
      out_ << "  " << ref(ch.from.id, ch.from.node) << " -> "
           << ref(ch.to.id, ch.to.node) << ": " << plural(n, "message");
      if (ch.external == n)
        out_ << " (external)";
      else if (ch.external > 0)
        out_ << " (" << ch.external << " external)";
      out_ << '\n';
    }
    omitted(channels.size() - shown, "channel", "  ");
  }

  const snapshot_index& idx_;
  const cs::global_snapshot& snap_;
  const show_options& opts_;
  std::ostream& out_;
};

int run(const std::vector<std::string>& args) {
  auto parsed = parse_args(args, {{"actor", true},
                                  {"node", true},
                                  {"limit", true},
                                  {"all", false},
                                  {"json", false}});
  if (parsed.help) {
    std::cout << help_text;
    return exit_ok;
  }
  auto opts = parse_options(parsed);
  auto snap = load_or_report(opts.file);
  if (!snap)
    return exit_bad_file;
  snapshot_index idx{*snap};
  if (opts.json)
    print_show_json(idx, opts, std::cout);
  else
    printer{idx, opts}.print();
  return exit_ok;
}

} // namespace

const command show_command{
  "show",
  "Print a snapshot: summary, actors, waiting messages, channels",
  help_text,
  run,
};

} // namespace caf_snapshot_tool
