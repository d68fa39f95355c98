// caf-snapshot show --json: the content of `show` as one JSON document of
// the schema "caf-snapshot/show" (docs/json.md). Selection, order and
// limits are those of the text output; every count is of the whole
// snapshot or of the selection, so readers can tell what was cut.

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "caf/message_id.hpp"

#include "format.hpp"
#include "json_writer.hpp"
#include "show.hpp"
#include "utf8.hpp"

#ifndef CAF_SNAPSHOT_TOOL_VERSION
#  define CAF_SNAPSHOT_TOOL_VERSION "unknown"
#endif

namespace caf_snapshot_tool {

namespace {

namespace cs = caf::snapshot;

/// Name of the schema; a reader checks it before anything else.
constexpr const char* schema_name = "caf-snapshot/show";

/// Version of the schema. Within one version, fields are only added, never
/// removed, renamed or given another type or meaning.
constexpr uint64_t schema_version = 1;

class json_printer {
public:
  json_printer(const snapshot_index& idx, const show_options& opts,
               std::ostream& out)
    : idx_(idx), snap_(idx.snapshot()), opts_(opts), w_(out) {
    // nop
  }

  void print() {
    w_.begin_object();
    w_.key("schema").string(schema_name);
    w_.key("schema_version").number(schema_version);
    w_.key("tool_version").string(CAF_SNAPSHOT_TOOL_VERSION);
    print_limits();
    print_filter();
    print_summary();
    print_nodes();
    print_actors();
    print_channels();
    w_.key("selected").begin_object();
    w_.key("actors").number(selected_actors_);
    w_.key("channels").number(selected_channels_);
    w_.end_object();
    w_.key("omitted").begin_object();
    w_.key("nodes").number(omitted_nodes_);
    w_.key("actors").number(omitted_actors_);
    w_.key("waiting").number(omitted_waiting_);
    w_.key("channels").number(omitted_channels_);
    w_.key("channel_messages").number(omitted_channel_messages_);
    w_.key("texts").number(omitted_texts_);
    w_.end_object();
    w_.end_object();
  }

private:
  void limit(size_t n) {
    if (n == show_unlimited)
      w_.null();
    else
      w_.number(n);
  }

  // Writes `str` under `name`, cut after the text limit, plus whether it
  // was cut under `name_truncated`.
  void text(std::string_view name, std::string_view str) {
    auto shown = utf8_prefix(str, opts_.text_limit);
    w_.key(name).string(shown);
    w_.key(std::string{name} + "_truncated").boolean(shown.size() < str.size());
    if (shown.size() < str.size())
      ++omitted_texts_;
  }

  void time(std::string_view name, uint64_t ms) {
    auto iso = iso_time(ms);
    w_.key(name);
    if (!iso.empty() && iso.back() == 'Z')
      w_.string(iso);
    else
      w_.null(); // not representable as a calendar date
    w_.key(std::string{name} + "_ms").number(ms);
  }

  void print_limits() {
    w_.key("limits").begin_object();
    w_.key("items");
    limit(opts_.limit);
    w_.key("text_bytes");
    limit(opts_.text_limit);
    w_.end_object();
  }

  void print_filter() {
    auto& sel = opts_.select;
    std::vector<caf::actor_id> ids{sel.actor_ids.begin(), sel.actor_ids.end()};
    std::sort(ids.begin(), ids.end());
    w_.key("filter").begin_object();
    w_.key("actors").begin_array();
    for (auto id : ids)
      w_.number(id);
    w_.end_array();
    w_.key("nodes").begin_array();
    for (auto& node : sel.nodes)
      w_.string(node);
    w_.end_array();
    w_.end_object();
  }

  void print_summary() {
    auto& s = snap_;
    w_.key("summary").begin_object();
    w_.key("id").number(s.id);
    w_.key("file").string(opts_.file);
    w_.key("file_bytes");
    std::error_code ec;
    auto bytes = std::filesystem::file_size(opts_.file, ec);
    if (ec)
      w_.null();
    else
      w_.number(bytes);
    w_.key("coordinator_node").string(s.coordinator_node);
    time("requested_at", s.requested_at_ms);
    time("completed_at", s.completed_at_ms);
    w_.key("duration_ms");
    if (s.completed_at_ms >= s.requested_at_ms)
      w_.number(s.completed_at_ms - s.requested_at_ms);
    else
      w_.null();
    w_.key("complete").boolean(s.complete);
    w_.key("incomplete_reason").string(s.incomplete_reason);
    w_.key("counts").begin_object();
    w_.key("actors").number(s.actors.size());
    w_.key("nodes").number(idx_.nodes().size());
    w_.key("in_flight");
    locations(s.in_flight.size(), idx_.by_location());
    w_.key("external").number(idx_.external());
    w_.key("to_unrecorded_actors").number(idx_.unrecorded_receivers());
    w_.end_object();
    w_.end_object();
  }

  // Writes `{"total": n, "queue": n, ...}`.
  void locations(size_t total,
                 const std::array<size_t, num_locations>& by_location) {
    w_.begin_object();
    w_.key("total").number(total);
    for (size_t i = 0; i < num_locations; ++i)
      w_.key(cs::to_string(static_cast<cs::message_location>(i)))
        .number(by_location[i]);
    w_.end_object();
  }

  void print_nodes() {
    auto& nodes = idx_.nodes();
    auto shown = std::min(opts_.limit, nodes.size());
    omitted_nodes_ = nodes.size() - shown;
    w_.key("nodes").begin_array();
    for (size_t i = 0; i < shown; ++i) {
      w_.begin_object();
      w_.key("node").string(nodes[i]);
      w_.key("actors").number(idx_.actors_on(nodes[i]));
      w_.end_object();
    }
    w_.end_array();
  }

  void print_actors() {
    std::vector<size_t> selected;
    for (size_t i = 0; i < snap_.actors.size(); ++i)
      if (opts_.select.matches(snap_.actors[i].id, snap_.actors[i].node))
        selected.push_back(i);
    auto shown = std::min(opts_.limit, selected.size());
    auto key = [this](size_t i) {
      return actor_key{snap_.actors[i].node, snap_.actors[i].id};
    };
    std::partial_sort(selected.begin(), selected.begin() + shown,
                      selected.end(),
                      [&](size_t x, size_t y) { return key(x) < key(y); });
    selected_actors_ = selected.size();
    omitted_actors_ = selected.size() - shown;
    w_.key("actors").begin_array();
    for (size_t i = 0; i < shown; ++i)
      print_actor(snap_.actors[selected[i]]);
    w_.end_array();
  }

  void print_actor(const cs::actor_record& a) {
    w_.begin_object();
    w_.key("id").number(a.id);
    w_.key("node").string(a.node);
    w_.key("name").string(a.name);
    w_.key("status").string(cs::to_string(a.status));
    w_.key("exit_reason").string(a.exit_reason);
    text("state_text", a.state_text);
    w_.key("state_bytes").number(a.state.size());
    w_.key("pending_requests").begin_array();
    for (auto id : a.pending_requests)
      w_.number(request_number(id));
    w_.end_array();
    w_.key("awaited").begin_array();
    for (auto& x : a.awaited) {
      w_.begin_object();
      w_.key("id").number(request_number(x.id));
      w_.key("target").number(x.target);
      w_.key("target_node").string(x.target_node);
      w_.end_object();
    }
    w_.end_array();
    auto& msgs = idx_.waiting(actor_key{a.node, a.id});
    auto shown = std::min(opts_.limit, msgs.size());
    omitted_waiting_ += msgs.size() - shown;
    w_.key("waiting_count").number(msgs.size());
    w_.key("waiting").begin_array();
    for (size_t i = 0; i < shown; ++i)
      print_message(msgs[i]);
    w_.end_array();
    w_.end_object();
  }

  void print_message(size_t index) {
    auto& m = snap_.in_flight[index];
    caf::message_id mid{m.mid};
    w_.begin_object();
    w_.key("index").number(index);
    w_.key("sender").number(m.sender);
    w_.key("sender_node").string(m.sender_node);
    w_.key("receiver").number(m.receiver);
    w_.key("receiver_node").string(m.receiver_node);
    w_.key("mid").number(m.mid);
    w_.key("kind").string(mid.is_response()
                            ? "response"
                            : (mid.is_request() ? "request" : "async"));
    w_.key("request_id").number(mid.is_async() ? 0 : request_number(m.mid));
    w_.key("priority").string(m.priority != 0 ? "high" : "normal");
    w_.key("location").string(cs::to_string(m.location));
    w_.key("from_participant").boolean(m.from_participant);
    w_.key("content_bytes").number(m.content.size());
    text("text", m.text);
    w_.end_object();
  }

  void print_channels() {
    auto channels = idx_.channels(opts_.select);
    auto shown = std::min(opts_.limit, channels.size());
    selected_channels_ = channels.size();
    omitted_channels_ = channels.size() - shown;
    w_.key("channels").begin_array();
    for (size_t i = 0; i < shown; ++i) {
      auto& ch = channels[i];
      w_.begin_object();
      w_.key("sender").number(ch.from.id);
      w_.key("sender_node").string(ch.from.node);
      w_.key("receiver").number(ch.to.id);
      w_.key("receiver_node").string(ch.to.node);
      w_.key("count").number(ch.messages.size());
      w_.key("external").number(ch.external);
      std::array<size_t, num_locations> by_location{};
      for (auto index : ch.messages) {
        auto loc = static_cast<size_t>(snap_.in_flight[index].location);
        if (loc < num_locations)
          ++by_location[loc];
      }
      w_.key("locations");
      locations(ch.messages.size(), by_location);
      auto shown_msgs = std::min(opts_.limit, ch.messages.size());
      omitted_channel_messages_ += ch.messages.size() - shown_msgs;
      w_.key("messages").begin_array();
      for (size_t j = 0; j < shown_msgs; ++j)
        print_message(ch.messages[j]);
      w_.end_array();
      w_.end_object();
    }
    w_.end_array();
  }

  const snapshot_index& idx_;
  const cs::global_snapshot& snap_;
  const show_options& opts_;
  json_writer w_;
  size_t selected_actors_ = 0;
  size_t selected_channels_ = 0;
  size_t omitted_nodes_ = 0;
  size_t omitted_actors_ = 0;
  size_t omitted_waiting_ = 0;
  size_t omitted_channels_ = 0;
  size_t omitted_channel_messages_ = 0;
  size_t omitted_texts_ = 0;
};

} // namespace

void print_show_json(const snapshot_index& idx, const show_options& opts,
                     std::ostream& out) {
  json_printer{idx, opts, out}.print();
}

} // namespace caf_snapshot_tool
