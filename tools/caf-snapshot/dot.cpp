// caf-snapshot dot FILE: the cut of one snapshot as a Graphviz graph.
//
// Vertices are actors grouped by node (one cluster per node), one
// "external" vertex per node for input from outside the snapshot, solid
// edges for channels with messages in flight and dashed edges for the
// requests an actor awaits. Large pictures are aggregated by (node, actor
// name). All vertex and cluster identifiers are generated; only labels and
// tooltips carry text from the file, escaped by `dot_string`.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "caf/snapshot/global_snapshot.hpp"

#include "args.hpp"
#include "command.hpp"
#include "format.hpp"
#include "load_or_report.hpp"
#include "selection.hpp"
#include "snapshot_index.hpp"
#include "utf8.hpp"

namespace caf_snapshot_tool {
namespace {

namespace cs = caf::snapshot;

constexpr const char* help_text
  = R"help(Usage: caf-snapshot dot FILE [--node NODE] [--actor ID] [--max-actors N]

Prints the cut of one snapshot file as a Graphviz graph (DOT) on stdout:

  caf-snapshot dot FILE | dot -Tsvg -o cut.svg

The picture shows:
  - one cluster per node, labelled with the node string shortened;
  - one box per actor with its ID and name; exited actors are grey and
    dashed, receivers of messages that are not recorded are dotted;
  - one "external" box per node for messages from senders that are no
    recorded actors (anonymous senders count to the receiver's node);
  - a solid edge sender -> receiver for each channel with messages in
    flight, labelled with their number and locations, e.g.
    "3 (queue 2, stash 1)";
  - a dashed edge "awaits" from an actor to each actor it awaits a
    response from (pending requests whose receiver is recorded).

With more than N actors to draw, the picture is aggregated: one box per
node and actor name with the number of actors, edges summed between them.

Options:
  --actor ID        Draw only these actors and the actors they exchange
                    messages or requests with (repeatable, or a comma list)
  --node NODE       Draw only the actors of this node (NODE may be a prefix
                    of the node string; repeatable) and their peers
  --max-actors N    Aggregate above N actors (default 200; 0 aggregates
                    always)
  -h, --help        Show this help

Exit codes: 0 success, 1 the file is missing or damaged (one line on
stderr), 2 wrong usage.
)help";

constexpr size_t default_max_actors = 200;

/// Longest actor name shown in a label, in bytes.
constexpr size_t max_name_len = 48;

/// Longest node string shown as a cluster label, in bytes.
constexpr size_t max_node_len = 32;

// -- options ------------------------------------------------------------------

struct options {
  std::string file;
  selection select;
  size_t max_actors = default_max_actors;
};

options parse_options(const parsed_args& parsed) {
  options result;
  if (parsed.positionals.empty())
    throw usage_error("missing snapshot FILE");
  if (parsed.positionals.size() > 1)
    throw usage_error("expects exactly one snapshot FILE, got '"
                      + parsed.positionals[1] + "' as well");
  result.file = parsed.positionals[0];
  result.select = selection::from(parsed);
  if (auto n = parsed.last("max-actors")) {
    auto x = parse_uint(*n, "--max-actors");
    constexpr auto max = std::numeric_limits<size_t>::max();
    result.max_actors = x > max ? max : static_cast<size_t>(x);
  }
  return result;
}

// -- text ---------------------------------------------------------------------

/// Returns `str` as the content of a quoted DOT string that Graphviz shows
/// literally: `"` and `\` are escaped, `&` becomes an entity, control
/// characters and bytes that are not UTF-8 are shown as `\n`, `\xNN`.
std::string dot_string(std::string_view str) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(str.size() + 8);
  auto visible_hex = [&](unsigned char c) {
    out += "\\\\x";
    out += hex[c >> 4];
    out += hex[c & 0x0F];
  };
  for (size_t i = 0; i < str.size();) {
    auto c = static_cast<unsigned char>(str[i]);
    char32_t cp = 0;
    auto n = utf8_length(str, i, cp);
    if (n == 0) {
      visible_hex(c);
      ++i;
      continue;
    }
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '&':
        out += "&amp;";
        break;
      case '\n':
        out += "\\\\n";
        break;
      case '\t':
        out += "\\\\t";
        break;
      case '\r':
        out += "\\\\r";
        break;
      default:
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
          for (size_t j = 0; j < n; ++j)
            visible_hex(static_cast<unsigned char>(str[i + j]));
        else
          out.append(str.data() + i, n);
    }
    i += n;
  }
  return out;
}

/// Cuts `str` after `max_len` bytes, marking the cut with "...".
std::string shorten(std::string_view str, size_t max_len) {
  if (str.size() <= max_len)
    return std::string{str};
  auto result = std::string{utf8_prefix(str, max_len - 3)};
  result += "...";
  return result;
}

/// Shortens CAF node strings `<40 hex digits>#<pid>` to `<8 digits>#<pid>`.
std::string short_node(std::string_view node) {
  if (node.empty())
    return "(unknown node)";
  auto hash = node.find('#');
  if (hash != std::string_view::npos && hash > 12) {
    auto host = node.substr(0, hash);
    auto is_hex = std::all_of(host.begin(), host.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
             || (c >= 'A' && c <= 'F');
    });
    if (is_hex)
      return shorten(std::string{host.substr(0, 8)}.append(node.substr(hash)),
                     max_node_len);
  }
  return shorten(node, max_node_len);
}

// -- the graph ----------------------------------------------------------------

enum class vertex_kind : uint8_t {
  /// A recorded actor, or all recorded actors of one name when aggregated.
  actor,
  /// A receiver or request target that is not recorded (or all of them on
  /// one node when aggregated).
  unrecorded,
  /// Senders that are no recorded actors, one vertex per node.
  external,
};

/// Identifies a vertex; `id` is 0 and `name` set when aggregated.
struct vertex_key {
  std::string_view node;
  vertex_kind kind;
  caf::actor_id id;
  std::string_view name;

  bool operator<(const vertex_key& other) const {
    auto tie = [](const vertex_key& x) {
      return std::make_tuple(x.node, x.kind, x.name, x.id);
    };
    return tie(*this) < tie(other);
  }
};

struct vertex {
  /// Number of actors it stands for.
  size_t actors = 0;
  size_t exited = 0;
  /// The record of a single actor, if recorded and not aggregated.
  const cs::actor_record* record = nullptr;
  /// Position in output order, assigned once every vertex is known.
  size_t number = 0;
};

struct edge_stats {
  size_t messages = 0;
  std::array<size_t, num_locations> by_location{};
  size_t awaits = 0;
};

class dot_printer {
public:
  dot_printer(const snapshot_index& idx, const options& opts)
    : idx_(idx), snap_(idx.snapshot()), opts_(opts), out_(std::cout) {
    // nop
  }

  void print() {
    collect();
    emit();
  }

private:
  using endpoint = std::pair<vertex_kind, actor_key>;

  // -- collecting -------------------------------------------------------------

  void collect() {
    for (auto& a : snap_.actors)
      records_.emplace(actor_key{a.node, a.id}, &a);
    auto& sel = opts_.select;
    std::vector<endpoint> actors;
    std::unordered_set<actor_key, actor_key_hash> seen;
    auto add_actor = [&](const endpoint& x) {
      if (x.first != vertex_kind::external && seen.insert(x.second).second)
        actors.push_back(x);
    };
    for (auto& a : snap_.actors)
      if (sel.matches(a.id, a.node))
        add_actor({vertex_kind::actor, {a.node, a.id}});
    // Channels: each is one edge, or is summed into one when aggregated.
    struct raw_edge {
      endpoint from;
      endpoint to;
      edge_stats stats;
    };
    std::vector<raw_edge> raw;
    for (auto& ch : idx_.channels(sel)) {
      raw_edge e{sender(ch.from, ch.to), receiver(ch.to), {}};
      for (auto i : ch.messages) {
        auto loc = static_cast<size_t>(snap_.in_flight[i].location);
        if (loc < num_locations)
          ++e.stats.by_location[loc];
      }
      e.stats.messages = ch.messages.size();
      add_actor(e.from);
      add_actor(e.to);
      raw.push_back(std::move(e));
    }
    for (auto& a : snap_.actors) {
      for (auto& x : a.awaited) {
        if (sel.filtered() && !sel.matches(a.id, a.node)
            && !sel.matches(x.target, x.target_node))
          continue;
        raw_edge e{{vertex_kind::actor, {a.node, a.id}},
                   receiver({x.target_node, x.target}),
                   {}};
        e.stats.awaits = 1;
        add_actor(e.from);
        add_actor(e.to);
        raw.push_back(std::move(e));
      }
    }
    num_actors_ = actors.size();
    aggregated_ = num_actors_ > opts_.max_actors;
    for (auto& x : actors)
      add_vertex(x);
    for (auto& e : raw) {
      add_vertex(e.from);
      add_vertex(e.to);
    }
    size_t number = 0;
    for (auto& entry : vertices_)
      entry.second.number = number++;
    for (auto& e : raw) {
      auto& stats = edges_[{vertex_of(e.from).number, vertex_of(e.to).number}];
      stats.messages += e.stats.messages;
      for (size_t i = 0; i < num_locations; ++i)
        stats.by_location[i] += e.stats.by_location[i];
      stats.awaits += e.stats.awaits;
    }
  }

  const cs::actor_record* record(const actor_key& x) const {
    auto i = records_.find(x);
    return i != records_.end() ? i->second : nullptr;
  }

  // Senders that are no recorded actors are external input of their node;
  // anonymous senders count to the receiver's node.
  endpoint sender(const actor_key& from, const actor_key& to) const {
    if (from.id != 0 && record(from) != nullptr)
      return {vertex_kind::actor, from};
    auto node = from.id == 0 && from.node.empty() ? to.node : from.node;
    return {vertex_kind::external, {node, 0}};
  }

  endpoint receiver(const actor_key& to) const {
    return {
      record(to) != nullptr ? vertex_kind::actor : vertex_kind::unrecorded, to};
  }

  vertex_key key_of(const endpoint& x) const {
    auto& [kind, key] = x;
    if (kind == vertex_kind::external)
      return {key.node, kind, 0, {}};
    if (!aggregated_)
      return {key.node, kind, key.id, {}};
    std::string_view name;
    if (kind == vertex_kind::actor)
      name = record(key)->name;
    return {key.node, kind, 0, name};
  }

  void add_vertex(const endpoint& x) {
    auto& v = vertices_.emplace(key_of(x), vertex{}).first->second;
    // External vertices stand for no actor; repeated endpoints count once.
    if (x.first == vertex_kind::external || !counted_.insert(x.second).second)
      return;
    ++v.actors;
    if (x.first == vertex_kind::actor) {
      auto rec = record(x.second);
      if (rec->status == cs::actor_status::exited)
        ++v.exited;
      if (!aggregated_)
        v.record = rec;
    }
  }

  const vertex& vertex_of(const endpoint& x) const {
    return vertices_.at(key_of(x));
  }

  // -- output -----------------------------------------------------------------

  void emit() {
    auto& s = snap_;
    std::string title = "snapshot " + std::to_string(s.id) + ", "
                        + (s.complete ? "complete" : "incomplete") + ", "
                        + plural(s.actors.size(), "actor") + " on "
                        + plural(idx_.nodes().size(), "node") + ", "
                        + std::to_string(s.in_flight.size()) + " in flight";
    if (opts_.select.filtered())
      title += ", filtered";
    if (aggregated_)
      title += ", " + std::to_string(num_actors_)
               + " actors aggregated by name";
    out_ << "digraph cut {\n"
         << "  graph [rankdir=LR, labelloc=t, fontname=\"Helvetica\", "
            "fontsize=12, label=\""
         << dot_string(title) << "\"];\n"
         << "  node [shape=box, style=rounded, fontname=\"Helvetica\", "
            "fontsize=10];\n"
         << "  edge [fontname=\"Helvetica\", fontsize=9];\n";
    size_t cluster = 0;
    for (auto i = vertices_.begin(); i != vertices_.end();) {
      auto node = i->first.node;
      out_ << "  subgraph cluster_" << cluster++ << " {\n"
           << "    label=\"" << dot_string(short_node(node))
           << "\";\n    tooltip=\"" << dot_string(node)
           << "\";\n    style=rounded;\n    color=gray60;\n";
      for (; i != vertices_.end() && i->first.node == node; ++i)
        emit_vertex(i->first, i->second);
      out_ << "  }\n";
    }
    for (auto& [ends, stats] : edges_)
      emit_edges(ends.first, ends.second, stats);
    out_ << "}\n";
  }

  void emit_vertex(const vertex_key& key, const vertex& v) {
    out_ << "    v" << v.number << " [";
    std::string label;
    std::string style;
    switch (key.kind) {
      case vertex_kind::external:
        label = "external";
        style = "shape=box, style=filled, fillcolor=lightyellow";
        break;
      case vertex_kind::unrecorded:
        label = aggregated_ ? "not recorded\\n" + plural(v.actors, "actor")
                            : std::to_string(key.id) + "\\nnot recorded";
        style = "style=\"rounded,dotted\"";
        break;
      case vertex_kind::actor:
        if (aggregated_) {
          label = dot_string(shorten(key.name, max_name_len)) + "\\n"
                  + plural(v.actors, "actor");
          if (v.exited > 0)
            label += " (" + std::to_string(v.exited) + " exited)";
          style = "shape=box3d, style=rounded";
        } else {
          label = std::to_string(key.id) + "\\n"
                  + dot_string(shorten(v.record->name, max_name_len));
          style = "tooltip=\""
                  + dot_string(std::to_string(key.id) + "@"
                               + std::string{key.node} + " " + v.record->name)
                  + "\"";
          if (v.exited > 0) {
            label += "\\nexited";
            style += ", style=\"rounded,dashed,filled\", fillcolor=gray90, "
                     "fontcolor=gray40, color=gray50";
          }
        }
        break;
    }
    out_ << "label=\"" << label << "\", " << style << "];\n";
  }

  void emit_edges(size_t from, size_t to, const edge_stats& stats) {
    if (stats.messages > 0) {
      // "3 (queue 2, stash 1)", or "3 (queue)" if all are in one place.
      std::string label = std::to_string(stats.messages) + " (";
      bool first = true;
      for (size_t i = 0; i < num_locations; ++i) {
        auto n = stats.by_location[i];
        if (n == 0)
          continue;
        if (!first)
          label += ", ";
        first = false;
        label += cs::to_string(static_cast<cs::message_location>(i));
        if (n != stats.messages)
          label += ' ' + std::to_string(n);
      }
      label += ')';
      auto width = 1.0 + std::min(3.0, std::log10(double(stats.messages)));
      out_ << "  v" << from << " -> v" << to << " [label=\"" << label
           << "\", penwidth=" << width << "];\n";
    }
    if (stats.awaits > 0) {
      out_ << "  v" << from << " -> v" << to << " [label=\"awaits";
      if (stats.awaits > 1)
        out_ << " (" << stats.awaits << ")";
      out_ << "\", style=dashed, color=firebrick, fontcolor=firebrick];\n";
    }
  }

  const snapshot_index& idx_;
  const cs::global_snapshot& snap_;
  const options& opts_;
  std::ostream& out_;
  std::unordered_map<actor_key, const cs::actor_record*, actor_key_hash>
    records_;
  // Vertices in output order: by node (one cluster each), kind, name, ID.
  std::map<vertex_key, vertex> vertices_;
  // Actors already counted in a vertex.
  std::unordered_set<actor_key, actor_key_hash> counted_;
  // Edges by the numbers of their vertices.
  std::map<std::pair<size_t, size_t>, edge_stats> edges_;
  size_t num_actors_ = 0;
  bool aggregated_ = false;
};

int run(const std::vector<std::string>& args) {
  auto parsed
    = parse_args(args, {{"actor", true}, {"node", true}, {"max-actors", true}});
  if (parsed.help) {
    std::cout << help_text;
    return exit_ok;
  }
  auto opts = parse_options(parsed);
  auto snap = load_or_report(opts.file);
  if (!snap)
    return exit_bad_file;
  snapshot_index idx{*snap};
  dot_printer{idx, opts}.print();
  return exit_ok;
}

} // namespace

const command dot_command{
  "dot",
  "Draw the cut of a snapshot as a Graphviz graph (actors, channels, waits)",
  help_text,
  run,
};

} // namespace caf_snapshot_tool
