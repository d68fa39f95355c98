// caf-snapshot show FILE: summary, actors with their waiting messages, and
// channel counts of one snapshot.
//
// Every pass over actors and messages is linear (hash indexes built once)
// plus one partial sort of what is shown, so snapshots with 100,000 actors
// and millions of messages print quickly.

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "caf/message_id.hpp"

#include "caf/snapshot/errc.hpp"
#include "caf/snapshot/global_snapshot.hpp"
#include "caf/snapshot/load.hpp"

#include "args.hpp"
#include "command.hpp"
#include "format.hpp"

namespace caf_snapshot_tool {
namespace {

namespace cs = caf::snapshot;

constexpr const char* help_text
  = R"(Usage: caf-snapshot show FILE [--actor ID] [--node NODE] [--limit N] [--all]

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
  -h, --help    Show this help

Exit codes: 0 success, 1 the file is missing or damaged (one line on
stderr), 2 wrong usage.
)";

constexpr size_t default_limit = 20;
constexpr size_t default_text_limit = 1000;
constexpr size_t unlimited = std::numeric_limits<size_t>::max();

// -- actor keys and indexes ---------------------------------------------------

struct actor_key {
  std::string_view node;
  caf::actor_id id;
  bool operator==(const actor_key& other) const {
    return id == other.id && node == other.node;
  }
  bool operator<(const actor_key& other) const {
    return node != other.node ? node < other.node : id < other.id;
  }
};

size_t hash_combine(size_t seed, size_t x) {
  return seed ^ (x + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2));
}

struct actor_key_hash {
  size_t operator()(const actor_key& x) const {
    return hash_combine(std::hash<std::string_view>{}(x.node),
                        std::hash<caf::actor_id>{}(x.id));
  }
};

struct channel_key {
  actor_key from;
  actor_key to;
  bool operator==(const channel_key& other) const {
    return from == other.from && to == other.to;
  }
};

struct channel_key_hash {
  size_t operator()(const channel_key& x) const {
    actor_key_hash h;
    return hash_combine(h(x.from), h(x.to));
  }
};

struct channel_stats {
  size_t messages = 0;
  size_t external = 0;
};

// -- options ------------------------------------------------------------------

struct options {
  std::string file;
  std::unordered_set<caf::actor_id> actor_ids; // empty: every actor
  std::vector<std::string> nodes;              // empty: every node
  size_t limit = default_limit;
  size_t text_limit = default_text_limit;

  bool filtered() const {
    return !actor_ids.empty() || !nodes.empty();
  }

  bool matches(caf::actor_id id, std::string_view node) const {
    if (!actor_ids.empty() && actor_ids.count(id) == 0)
      return false;
    if (nodes.empty())
      return true;
    for (auto& x : nodes)
      if (node.substr(0, x.size()) == x)
        return true;
    return false;
  }
};

options parse_options(const parsed_args& parsed) {
  options result;
  if (parsed.positionals.empty())
    throw usage_error("missing snapshot FILE");
  if (parsed.positionals.size() > 1)
    throw usage_error("expects exactly one snapshot FILE, got '"
                      + parsed.positionals[1] + "' as well");
  result.file = parsed.positionals[0];
  for (auto& value : parsed.values("actor")) {
    size_t pos = 0;
    do {
      auto comma = value.find(',', pos);
      auto item = value.substr(
        pos, comma == std::string::npos ? std::string::npos : comma - pos);
      result.actor_ids.insert(parse_uint(item, "--actor"));
      pos = comma == std::string::npos ? comma : comma + 1;
    } while (pos != std::string::npos);
  }
  for (auto& value : parsed.values("node")) {
    if (value.empty())
      throw usage_error("--node needs a node (or a prefix of one)");
    result.nodes.push_back(value);
  }
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

// -- printing -----------------------------------------------------------------

class printer {
public:
  printer(const cs::global_snapshot& snap, const options& opts)
    : snap_(snap), opts_(opts), out_(std::cout) {
    index();
  }

  void print() {
    print_summary();
    print_actors();
    print_channels();
  }

private:
  // Builds every index in one pass over actors and one over messages.
  void index() {
    std::unordered_set<std::string_view> nodes;
    recorded_.reserve(snap_.actors.size());
    for (auto& a : snap_.actors) {
      recorded_.insert(actor_key{a.node, a.id});
      if (nodes.insert(a.node).second)
        node_order_.push_back(a.node);
      ++actors_per_node_[a.node];
    }
    waiting_.reserve(snap_.actors.size());
    for (size_t i = 0; i < snap_.in_flight.size(); ++i) {
      auto& m = snap_.in_flight[i];
      nodes.insert(m.receiver_node);
      if (m.sender != 0 || !m.sender_node.empty())
        nodes.insert(m.sender_node);
      actor_key to{m.receiver_node, m.receiver};
      waiting_[to].push_back(i);
      if (recorded_.count(to) == 0)
        ++unrecorded_receivers_;
      auto loc = static_cast<size_t>(m.location);
      if (loc < by_location_.size())
        ++by_location_[loc];
      if (!m.from_participant)
        ++external_;
    }
    std::sort(node_order_.begin(), node_order_.end());
    single_node_ = nodes.size() <= 1;
  }

  // Renders an actor as `ID` (one node in the snapshot) or `ID@NODE`.
  std::string ref(caf::actor_id id, std::string_view node) const {
    if (id == 0 && node.empty())
      return "anonymous";
    auto result = std::to_string(id);
    if (!single_node_) {
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
         << plural(node_order_.size(), "node") << '\n';
    static constexpr std::array<const char*, 5> locations{
      "queue", "urgent", "stash", "clock", "wire"};
    out_ << "  in flight:    " << s.in_flight.size() << " (";
    for (size_t i = 0; i < locations.size(); ++i)
      out_ << (i > 0 ? ", " : "") << locations[i] << ' ' << by_location_[i];
    out_ << "; " << external_ << " external)\n";
    if (unrecorded_receivers_ > 0)
      out_ << "  to actors not recorded: "
           << plural(unrecorded_receivers_, "message") << '\n';
    if (node_order_.size() > 1) {
      out_ << "  nodes:\n";
      auto shown = std::min(opts_.limit, node_order_.size());
      for (size_t i = 0; i < shown; ++i)
        out_ << "    " << text(node_order_[i]) << ": "
             << plural(actors_per_node_[node_order_[i]], "actor") << '\n';
      omitted(node_order_.size() - shown, "node", "    ");
    }
  }

  void print_actors() {
    std::vector<size_t> selected;
    for (size_t i = 0; i < snap_.actors.size(); ++i)
      if (opts_.matches(snap_.actors[i].id, snap_.actors[i].node))
        selected.push_back(i);
    auto shown = std::min(opts_.limit, selected.size());
    auto key = [this](size_t i) {
      return actor_key{snap_.actors[i].node, snap_.actors[i].id};
    };
    std::partial_sort(selected.begin(), selected.begin() + shown,
                      selected.end(),
                      [&](size_t x, size_t y) { return key(x) < key(y); });
    out_ << '\n';
    if (opts_.filtered()) {
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
    auto it = waiting_.find(actor_key{a.node, a.id});
    if (it == waiting_.end()) {
      out_ << "  messages:  0 waiting\n";
      return;
    }
    auto& msgs = it->second;
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
    auto request_id = m.mid & caf::message_id::request_id_mask;
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
    std::unordered_map<channel_key, channel_stats, channel_key_hash> channels;
    for (auto& m : snap_.in_flight) {
      if (opts_.filtered() && !opts_.matches(m.sender, m.sender_node)
          && !opts_.matches(m.receiver, m.receiver_node))
        continue;
      auto& stats = channels[channel_key{{m.sender_node, m.sender},
                                         {m.receiver_node, m.receiver}}];
      ++stats.messages;
      if (!m.from_participant)
        ++stats.external;
    }
    using entry = std::pair<channel_key, channel_stats>;
    std::vector<entry> sorted{channels.begin(), channels.end()};
    channels.clear();
    auto shown = std::min(opts_.limit, sorted.size());
    std::partial_sort(sorted.begin(), sorted.begin() + shown, sorted.end(),
                      [](const entry& x, const entry& y) {
                        if (x.second.messages != y.second.messages)
                          return x.second.messages > y.second.messages;
                        if (!(x.first.from == y.first.from))
                          return x.first.from < y.first.from;
                        return x.first.to < y.first.to;
                      });
    out_ << '\n';
    if (sorted.empty()) {
      out_ << "channels: no messages in flight"
           << (opts_.filtered() ? " to or from the matching actors\n" : "\n");
      return;
    }
    out_ << "channels (" << shown << " of " << sorted.size() << " shown"
         << (opts_.filtered() ? ", to or from the matching actors" : "")
         << ", sender -> receiver, busiest first):\n";
    for (size_t i = 0; i < shown; ++i) {
      auto& [key, stats] = sorted[i];
      out_ << "  " << ref(key.from.id, key.from.node) << " -> "
           << ref(key.to.id, key.to.node) << ": "
           << plural(stats.messages, "message");
      if (stats.external == stats.messages)
        out_ << " (external)";
      else if (stats.external > 0)
        out_ << " (" << stats.external << " external)";
      out_ << '\n';
    }
    omitted(sorted.size() - shown, "channel", "  ");
  }

  const cs::global_snapshot& snap_;
  const options& opts_;
  std::ostream& out_;
  // Recorded actors.
  std::unordered_set<actor_key, actor_key_hash> recorded_;
  // Nodes of the recorded actors, sorted, with their number of actors.
  std::vector<std::string_view> node_order_;
  std::unordered_map<std::string_view, size_t> actors_per_node_;
  // Indexes into `in_flight` by receiver, in file order.
  std::unordered_map<actor_key, std::vector<size_t>, actor_key_hash> waiting_;
  std::array<size_t, 5> by_location_{};
  size_t external_ = 0;
  size_t unrecorded_receivers_ = 0;
  // Whether every actor and message is on the same node.
  bool single_node_ = true;
};

int run(const std::vector<std::string>& args) {
  auto parsed = parse_args(
    args, {{"actor", true}, {"node", true}, {"limit", true}, {"all", false}});
  if (parsed.help) {
    std::cout << help_text;
    return exit_ok;
  }
  auto opts = parse_options(parsed);
  auto snap = cs::load(opts.file);
  if (!snap) {
    std::cerr << printable(cs::render(snap.error())) << std::endl;
    return exit_bad_file;
  }
  printer{*snap, opts}.print();
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
