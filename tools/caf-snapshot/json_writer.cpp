#include "json_writer.hpp"

#include <cassert>

#include "utf8.hpp"

namespace caf_snapshot_tool {

json_writer::json_writer(std::ostream& out) : out_(out) {
  // nop
}

json_writer& json_writer::begin_object() {
  before_value();
  out_ << '{';
  stack_.push_back(level{true, 0});
  return *this;
}

json_writer& json_writer::end_object() {
  return end(true, '}');
}

json_writer& json_writer::begin_array() {
  before_value();
  out_ << '[';
  stack_.push_back(level{false, 0});
  return *this;
}

json_writer& json_writer::end_array() {
  return end(false, ']');
}

json_writer& json_writer::key(std::string_view name) {
  assert(!stack_.empty() && stack_.back().is_object && !after_key_);
  auto& top = stack_.back();
  if (top.members++ > 0)
    out_ << ',';
  newline_and_indent(stack_.size());
  buf_.clear();
  buf_ += '"';
  escape(name, buf_);
  buf_ += "\": ";
  out_ << buf_;
  after_key_ = true;
  return *this;
}

json_writer& json_writer::string(std::string_view str) {
  before_value();
  buf_.clear();
  buf_ += '"';
  escape(str, buf_);
  buf_ += '"';
  out_ << buf_;
  if (stack_.empty())
    out_ << '\n';
  return *this;
}

json_writer& json_writer::number(uint64_t x) {
  before_value();
  out_ << x;
  if (stack_.empty())
    out_ << '\n';
  return *this;
}

json_writer& json_writer::boolean(bool x) {
  before_value();
  out_ << (x ? "true" : "false");
  if (stack_.empty())
    out_ << '\n';
  return *this;
}

json_writer& json_writer::null() {
  before_value();
  out_ << "null";
  if (stack_.empty())
    out_ << '\n';
  return *this;
}

void json_writer::escape(std::string_view str, std::string& out) {
  static constexpr char hex[] = "0123456789abcdef";
  auto u_escape = [&](char32_t cp) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4)
      out += hex[(cp >> shift) & 0x0F];
  };
  for (size_t i = 0; i < str.size();) {
    auto c = static_cast<unsigned char>(str[i]);
    if (c >= 0x20 && c < 0x7F) {
      if (c == '"' || c == '\\')
        out += '\\';
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    char32_t cp = 0;
    auto n = utf8_length(str, i, cp);
    if (n == 0) {
      u_escape(0xFFFD);
      ++i;
      continue;
    }
    switch (cp) {
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028
            || cp == 0x2029)
          u_escape(cp);
        else
          out.append(str.data() + i, n);
    }
    i += n;
  }
}

void json_writer::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (stack_.empty())
    return;
  auto& top = stack_.back();
  assert(!top.is_object);
  if (top.members++ > 0)
    out_ << ',';
  newline_and_indent(stack_.size());
}

void json_writer::newline_and_indent(size_t depth) {
  out_ << '\n';
  for (size_t i = 0; i < depth; ++i)
    out_ << "  ";
}

json_writer& json_writer::end(bool is_object, char closing) {
  assert(!stack_.empty() && stack_.back().is_object == is_object
         && !after_key_);
  static_cast<void>(is_object);
  auto members = stack_.back().members;
  stack_.pop_back();
  if (members > 0)
    newline_and_indent(stack_.size());
  out_ << closing;
  if (stack_.empty())
    out_ << '\n';
  return *this;
}

} // namespace caf_snapshot_tool
