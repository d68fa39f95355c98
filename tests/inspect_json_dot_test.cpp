// Tests of `caf-snapshot show --json` and `caf-snapshot dot`: real snapshots
// are taken in a temporary directory and synthetic ones (several nodes,
// external senders, exited actors, awaited requests, hostile strings, many
// actors) are written with the library's writer; then the built tool runs
// on them (popen). JSON output is checked with a strict parser below, DOT
// output is rendered with Graphviz' `dot` when it is installed.

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "caf/snapshot/detail/file_system.hpp"
#include "caf/snapshot/detail/snapshot_writer.hpp"

#include "test_util.hpp"
#include "tool_runner.hpp"

#ifndef CAF_SNAPSHOT_TOOL
#  error "CAF_SNAPSHOT_TOOL must name the caf-snapshot binary"
#endif

namespace fs = std::filesystem;
namespace cs = caf::snapshot;

namespace {

using test::expect_one_error_line;
using test::quote;
using test::read_file;
using test::run_result;
using test::write_file;

// -- a strict JSON parser (RFC 8259) ------------------------------------------

/// Returns the length of the well-formed UTF-8 sequence at `str[pos]`, 0 if
/// there is none. Written independently of the tool's decoder.
size_t utf8_seq(std::string_view str, size_t pos, uint32_t* out = nullptr) {
  auto b = [&](size_t i) { return static_cast<uint8_t>(str[i]); };
  auto c = b(pos);
  size_t n;
  uint32_t cp;
  if (c < 0x80) {
    n = 1;
    cp = c;
  } else if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (pos + n > str.size())
    return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((b(pos + i) & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (b(pos + i) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF
      || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  if (out != nullptr)
    *out = cp;
  return n;
}

/// Replaces every byte that is not part of well-formed UTF-8 by U+FFFD.
std::string replace_invalid_utf8(std::string_view str) {
  std::string result;
  for (size_t i = 0; i < str.size();) {
    auto n = utf8_seq(str, i);
    if (n == 0) {
      result += "\xEF\xBF\xBD";
      ++i;
    } else {
      result.append(str.substr(i, n));
      i += n;
    }
  }
  return result;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// A parsed JSON value. Objects keep their members in order.
struct json {
  enum kind_t { missing, null, boolean, number, string, array, object };
  kind_t kind = missing;
  bool flag = false;
  /// Decoded string, or the literal of a number.
  std::string text;
  /// Array elements or object member values.
  std::vector<json> items;
  /// Object member names.
  std::vector<std::string> keys;

  /// The member `key`, or a value of kind `missing`.
  const json& operator[](const std::string& key) const {
    static const json none;
    if (kind != object)
      return none;
    for (size_t i = 0; i < keys.size(); ++i)
      if (keys[i] == key)
        return items[i];
    return none;
  }

  const json& operator[](size_t i) const {
    static const json none;
    return kind == array && i < items.size() ? items[i] : none;
  }

  size_t size() const {
    return items.size();
  }

  bool is_null() const {
    return kind == null;
  }

  /// The value of an integral number; fails the test for anything else.
  uint64_t u64() const {
    EXPECT_EQ(kind, number);
    EXPECT_TRUE(!text.empty()
                && text.find_first_not_of("0123456789") == std::string::npos)
      << text;
    return kind == number ? std::stoull(text) : 0;
  }

  const std::string& str() const {
    EXPECT_EQ(kind, string);
    return text;
  }

  bool boolean_value() const {
    EXPECT_EQ(kind, boolean);
    return flag;
  }
};

/// Parses exactly one JSON text (surrounded by whitespace only), rejecting
/// everything RFC 8259 does not allow: raw control characters in strings,
/// invalid UTF-8, unknown escapes, lone surrogates, leading zeros, trailing
/// commas, duplicate keys and trailing garbage.
class json_parser {
public:
  static std::optional<json> parse(std::string_view in, std::string& error) {
    json_parser p{in};
    json result;
    p.ws();
    if (!p.value(result, 0)) {
      error = p.error_ + " at byte " + std::to_string(p.pos_);
      return std::nullopt;
    }
    p.ws();
    if (p.pos_ != in.size()) {
      error = "trailing data at byte " + std::to_string(p.pos_);
      return std::nullopt;
    }
    return result;
  }

private:
  explicit json_parser(std::string_view in) : in_(in) {
    // nop
  }

  bool fail(const std::string& what) {
    if (error_.empty())
      error_ = what;
    return false;
  }

  bool eof() const {
    return pos_ >= in_.size();
  }

  char peek() const {
    return eof() ? '\0' : in_[pos_];
  }

  void ws() {
    while (
      !eof()
      && (peek() == ' ' || peek() == '\n' || peek() == '\r' || peek() == '\t'))
      ++pos_;
  }

  bool literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word)
      return fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool value(json& out, size_t depth) {
    if (depth > 256)
      return fail("nesting too deep");
    switch (peek()) {
      case '{':
        return object(out, depth);
      case '[':
        return array(out, depth);
      case '"':
        out.kind = json::string;
        return string(out.text);
      case 't':
        out.kind = json::boolean;
        out.flag = true;
        return literal("true");
      case 'f':
        out.kind = json::boolean;
        return literal("false");
      case 'n':
        out.kind = json::null;
        return literal("null");
      default:
        out.kind = json::number;
        return number(out.text);
    }
  }

  bool object(json& out, size_t depth) {
    out.kind = json::object;
    ++pos_;
    ws();
    if (peek() == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      ws();
      if (peek() != '"')
        return fail("expected a member name");
      std::string key;
      if (!string(key))
        return false;
      if (std::find(out.keys.begin(), out.keys.end(), key) != out.keys.end())
        return fail("duplicate key '" + key + "'");
      ws();
      if (peek() != ':')
        return fail("expected ':'");
      ++pos_;
      ws();
      json x;
      if (!value(x, depth + 1))
        return false;
      out.keys.push_back(std::move(key));
      out.items.push_back(std::move(x));
      ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  bool array(json& out, size_t depth) {
    out.kind = json::array;
    ++pos_;
    ws();
    if (peek() == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      ws();
      json x;
      if (!value(x, depth + 1))
        return false;
      out.items.push_back(std::move(x));
      ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  bool hex4(uint32_t& out) {
    if (pos_ + 4 > in_.size())
      return fail("short \\u escape");
    out = 0;
    for (size_t i = 0; i < 4; ++i) {
      auto c = in_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9')
        out |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        out |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        out |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return fail("invalid \\u escape");
    }
    return true;
  }

  bool string(std::string& out) {
    ++pos_; // opening quote
    for (;;) {
      if (eof())
        return fail("unterminated string");
      auto c = static_cast<uint8_t>(in_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20)
        return fail("raw control character in string");
      if (c == '\\') {
        ++pos_;
        auto e = peek();
        ++pos_;
        switch (e) {
          case '"':
          case '\\':
          case '/':
            out += e;
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            uint32_t cp = 0;
            if (!hex4(cp))
              return false;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
              return fail("lone low surrogate");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              uint32_t low = 0;
              if (in_.substr(pos_, 2) != "\\u")
                return fail("lone high surrogate");
              pos_ += 2;
              if (!hex4(low))
                return false;
              if (low < 0xDC00 || low > 0xDFFF)
                return fail("lone high surrogate");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            append_utf8(out, cp);
            break;
          }
          default:
            return fail("invalid escape");
        }
        continue;
      }
      auto n = utf8_seq(in_, pos_);
      if (n == 0)
        return fail("invalid UTF-8 in string");
      out.append(in_.substr(pos_, n));
      pos_ += n;
    }
  }

  bool number(std::string& out) {
    auto start = pos_;
    auto digit = [&] { return peek() >= '0' && peek() <= '9'; };
    if (peek() == '-')
      ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (digit()) {
      while (digit())
        ++pos_;
    } else {
      return fail("invalid value");
    }
    if (peek() == '.') {
      ++pos_;
      if (!digit())
        return fail("invalid fraction");
      while (digit())
        ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-')
        ++pos_;
      if (!digit())
        return fail("invalid exponent");
      while (digit())
        ++pos_;
    }
    out = std::string{in_.substr(start, pos_ - start)};
    return true;
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

TEST(json_parser, accepts_valid_and_rejects_invalid_json) {
  std::string err;
  for (auto ok : {"{}", "[]", " 0 ", "-1.5e+3", "\"\\u00e9\\ud83d\\ude00\"",
                  "{\"a\": [1, true, null, \"x\"]}", "\"\xc3\xa9\""})
    EXPECT_TRUE(json_parser::parse(ok, err)) << ok << ": " << err;
  for (auto bad : {"", "{", "[1,]", "{\"a\":1,}", "01", "\"\x01\"", "\"\xff\"",
                   "\"\\ud800\"", "\"\\x41\"", "{} {}", "tru",
                   "{\"a\":1,\"a\":2}", "\"\xed\xa0\x80\"", "\"\xc0\xaf\""})
    EXPECT_FALSE(json_parser::parse(bad, err)) << bad;
}

// -- DOT output ---------------------------------------------------------------

struct dot_vertex {
  std::string id;
  std::string label; // as written, with DOT escapes
  std::string attrs;
};

struct dot_edge {
  std::string from;
  std::string to;
  std::string label;
  std::string attrs;
  bool dashed() const {
    return attrs.find("style=dashed") != std::string::npos;
  }
  // The leading number of a channel label, e.g. 3 for "3 (queue 2, stash 1)".
  uint64_t count() const {
    return std::stoull(label);
  }
};

struct dot_graph {
  std::map<std::string, dot_vertex> vertices;
  std::vector<dot_edge> edges;
  size_t clusters = 0;

  std::vector<const dot_edge*> channel_edges() const {
    std::vector<const dot_edge*> result;
    for (auto& e : edges)
      if (!e.dashed())
        result.push_back(&e);
    return result;
  }

  uint64_t in_flight() const {
    uint64_t n = 0;
    for (auto e : channel_edges())
      n += e->count();
    return n;
  }

  // The vertex whose label starts with `prefix` (first match) or nullptr.
  const dot_vertex* find(const std::string& prefix) const {
    for (auto& [id, v] : vertices)
      if (v.label.rfind(prefix, 0) == 0)
        return &v;
    return nullptr;
  }

  const dot_edge* edge(const std::string& from, const std::string& to,
                       bool dashed) const {
    for (auto& e : edges)
      if (e.from == from && e.to == to && e.dashed() == dashed)
        return &e;
    return nullptr;
  }
};

dot_graph parse_dot(const std::string& out) {
  static const std::regex vertex_re{
    R"re(^\s+(v\d+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$)re"};
  static const std::regex edge_re{
    R"re(^\s+(v\d+) -> (v\d+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$)re"};
  dot_graph g;
  std::istringstream in{out};
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (line.find("subgraph cluster_") != std::string::npos)
      ++g.clusters;
    if (std::regex_match(line, m, edge_re))
      g.edges.push_back({m[1], m[2], m[3], m[4]});
    else if (std::regex_match(line, m, vertex_re))
      g.vertices[m[1]] = dot_vertex{m[1], m[2], m[3]};
  }
  return g;
}

// -- the fixture --------------------------------------------------------------

using deposit_atom = caf::atom_constant<caf::atom("deposit")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;
using go_atom = caf::atom_constant<caf::atom("go")>;

constexpr size_t num_accounts = 30;
constexpr size_t num_external = 25;

// Control characters, quotes, backslashes, an entity, C1 and DEL, U+2028,
// valid non-ASCII text and bytes that are not UTF-8 (a lone byte, a cut
// sequence, an overlong form, a surrogate).
const std::string hostile = "sink\n\x1b[31m \"quoted\" back\\slash &amp; "
                            "\xff\xfe bad \xc3 cut \xc0\xaf overlong "
                            "\xed\xa0\x80 surrogate \xc2\x9b c1 \x7f del "
                            "\xe2\x80\xa8 ls \xc3\xbc \xe2\x82\xac "
                            "\xf0\x9f\x98\x80 end\t\r\x01";

struct account {
  int64_t balance = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& balance;
  }
};

std::string to_string(const account& x) {
  return "balance=" + std::to_string(x.balance);
}

// Skips every deposit: they stay in flight (stashed or queued) at the cut.
struct sink {
  int64_t received = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& received;
  }
};

std::string to_string(const sink&) {
  return hostile;
}

caf::behavior sink_fn(cs::stateful_actor<sink>*) {
  return {
    [=](deposit_atom, int64_t) { return caf::skip(); },
    [=](deposit_atom, const std::string&) { return caf::skip(); },
  };
}

caf::behavior account_fn(cs::stateful_actor<account>* self, int64_t balance,
                         caf::actor sink) {
  self->state.balance = balance;
  return {
    [=](tick_atom) {
      self->send(sink, deposit_atom::value, int64_t{1});
      self->delayed_send(caf::actor_cast<caf::actor>(self),
                         std::chrono::hours{1}, deposit_atom::value,
                         int64_t{2});
    },
    [=](deposit_atom, int64_t amount) { self->state.balance += amount; },
  };
}

// Never answers pings: a request to it stays stashed and pending. Its state
// text is longer than the default text limit of `show`, with a two-byte
// sequence across the cut.
struct server {
  int64_t pings = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& pings;
  }
};

std::string long_text() {
  std::string result = "x";
  for (int i = 0; i < 1500; ++i)
    result += "\xc3\xa9"; // é
  return result;
}

std::string to_string(const server&) {
  return long_text();
}

caf::behavior server_fn(cs::stateful_actor<server>*) {
  return {
    [=](ping_atom) { return caf::skip(); },
  };
}

struct requester {
  int64_t answers = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned) {
    ar& answers;
  }
};

std::string to_string(const requester& x) {
  return "answers=" + std::to_string(x.answers);
}

caf::behavior requester_fn(cs::stateful_actor<requester>* self) {
  return {
    [=](go_atom, const caf::actor& srv) {
      self->request(srv, caf::infinite, ping_atom::value).then([=] {
        ++self->state.answers;
      });
    },
  };
}

// Nodes of the synthetic snapshots, in the format of `caf::to_string`.
const std::string node_a = "0123456789ABCDEF0123456789ABCDEF01234567#4711";
const std::string node_b = "FEDCBA9876543210FEDCBA9876543210FEDCBA98#42";

// A hostile node and actor name.
const std::string evil_node = "evil\"node\\\n\xff#1";
const std::string evil_name = "gamma\n\"evil\"\\ &lt; \xff\x1b[0m";

cs::actor_record make_actor(const std::string& node, caf::actor_id id,
                            const std::string& name) {
  cs::actor_record x;
  x.id = id;
  x.node = node;
  x.name = name;
  x.state = {'s'};
  x.state_text = name + " state";
  return x;
}

cs::message_record make_message(const std::string& from_node,
                                caf::actor_id from, const std::string& to_node,
                                caf::actor_id to, cs::message_location loc) {
  cs::message_record x;
  x.sender = from;
  x.sender_node = from_node;
  x.receiver = to;
  x.receiver_node = to_node;
  x.mid = caf::message_id{}.integer_value(); // asynchronous, normal
  x.location = loc;
  x.content = {'c'};
  x.text = "('deposit', 1)";
  return x;
}

// Writes a snapshot file with `actors` and `messages` into `dir`.
std::string write_snapshot(const std::string& dir, uint64_t id,
                           const std::vector<cs::actor_record>& actors,
                           const std::vector<cs::message_record>& messages) {
  using cs::detail::snapshot_writer;
  auto w = snapshot_writer::open(cs::detail::default_file_system(), dir, id,
                                 node_a, 1700000000000);
  if (!w) {
    ADD_FAILURE() << cs::render(w.error());
    return {};
  }
  for (auto& x : actors)
    if (auto err = (*w)->append(x))
      ADD_FAILURE() << cs::render(err);
  for (auto& x : messages)
    if (auto err = (*w)->append(x))
      ADD_FAILURE() << cs::render(err);
  std::string path;
  auto bytes = (*w)->commit(true, "", 1700000000042, path);
  if (!bytes)
    ADD_FAILURE() << cs::render(bytes.error());
  return path;
}

class inspect_json_dot_test : public testing::Test {
public:
  static void SetUpTestSuite() {
    snaps_ = std::make_unique<test::temp_dir>();
    work_ = std::make_unique<test::temp_dir>();
    take_real_snapshot();
    write_synthetic_snapshots();
  }

  static void TearDownTestSuite() {
    snaps_.reset();
    work_.reset();
  }

protected:
  // A sink with external and hostile input, accounts with messages in the
  // clock, a requester awaiting a server that never answers.
  static void take_real_snapshot() {
    test::config cfg{snaps_->path()};
    caf::actor_system sys{cfg};
    std::vector<caf::actor> actors; // all of them, stopped on every exit
    struct stop_all {
      std::vector<caf::actor>& xs;
      ~stop_all() {
        for (auto& x : xs)
          caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
      }
    } guard{actors};
    auto snk = sys.spawn(sink_fn);
    actors.push_back(snk);
    sink_id_ = snk.id();
    std::vector<caf::actor> accounts;
    for (size_t i = 0; i < num_accounts; ++i) {
      accounts.push_back(
        sys.spawn(account_fn, static_cast<int64_t>(100 + i), snk));
      actors.push_back(accounts.back());
      account_ids_.push_back(accounts.back().id());
    }
    auto srv = sys.spawn(server_fn);
    actors.push_back(srv);
    server_id_ = srv.id();
    auto req = sys.spawn(requester_fn);
    actors.push_back(req);
    requester_id_ = req.id();
    for (size_t i = 0; i < num_external; ++i)
      caf::anon_send(snk, deposit_atom::value, static_cast<int64_t>(i));
    caf::anon_send(snk, deposit_atom::value, hostile);
    {
      // Each handler has run (its sends done) before the snapshot starts.
      caf::scoped_actor self{sys};
      for (auto& a : accounts)
        self->request(a, caf::infinite, tick_atom::value)
          .receive([] {}, [](caf::error& err) { FAIL() << to_string(err); });
      self->request(req, caf::infinite, go_atom::value, srv)
        .receive([] {}, [](caf::error& err) { FAIL() << to_string(err); });
    }
    auto info = test::take(sys);
    ASSERT_TRUE(info) << sys.render(info.error());
    real_ = info->path;
    auto snap = cs::load(real_);
    ASSERT_TRUE(snap) << cs::render(snap.error());
    real_snap_ = std::move(*snap);
  }

  // Two nodes with every kind of vertex and edge of `dot`, hostile strings;
  // and a large snapshot for aggregation.
  static void write_synthetic_snapshots() {
    using loc = cs::message_location;
    auto dir = snaps_->path() + "/synthetic";
    std::vector<cs::actor_record> actors;
    auto a1 = make_actor(node_a, 1, "alpha");
    a1.pending_requests = {0x8000000000000007u};
    a1.awaited = {{0x8000000000000007u, 1, node_b}};
    auto a2 = make_actor(node_a, 2, "beta");
    a2.status = cs::actor_status::exited;
    a2.exit_reason = "user_shutdown \"bye\"\n";
    auto b1 = make_actor(node_b, 1, evil_name);
    b1.state_text = hostile;
    auto b3 = make_actor(node_b, 3, "delta");
    b3.pending_requests = {0x9000000000000003u, 0x9000000000000004u};
    b3.awaited = {{0x9000000000000003u, 2, node_a},
                  {0x9000000000000004u, 9, node_a}}; // 9 is not recorded
    actors = {a1, a2, b1, b3};
    std::vector<cs::message_record> msgs;
    msgs.push_back(make_message(node_a, 1, node_b, 1, loc::queue));
    msgs.push_back(make_message(node_a, 1, node_b, 1, loc::stash));
    msgs.push_back(make_message(node_a, 1, node_b, 1, loc::queue));
    msgs.push_back(make_message(node_b, 1, node_a, 2, loc::clock));
    for (int i = 0; i < 2; ++i) {
      auto m = make_message("", 0, node_a, 1, loc::urgent); // anonymous
      m.from_participant = false;
      m.priority = 1;
      msgs.push_back(m);
    }
    auto unrecorded_sender = make_message(node_b, 99, node_b, 3, loc::wire);
    unrecorded_sender.from_participant = false;
    msgs.push_back(unrecorded_sender);
    auto to_unrecorded = make_message(node_a, 2, node_a, 7, loc::queue);
    to_unrecorded.text = hostile;
    msgs.push_back(to_unrecorded);
    synthetic_ = write_snapshot(dir, 7, actors, msgs);
    // The same with a third, hostile node.
    actors.push_back(make_actor(evil_node, 5, evil_name));
    msgs.push_back(make_message(evil_node, 5, node_a, 1, loc::queue));
    evil_ = write_snapshot(dir, 8, actors, msgs);
    // 250 actors in three groups: node A has 150 workers and 50 managers,
    // node B has 50 workers. Each manager sends to a worker of A, each
    // worker of B to a manager.
    actors.clear();
    msgs.clear();
    for (caf::actor_id i = 1; i <= 150; ++i)
      actors.push_back(make_actor(node_a, i, "worker"));
    for (caf::actor_id i = 151; i <= 200; ++i) {
      actors.push_back(make_actor(node_a, i, "manager"));
      msgs.push_back(make_message(node_a, i, node_a, i - 150, loc::queue));
    }
    for (caf::actor_id i = 1; i <= 50; ++i) {
      actors.push_back(make_actor(node_b, i, "worker"));
      msgs.push_back(make_message(node_b, i, node_a, 150 + i, loc::stash));
    }
    actors[0].status = cs::actor_status::exited;
    large_ = write_snapshot(dir, 9, actors, msgs);
  }

  // Runs the tool with `args` (already quoted as needed).
  static run_result run(const std::string& args) {
    return test::tool_runner{CAF_SNAPSHOT_TOOL, work_->path()}.run(args);
  }

  // Runs `show --json` with `args` and parses its output.
  static json show_json(const std::string& args) {
    auto res = run("show --json " + args);
    EXPECT_EQ(res.code, 0) << args << "\nstderr: " << res.err;
    EXPECT_EQ(res.err, "") << args;
    std::string err;
    auto doc = json_parser::parse(res.out, err);
    EXPECT_TRUE(doc) << args << ": " << err;
    EXPECT_TRUE(!res.out.empty() && res.out.back() == '\n');
    if (!doc)
      return {};
    EXPECT_EQ(doc->kind, json::object);
    EXPECT_EQ((*doc)["schema"].str(), "caf-snapshot/show");
    EXPECT_EQ((*doc)["schema_version"].u64(), 1u);
    return std::move(*doc);
  }

  // Runs `dot` with `args` and parses its output.
  static dot_graph dot(const std::string& args, std::string* text = nullptr) {
    auto res = run("dot " + args);
    EXPECT_EQ(res.code, 0) << args << "\nstderr: " << res.err;
    EXPECT_EQ(res.err, "") << args;
    EXPECT_EQ(res.out.rfind("digraph cut {\n", 0), 0u) << res.out;
    EXPECT_TRUE(res.out.size() > 2
                && res.out.compare(res.out.size() - 2, 2, "}\n") == 0);
    // Every control character of the file is escaped, so the only raw
    // control characters are the line ends between statements.
    for (auto c : res.out)
      EXPECT_FALSE(static_cast<uint8_t>(c) < 0x20 && c != '\n')
        << args << ": raw control character " << int(c);
    if (text != nullptr)
      *text = res.out;
    return parse_dot(res.out);
  }

  static bool have_graphviz() {
    return std::system("command -v dot >/dev/null 2>&1") == 0;
  }

  // Renders DOT text with Graphviz into `format`; returns the exit code.
  static int render(const std::string& dot_text, const std::string& format,
                    std::string& output, std::string& errors) {
    auto in = work_->path() + "/graph.dot";
    auto out = work_->path() + "/graph." + format;
    auto err = work_->path() + "/dot-stderr.txt";
    write_file(in, dot_text);
    fs::remove(out);
    auto cmd = "dot -T" + format + " -o " + quote(out) + " " + quote(in) + " 2>"
               + quote(err);
    auto status = std::system(cmd.c_str());
    output = read_file(out);
    errors = read_file(err);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  static const cs::actor_record* real_actor(caf::actor_id id) {
    for (auto& a : real_snap_.actors)
      if (a.id == id)
        return &a;
    return nullptr;
  }

  // The element of `actors` with ID `id`.
  static const json* find_actor(const json& actors, uint64_t id) {
    for (auto& a : actors.items)
      if (a["id"].u64() == id)
        return &a;
    return nullptr;
  }

  static std::unique_ptr<test::temp_dir> snaps_;
  static std::unique_ptr<test::temp_dir> work_;
  static std::string real_;
  static std::string synthetic_;
  static std::string evil_;
  static std::string large_;
  static cs::global_snapshot real_snap_;
  static caf::actor_id sink_id_;
  static caf::actor_id server_id_;
  static caf::actor_id requester_id_;
  static std::vector<caf::actor_id> account_ids_;
};

std::unique_ptr<test::temp_dir> inspect_json_dot_test::snaps_;
std::unique_ptr<test::temp_dir> inspect_json_dot_test::work_;
std::string inspect_json_dot_test::real_;
std::string inspect_json_dot_test::synthetic_;
std::string inspect_json_dot_test::evil_;
std::string inspect_json_dot_test::large_;
cs::global_snapshot inspect_json_dot_test::real_snap_;
caf::actor_id inspect_json_dot_test::sink_id_ = 0;
caf::actor_id inspect_json_dot_test::server_id_ = 0;
caf::actor_id inspect_json_dot_test::requester_id_ = 0;
std::vector<caf::actor_id> inspect_json_dot_test::account_ids_;

} // namespace

// -- show --json --------------------------------------------------------------

TEST_F(inspect_json_dot_test, snapshots_were_taken_and_written) {
  ASSERT_FALSE(real_.empty());
  EXPECT_EQ(real_snap_.actors.size(), num_accounts + 3);
  // External and hostile deposits and the accounts' deposits wait at the
  // sink, each account's delayed deposit in the clock, the ping at the
  // server.
  EXPECT_EQ(real_snap_.in_flight.size(),
            num_external + 1 + 2 * num_accounts + 1);
  for (auto& path : {synthetic_, evil_, large_})
    EXPECT_TRUE(cs::load(path)) << path;
}

TEST_F(inspect_json_dot_test, json_matches_the_loaded_snapshot) {
  auto doc = show_json(quote(real_) + " --all");
  auto& snap = real_snap_;
  EXPECT_FALSE(doc["tool_version"].str().empty());
  EXPECT_TRUE(doc["limits"]["items"].is_null());
  EXPECT_TRUE(doc["limits"]["text_bytes"].is_null());
  EXPECT_EQ(doc["filter"]["actors"].size(), 0u);
  EXPECT_EQ(doc["filter"]["nodes"].size(), 0u);
  auto& s = doc["summary"];
  EXPECT_EQ(s["id"].u64(), snap.id);
  EXPECT_EQ(s["file"].str(), real_);
  EXPECT_EQ(s["file_bytes"].u64(), fs::file_size(real_));
  EXPECT_EQ(s["coordinator_node"].str(), snap.coordinator_node);
  EXPECT_EQ(s["requested_at_ms"].u64(), snap.requested_at_ms);
  EXPECT_EQ(s["completed_at_ms"].u64(), snap.completed_at_ms);
  EXPECT_EQ(s["duration_ms"].u64(),
            snap.completed_at_ms - snap.requested_at_ms);
  // ISO-8601 in UTC with milliseconds.
  static const std::regex iso{R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"};
  EXPECT_TRUE(std::regex_match(s["requested_at"].str(), iso))
    << s["requested_at"].str();
  EXPECT_TRUE(std::regex_match(s["completed_at"].str(), iso));
  EXPECT_TRUE(s["complete"].boolean_value());
  EXPECT_EQ(s["incomplete_reason"].str(), "");
  auto& counts = s["counts"];
  EXPECT_EQ(counts["actors"].u64(), snap.actors.size());
  EXPECT_EQ(counts["nodes"].u64(), 1u);
  EXPECT_EQ(counts["in_flight"]["total"].u64(), snap.in_flight.size());
  std::map<std::string, uint64_t> by_location;
  uint64_t external = 0;
  for (auto& m : snap.in_flight) {
    ++by_location[cs::to_string(m.location)];
    if (!m.from_participant)
      ++external;
  }
  for (auto loc : {"queue", "urgent", "stash", "clock", "wire"})
    EXPECT_EQ(counts["in_flight"][loc].u64(), by_location[loc]) << loc;
  EXPECT_EQ(counts["external"].u64(), external);
  EXPECT_EQ(counts["external"].u64(), num_external + 1);
  EXPECT_EQ(counts["to_unrecorded_actors"].u64(), 0u);
  ASSERT_EQ(doc["nodes"].size(), 1u);
  EXPECT_EQ(doc["nodes"][0]["node"].str(), snap.actors.at(0).node);
  EXPECT_EQ(doc["nodes"][0]["actors"].u64(), snap.actors.size());
  // Every actor, sorted by ID, with every message waiting for it.
  auto& actors = doc["actors"];
  ASSERT_EQ(actors.size(), snap.actors.size());
  uint64_t waiting = 0;
  uint64_t prev_id = 0;
  for (auto& a : actors.items) {
    auto id = a["id"].u64();
    EXPECT_GT(id, prev_id);
    prev_id = id;
    auto rec = real_actor(id);
    ASSERT_NE(rec, nullptr) << id;
    EXPECT_EQ(a["node"].str(), rec->node);
    EXPECT_EQ(a["name"].str(), rec->name);
    EXPECT_EQ(a["status"].str(), "running");
    EXPECT_EQ(a["exit_reason"].str(), "");
    EXPECT_EQ(a["state_bytes"].u64(), rec->state.size());
    EXPECT_FALSE(a["state_text_truncated"].boolean_value());
    EXPECT_EQ(a["pending_requests"].size(), rec->pending_requests.size());
    EXPECT_EQ(a["awaited"].size(), rec->awaited.size());
    EXPECT_EQ(a["waiting"].size(), a["waiting_count"].u64());
    waiting += a["waiting_count"].u64();
    uint64_t prev_index = 0;
    for (auto& m : a["waiting"].items) {
      auto index = m["index"].u64();
      ASSERT_LT(index, snap.in_flight.size());
      EXPECT_TRUE(index >= prev_index); // file order
      prev_index = index;
      auto& rec_msg = snap.in_flight[index];
      EXPECT_EQ(m["receiver"].u64(), id);
      EXPECT_EQ(m["sender"].u64(), rec_msg.sender);
      EXPECT_EQ(m["sender_node"].str(), rec_msg.sender_node);
      EXPECT_EQ(m["receiver_node"].str(), rec_msg.receiver_node);
      EXPECT_EQ(m["mid"].u64(), rec_msg.mid);
      EXPECT_EQ(m["location"].str(), cs::to_string(rec_msg.location));
      EXPECT_EQ(m["priority"].str(), rec_msg.priority != 0 ? "high" : "normal");
      EXPECT_EQ(m["from_participant"].boolean_value(),
                rec_msg.from_participant);
      EXPECT_EQ(m["content_bytes"].u64(), rec_msg.content.size());
      EXPECT_EQ(m["text"].str(), replace_invalid_utf8(rec_msg.text));
      EXPECT_FALSE(m["text_truncated"].boolean_value());
    }
  }
  EXPECT_EQ(waiting, snap.in_flight.size());
  auto sink = find_actor(actors, sink_id_);
  ASSERT_NE(sink, nullptr);
  EXPECT_EQ((*sink)["waiting_count"].u64(), num_external + 1 + num_accounts);
  // Channels: busiest first, counts adding up to the messages in flight.
  auto& channels = doc["channels"];
  uint64_t in_channels = 0;
  uint64_t prev_count = std::numeric_limits<uint64_t>::max();
  for (auto& ch : channels.items) {
    auto n = ch["count"].u64();
    EXPECT_LE(n, prev_count);
    prev_count = n;
    in_channels += n;
    EXPECT_EQ(ch["messages"].size(), n);
    EXPECT_EQ(ch["locations"]["total"].u64(), n);
    for (auto& m : ch["messages"].items) {
      EXPECT_EQ(m["sender"].u64(), ch["sender"].u64());
      EXPECT_EQ(m["receiver"].u64(), ch["receiver"].u64());
    }
  }
  EXPECT_EQ(in_channels, snap.in_flight.size());
  // The busiest channel: anonymous senders to the sink.
  ASSERT_GT(channels.size(), 0u);
  EXPECT_EQ(channels[0]["sender"].u64(), 0u);
  EXPECT_EQ(channels[0]["sender_node"].str(), "");
  EXPECT_EQ(channels[0]["receiver"].u64(), sink_id_);
  EXPECT_EQ(channels[0]["count"].u64(), num_external + 1);
  EXPECT_EQ(channels[0]["external"].u64(), num_external + 1);
  EXPECT_EQ(doc["selected"]["actors"].u64(), snap.actors.size());
  EXPECT_EQ(doc["selected"]["channels"].u64(), channels.size());
  for (auto key :
       {"nodes", "actors", "waiting", "channels", "channel_messages", "texts"})
    EXPECT_EQ(doc["omitted"][key].u64(), 0u) << key;
}

TEST_F(inspect_json_dot_test, json_pending_requests_join_awaited_and_messages) {
  auto doc = show_json(quote(real_) + " --all");
  auto req = find_actor(doc["actors"], requester_id_);
  ASSERT_NE(req, nullptr);
  auto rec = real_actor(requester_id_);
  ASSERT_NE(rec, nullptr);
  ASSERT_EQ(rec->pending_requests.size(), 1u);
  ASSERT_EQ((*req)["pending_requests"].size(), 1u);
  auto request_id = (*req)["pending_requests"][0].u64();
  EXPECT_EQ(request_id,
            rec->pending_requests[0] & caf::message_id::request_id_mask);
  EXPECT_LT(request_id, uint64_t{1} << 53); // exact in every JSON reader
  // The ping waits at the server as a request with the same number.
  auto srv = find_actor(doc["actors"], server_id_);
  ASSERT_NE(srv, nullptr);
  ASSERT_EQ((*srv)["waiting"].size(), 1u);
  auto& ping = (*srv)["waiting"][0];
  EXPECT_EQ(ping["sender"].u64(), requester_id_);
  EXPECT_EQ(ping["kind"].str(), "request");
  EXPECT_EQ(ping["request_id"].u64(), request_id);
  EXPECT_TRUE(ping["location"].str() == "stash"
              || ping["location"].str() == "queue")
    << ping["location"].str();
  // The requester's record names the server as the actor it awaits.
  ASSERT_EQ((*req)["awaited"].size(), rec->awaited.size());
  if (rec->awaited.empty())
    GTEST_SKIP() << "the library records no awaited requests";
  auto& awaited = (*req)["awaited"][0];
  EXPECT_EQ(awaited["id"].u64(), request_id);
  EXPECT_EQ(awaited["target"].u64(), server_id_);
  EXPECT_EQ(awaited["target_node"].str(), rec->node);
}

TEST_F(inspect_json_dot_test, json_applies_the_default_limits) {
  auto doc = show_json(quote(real_));
  auto total = real_snap_.actors.size();
  EXPECT_EQ(doc["limits"]["items"].u64(), 20u);
  EXPECT_EQ(doc["limits"]["text_bytes"].u64(), 1000u);
  EXPECT_EQ(doc["actors"].size(), 20u);
  EXPECT_EQ(doc["selected"]["actors"].u64(), total);
  EXPECT_EQ(doc["omitted"]["actors"].u64(), total - 20);
  // The sink has the smallest ID: 20 of its messages are shown.
  auto& sink = doc["actors"][0];
  EXPECT_EQ(sink["id"].u64(), sink_id_);
  auto sink_messages = num_external + 1 + num_accounts;
  EXPECT_EQ(sink["waiting_count"].u64(), sink_messages);
  EXPECT_EQ(sink["waiting"].size(), 20u);
  EXPECT_EQ(doc["omitted"]["waiting"].u64(), sink_messages - 20);
  EXPECT_LE(doc["channels"].size(), 20u);
  EXPECT_EQ(doc["omitted"]["channels"].u64(),
            doc["selected"]["channels"].u64() - doc["channels"].size());
  // The busiest channel shows 20 of its messages.
  EXPECT_EQ(doc["channels"][0]["messages"].size(), 20u);
  EXPECT_EQ(doc["omitted"]["channel_messages"].u64(), num_external + 1 - 20);
  // The server's long state is cut after at most 1000 bytes, between two
  // UTF-8 sequences; --all shows it whole.
  auto cut = show_json(quote(real_) + " --actor " + std::to_string(server_id_));
  auto& srv = cut["actors"][0];
  EXPECT_TRUE(srv["state_text_truncated"].boolean_value());
  auto& text = srv["state_text"].str();
  EXPECT_LE(text.size(), 1000u);
  EXPECT_GE(text.size(), 997u);
  EXPECT_EQ(long_text().compare(0, text.size(), text), 0);
  EXPECT_EQ(cut["omitted"]["texts"].u64(), 1u);
  auto all
    = show_json(quote(real_) + " --all --actor " + std::to_string(server_id_));
  EXPECT_FALSE(all["actors"][0]["state_text_truncated"].boolean_value());
  EXPECT_EQ(all["actors"][0]["state_text"].str(), long_text());
}

TEST_F(inspect_json_dot_test, json_filters_and_limits) {
  auto id = account_ids_[7];
  auto one = show_json(quote(real_) + " --actor " + std::to_string(id));
  ASSERT_EQ(one["actors"].size(), 1u);
  EXPECT_EQ(one["actors"][0]["id"].u64(), id);
  EXPECT_EQ(one["actors"][0]["state_text"].str(), "balance=107");
  EXPECT_EQ(one["filter"]["actors"].size(), 1u);
  EXPECT_EQ(one["filter"]["actors"][0].u64(), id);
  EXPECT_EQ(one["selected"]["actors"].u64(), 1u);
  EXPECT_EQ(one["omitted"]["actors"].u64(), 0u);
  // Its channels: to the sink and to itself (the clock).
  EXPECT_EQ(one["channels"].size(), 2u);
  for (auto& ch : one["channels"].items)
    EXPECT_TRUE(ch["sender"].u64() == id || ch["receiver"].u64() == id);
  // The summary still covers the whole snapshot.
  EXPECT_EQ(one["summary"]["counts"]["actors"].u64(), real_snap_.actors.size());
  auto two = show_json(quote(real_) + " --actor " + std::to_string(sink_id_)
                       + "," + std::to_string(id));
  EXPECT_EQ(two["actors"].size(), 2u);
  auto node = real_snap_.actors.at(0).node;
  auto by_node
    = show_json(quote(real_) + " --all --node " + quote(node.substr(0, 3)));
  EXPECT_EQ(by_node["actors"].size(), real_snap_.actors.size());
  EXPECT_EQ(by_node["filter"]["nodes"][0].str(), node.substr(0, 3));
  auto none = show_json(quote(real_) + " --node no-such-node");
  EXPECT_EQ(none["actors"].size(), 0u);
  EXPECT_EQ(none["channels"].size(), 0u);
  EXPECT_EQ(none["selected"]["actors"].u64(), 0u);
  auto three = show_json(quote(real_) + " --limit 3");
  EXPECT_EQ(three["limits"]["items"].u64(), 3u);
  EXPECT_EQ(three["actors"].size(), 3u);
  EXPECT_EQ(three["channels"].size(), 3u);
  EXPECT_EQ(three["actors"][0]["waiting"].size(), 3u);
  EXPECT_EQ(three["omitted"]["actors"].u64(), real_snap_.actors.size() - 3);
  auto zero = show_json(quote(real_) + " --limit=0");
  EXPECT_EQ(zero["actors"].size(), 0u);
  EXPECT_EQ(zero["channels"].size(), 0u);
  EXPECT_EQ(zero["nodes"].size(), 0u);
  EXPECT_EQ(zero["omitted"]["actors"].u64(), real_snap_.actors.size());
  EXPECT_EQ(zero["omitted"]["nodes"].u64(), 1u);
}

TEST_F(inspect_json_dot_test, json_is_valid_for_hostile_strings) {
  // The sink's state: control characters are escaped, bytes that are not
  // UTF-8 replaced by U+FFFD, everything else kept.
  auto res = run("show --json --all " + quote(real_));
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(res.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(res.out.find('\x7f'), std::string::npos);
  EXPECT_EQ(res.out.find("\xc2\x9b"), std::string::npos);
  EXPECT_EQ(res.out.find("\xe2\x80\xa8"), std::string::npos);
  EXPECT_NE(res.out.find("\\u001b[31m"), std::string::npos);
  EXPECT_NE(res.out.find("\\\"quoted\\\" back\\\\slash"), std::string::npos);
  std::string err;
  auto doc = json_parser::parse(res.out, err);
  ASSERT_TRUE(doc) << err;
  auto sink = find_actor((*doc)["actors"], sink_id_);
  ASSERT_NE(sink, nullptr);
  EXPECT_EQ((*sink)["state_text"].str(), replace_invalid_utf8(hostile));
  EXPECT_NE((*sink)["state_text"].str().find("\xc3\xbc \xe2\x82\xac "
                                             "\xf0\x9f\x98\x80"),
            std::string::npos);
  // Hostile nodes, names, exit reasons and message texts of a synthetic
  // file, with and without limits.
  for (auto args : {"--all", "", "--limit 1", "--node evil"}) {
    auto doc2 = show_json(quote(evil_) + " " + args);
    if (std::string{args} == "--all") {
      auto& nodes = doc2["nodes"];
      ASSERT_EQ(nodes.size(), 3u);
      std::vector<std::string> names;
      for (auto& n : nodes.items)
        names.push_back(n["node"].str());
      EXPECT_NE(std::find(names.begin(), names.end(),
                          replace_invalid_utf8(evil_node)),
                names.end());
      auto& beta = doc2["actors"][1];
      EXPECT_EQ(beta["status"].str(), "exited");
      EXPECT_EQ(beta["exit_reason"].str(), "user_shutdown \"bye\"\n");
    }
  }
}

// -- dot ----------------------------------------------------------------------

TEST_F(inspect_json_dot_test, dot_output_renders_with_graphviz) {
  if (!have_graphviz())
    GTEST_SKIP() << "Graphviz' dot is not on PATH";
  for (auto args :
       {quote(real_), quote(synthetic_), quote(evil_), quote(large_),
        quote(large_) + " --max-actors 1000", quote(real_) + " --max-actors 0",
        quote(evil_) + " --node evil"}) {
    std::string text;
    dot(args, &text);
    std::string out;
    std::string err;
    EXPECT_EQ(render(text, "svg", out, err), 0) << args << ": " << err;
    EXPECT_NE(out.find("<svg"), std::string::npos) << args;
    // Graphviz warns about input that is not UTF-8.
    EXPECT_EQ(err.find("UTF"), std::string::npos) << args << ": " << err;
    EXPECT_EQ(render(text, "png", out, err), 0) << args << ": " << err;
    EXPECT_EQ(out.rfind("\x89PNG", 0), 0u) << args;
  }
}

TEST_F(inspect_json_dot_test, dot_draws_a_cluster_per_node) {
  auto g = dot(quote(synthetic_));
  EXPECT_EQ(g.clusters, 2u);
  auto evil = dot(quote(evil_));
  EXPECT_EQ(evil.clusters, 3u);
  std::string text;
  dot(quote(synthetic_), &text);
  // Node strings are shortened: 8 digits of the host ID and the process.
  EXPECT_NE(text.find("label=\"01234567#4711\""), std::string::npos) << text;
  EXPECT_NE(text.find("label=\"FEDCBA98#42\""), std::string::npos) << text;
  // A single node: one cluster.
  EXPECT_EQ(dot(quote(real_)).clusters, 1u);
}

TEST_F(inspect_json_dot_test, dot_edges_count_the_messages_in_flight) {
  // The real snapshot: one vertex per actor plus the external senders.
  auto g = dot(quote(real_));
  EXPECT_EQ(g.vertices.size(), real_snap_.actors.size() + 1);
  EXPECT_EQ(g.in_flight(), real_snap_.in_flight.size());
  auto external = g.find("external");
  auto sink = g.find(std::to_string(sink_id_) + "\\n");
  ASSERT_NE(external, nullptr);
  ASSERT_NE(sink, nullptr);
  auto from_outside = g.edge(external->id, sink->id, false);
  ASSERT_NE(from_outside, nullptr);
  // Stashed or still queued, depending on how far the sink got.
  EXPECT_EQ(from_outside->count(), num_external + 1) << from_outside->label;
  // Each account: one deposit to the sink, one to itself in the clock.
  for (auto id : account_ids_) {
    auto v = g.find(std::to_string(id) + "\\n");
    ASSERT_NE(v, nullptr) << id;
    auto self = g.edge(v->id, v->id, false);
    ASSERT_NE(self, nullptr) << id;
    EXPECT_EQ(self->label, "1 (clock)");
  }
  // The synthetic snapshot: locations are listed per channel.
  auto s = dot(quote(synthetic_));
  EXPECT_EQ(s.in_flight(), 8u);
  std::vector<std::string> labels;
  for (auto e : s.channel_edges())
    labels.push_back(e->label);
  std::sort(labels.begin(), labels.end());
  EXPECT_EQ(labels,
            (std::vector<std::string>{"1 (clock)", "1 (queue)", "1 (wire)",
                                      "2 (urgent)", "3 (queue 2, stash 1)"}));
  // One external vertex per node: anonymous senders count to the
  // receiver's node (A), the unrecorded sender 99 to its own (B).
  size_t externals = 0;
  size_t unrecorded = 0;
  size_t exited = 0;
  for (auto& [id, v] : s.vertices) {
    externals += v.label == "external";
    unrecorded += v.label == "7\\nnot recorded"
                  || v.label == "9\\nnot recorded";
    exited += v.attrs.find("dashed") != std::string::npos;
  }
  EXPECT_EQ(externals, 2u);
  EXPECT_EQ(unrecorded, 2u);
  EXPECT_EQ(exited, 1u);
  auto beta = s.find("2\\nbeta");
  ASSERT_NE(beta, nullptr);
  EXPECT_NE(beta->label.find("exited"), std::string::npos);
}

TEST_F(inspect_json_dot_test, dot_draws_awaited_requests_dashed) {
  auto loaded = cs::load(synthetic_);
  ASSERT_TRUE(loaded);
  size_t awaited = 0;
  for (auto& a : loaded->actors)
    awaited += a.awaited.size();
  if (awaited == 0)
    GTEST_SKIP() << "the library's files carry no awaited requests";
  auto g = dot(quote(synthetic_));
  std::vector<const dot_edge*> dashed;
  for (auto& e : g.edges)
    if (e.dashed())
      dashed.push_back(&e);
  EXPECT_EQ(dashed.size(), awaited);
  for (auto e : dashed)
    EXPECT_EQ(e->label, "awaits");
  // alpha (A:1) awaits B:1, delta (B:3) awaits beta (A:2) and A:9.
  auto alpha = g.find("1\\nalpha");
  auto delta = g.find("3\\ndelta");
  auto beta = g.find("2\\nbeta");
  auto nine = g.find("9\\nnot recorded");
  auto b1 = g.find("1\\ngamma");
  ASSERT_TRUE(alpha && delta && beta && nine && b1);
  EXPECT_NE(g.edge(alpha->id, b1->id, true), nullptr);
  EXPECT_NE(g.edge(delta->id, beta->id, true), nullptr);
  EXPECT_NE(g.edge(delta->id, nine->id, true), nullptr);
  // alpha also sends to B:1: a solid and a dashed edge.
  EXPECT_NE(g.edge(alpha->id, b1->id, false), nullptr);
  // The real snapshot: the requester awaits the server.
  auto rec = real_actor(requester_id_);
  ASSERT_NE(rec, nullptr);
  if (!rec->awaited.empty()) {
    auto r = dot(quote(real_));
    auto req = r.find(std::to_string(requester_id_) + "\\n");
    auto srv = r.find(std::to_string(server_id_) + "\\n");
    ASSERT_TRUE(req && srv);
    EXPECT_NE(r.edge(req->id, srv->id, true), nullptr);
    EXPECT_NE(r.edge(req->id, srv->id, false), nullptr); // the ping
  }
}

TEST_F(inspect_json_dot_test, dot_escapes_labels) {
  std::string text;
  auto g = dot(quote(evil_), &text);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\xff'), std::string::npos);
  // The hostile name: quotes and backslashes escaped, the newline and bytes
  // shown as text, `&` as an entity.
  EXPECT_NE(text.find("gamma\\\\n\\\"evil\\\"\\\\ &amp;lt; \\\\xff\\\\x1b[0m"),
            std::string::npos)
    << text;
  EXPECT_NE(text.find("label=\"evil\\\"node\\\\\\\\n\\\\xff#1\""),
            std::string::npos)
    << text;
  EXPECT_EQ(g.clusters, 3u);
}

TEST_F(inspect_json_dot_test, dot_aggregates_above_max_actors) {
  // 250 actors > 200: one vertex per node and name.
  auto g = dot(quote(large_));
  ASSERT_EQ(g.vertices.size(), 3u);
  auto managers = g.find("manager\\n50 actors");
  auto workers_a = g.find("worker\\n150 actors (1 exited)");
  auto workers_b = g.find("worker\\n50 actors");
  ASSERT_TRUE(managers && workers_a && workers_b);
  EXPECT_EQ(g.clusters, 2u);
  EXPECT_EQ(g.in_flight(), 100u);
  auto to_workers = g.edge(managers->id, workers_a->id, false);
  auto to_managers = g.edge(workers_b->id, managers->id, false);
  ASSERT_TRUE(to_workers && to_managers);
  EXPECT_EQ(to_workers->label, "50 (queue)");
  EXPECT_EQ(to_managers->label, "50 (stash)");
  std::string text;
  dot(quote(large_), &text);
  EXPECT_NE(text.find("250 actors aggregated by name"), std::string::npos);
  // Up to N actors: one vertex each.
  auto full = dot(quote(large_) + " --max-actors 250");
  EXPECT_EQ(full.vertices.size(), 250u);
  EXPECT_EQ(full.in_flight(), 100u);
  EXPECT_EQ(full.channel_edges().size(), 100u);
  auto small = dot(quote(large_) + " --max-actors=249");
  EXPECT_EQ(small.vertices.size(), 3u);
  // The real snapshot with --max-actors 0: accounts, sink, server,
  // requester and the external senders.
  auto real = dot(quote(real_) + " --max-actors 0");
  EXPECT_EQ(real.vertices.size(), 5u);
  EXPECT_EQ(real.in_flight(), real_snap_.in_flight.size());
  auto accounts = real.find("(anonymous namespace)::account\\n"
                            + std::to_string(num_accounts) + " actors");
  EXPECT_NE(accounts, nullptr);
}

TEST_F(inspect_json_dot_test, dot_filters_by_actor_and_node) {
  // An account, the sink it sends to and the clock edge to itself.
  auto id = account_ids_[3];
  auto g = dot(quote(real_) + " --actor " + std::to_string(id));
  EXPECT_EQ(g.vertices.size(), 2u);
  EXPECT_EQ(g.in_flight(), 2u);
  EXPECT_NE(g.find(std::to_string(id) + "\\n"), nullptr);
  EXPECT_NE(g.find(std::to_string(sink_id_) + "\\n"), nullptr);
  // Node B of the synthetic snapshot and the peers on node A.
  auto b = dot(quote(synthetic_) + " --node FEDC");
  EXPECT_EQ(b.clusters, 2u);
  EXPECT_NE(b.find("3\\ndelta"), nullptr);
  // B:1, B:3, the external sender 99 of B; A:1 and A:2 (peers), A:9
  // (awaited by B:3, not recorded). Anonymous input to A:1 is not drawn.
  EXPECT_EQ(b.vertices.size(), 6u);
  EXPECT_EQ(b.in_flight(), 5u);
  size_t externals = 0;
  for (auto& [vid, v] : b.vertices)
    externals += v.label == "external";
  EXPECT_EQ(externals, 1u);
  // No actor matches: an empty graph that still renders.
  auto none = dot(quote(real_) + " --node no-such-node");
  EXPECT_EQ(none.vertices.size(), 0u);
  EXPECT_EQ(none.edges.size(), 0u);
}

// -- usage and errors ---------------------------------------------------------

TEST_F(inspect_json_dot_test, help_describes_dot_and_json) {
  for (auto args :
       {"dot --help", "dot -h", "help dot", "dot FILE --bogus --help"}) {
    auto res = run(args);
    EXPECT_EQ(res.code, 0) << args;
    EXPECT_EQ(res.out.rfind("Usage: caf-snapshot dot", 0), 0u) << args;
    EXPECT_EQ(res.err, "") << args;
    for (auto opt : {"--actor", "--node", "--max-actors"})
      EXPECT_NE(res.out.find(opt), std::string::npos) << opt;
  }
  auto top = run("--help");
  EXPECT_NE(top.out.find("\n  dot "), std::string::npos) << top.out;
  auto show = run("show --help");
  EXPECT_NE(show.out.find("--json"), std::string::npos);
  EXPECT_NE(show.out.find("docs/json.md"), std::string::npos);
}

TEST_F(inspect_json_dot_test, bad_input_fails_with_one_line) {
  auto missing = work_->path() + "/no-such.cafsnap";
  auto damaged = work_->path() + "/damaged.cafsnap";
  auto bytes = read_file(real_);
  write_file(damaged, bytes.substr(0, bytes.size() / 2));
  for (auto cmd : {"show --json ", "dot "}) {
    auto res = run(cmd + quote(missing));
    expect_one_error_line(res, 1, cmd + missing);
    EXPECT_NE(res.err.find("cannot_open"), std::string::npos) << res.err;
    auto res2 = run(cmd + quote(damaged));
    expect_one_error_line(res2, 1, cmd + damaged);
    EXPECT_NE(res2.err.find("file_damaged"), std::string::npos) << res2.err;
    auto res3 = run(cmd + quote(snaps_->path()));
    expect_one_error_line(res3, 1, cmd + std::string{"directory"});
  }
  auto file = quote(real_);
  std::vector<std::string> usage{
    "dot",
    "dot " + file + " " + file,
    "dot " + file + " --max-actors",
    "dot " + file + " --max-actors many",
    "dot " + file + " --max-actors=-1",
    "dot " + file + " --actor abc",
    "dot " + file + " --node=",
    "dot " + file + " --limit 3",
    "dot " + file + " --json",
    "dot " + file + " -x",
    "show --json",
    "show " + file + " --json=yes",
    "show " + file + " --json --limit ten",
  };
  for (auto& args : usage) {
    auto res = run(args);
    expect_one_error_line(res, 2, args);
    EXPECT_NE(res.err.find("--help"), std::string::npos) << res.err;
  }
}
