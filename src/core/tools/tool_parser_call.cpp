// Inside one call: its tool's name, its argument pairs (streamed), a custom tool's raw input, and
// its end. The answer around calls: tool_parser.cpp; calls written as JSON: tool_parser_json.cpp.
#include <algorithm>

#include "core/json_text.hpp"
#include "core/tools/tool_names.hpp"
#include "core/tools/tool_parser.hpp"
#include "core/tools/tool_parser_text.hpp"

namespace zai {

using tools::tag;
using tools::tag_match;
using namespace tools::text;

namespace {

constexpr std::size_t max_name_bytes = 80;
constexpr std::size_t max_key_bytes = 200;

// Where a name written after the opening tag ends.
bool ends_name(char c) { return is_space(c) || c == '<' || c == '{' || c == '('; }

std::string_view trimmed(std::string_view s) {
  const std::size_t first = s.find_first_not_of(spaces);
  if (first == npos) return {};
  return s.substr(first, s.find_last_not_of(spaces) - first + 1);
}

answer_event call_event(answer_event::kind what, std::size_t index) {
  answer_event e;
  e.what = what;
  e.index = index;
  return e;
}

}  // namespace

std::optional<std::size_t> tool_call_parser::callable_tool(std::string_view written) const {
  const std::optional<std::size_t> i = tools::snap_tool_name(written, options_.tools);
  if (!i) return std::nullopt;
  const bool named = options_.choice == tool_choice_mode::named;
  if (named && options_.tools[*i].name != options_.named_tool) return std::nullopt;
  return i;
}

bool tool_call_parser::accept_name(std::string_view written) {
  if (!call_.emitting) {  // markup being removed: any name will do, a declared one tells its kind
    call_.tool = tools::snap_tool_name(written, options_.tools);
    return !tools::bare_tool_name(written).empty();
  }
  call_.tool = callable_tool(written);
  return call_.tool.has_value();
}

bool tool_call_parser::is_custom() const {
  return call_.tool && options_.tools[*call_.tool].kind == tool_kind::custom;
}

void tool_call_parser::reject_call(std::vector<answer_event>& out) {
  const bool in_fence = call_.in_fence;
  call_ = open_call{};
  release_held(out);
  state_ = in_fence ? state::quoted_code : state::prose;
}

void tool_call_parser::start_call(std::vector<answer_event>& out) {
  if (call_.started) return;
  call_.started = true;
  held_.clear();  // the markup is a call: neither it nor the whitespace before it is text
  if (!call_.emitting || !call_.tool) return;
  answer_event e = call_event(answer_event::kind::tool_call_start, calls_++);
  e.name = options_.tools[*call_.tool].name;
  e.tool = options_.tools[*call_.tool].kind;
  out.push_back(std::move(e));
}

void tool_call_parser::emit_arguments(std::string_view text, std::vector<answer_event>& out) {
  if (text.empty()) return;
  const std::size_t index = calls_ - 1;
  if (out.size() > feed_begin_ && out.back().what == answer_event::kind::tool_call_arguments &&
      out.back().index == index) {
    out.back().text.append(text);
    return;
  }
  answer_event e = call_event(answer_event::kind::tool_call_arguments, index);
  e.text = std::string(text);
  if (call_.tool) e.tool = options_.tools[*call_.tool].kind;  // encoders tell custom input apart
  out.push_back(std::move(e));
}

void tool_call_parser::end_call(std::vector<answer_event>& out) {
  start_call(out);
  if (call_.emitting && call_.tool) {
    if (!is_custom()) emit_arguments(call_.pairs == 0 ? "{}" : "}", out);
    out.push_back(call_event(answer_event::kind::tool_call_end, calls_ - 1));
  }
  call_ = open_call{};
  state_ = state::prose;
}

void tool_call_parser::emit_whole_call(std::size_t tool, std::string_view arguments,
                                       std::vector<answer_event>& out) {
  call_.tool = tool;
  call_.emitting = true;
  call_.started = false;
  start_call(out);
  emit_arguments(arguments, out);
  out.push_back(call_event(answer_event::kind::tool_call_end, calls_ - 1));
  call_ = open_call{};
}

bool tool_call_parser::step_call_name(bool at_end, std::vector<answer_event>& out) {
  if (!call_.written_name.empty()) {  // <tool_call name="…">
    if (accept_name(call_.written_name)) {
      state_ = state::call_body;
    } else {
      reject_call(out);
    }
    return true;
  }
  const std::size_t i = pending_.find_first_not_of(spaces);
  if (i == npos) {
    if (!at_end) return false;
    reject_call(out);
    return true;
  }
  if (pending_[i] == '{' || pending_[i] == '[') {  // the whole call (or several) is JSON
    held_ += pending_.substr(0, i);
    pending_.erase(0, i);
    call_.name_in_json = true;
    state_ = state::json_body;
    return true;
  }
  if (std::string_view(pending_).substr(i).starts_with("```")) {  // a fence inside the markup
    const std::size_t newline = pending_.find('\n', i);
    if (newline == npos && !at_end) return false;
    const std::size_t end = newline == npos ? pending_.size() : newline + 1;
    held_ += pending_.substr(0, end);
    pending_.erase(0, end);
    return true;
  }
  std::size_t end = i;
  while (end < pending_.size() && !ends_name(pending_[end]) && end - i <= max_name_bytes) ++end;
  if (end - i > max_name_bytes) {
    reject_call(out);
    return true;
  }
  if (end == pending_.size() && !at_end) return false;
  const std::string name = pending_.substr(i, end - i);
  held_ += pending_.substr(0, end);
  pending_.erase(0, end);
  if (accept_name(name)) {
    state_ = state::call_body;
  } else {
    reject_call(out);
  }
  return true;
}

bool tool_call_parser::step_call_body(bool at_end, std::vector<answer_event>& out) {
  const std::size_t i = pending_.find_first_not_of(spaces);
  if (i == npos) {
    if (!at_end) return false;
    pending_.clear();
    end_call(out);  // the answer ended inside the call: close it
    return true;
  }
  if (pending_[i] == '<') {
    const tag_match m =
        tag_at(i, {tag::key_open, tag::value_open, tag::call_close, tag::call_open}, at_end);
    if (m.is == tag_match::verdict::maybe) return false;
    if (m.is == tag_match::verdict::yes) {
      start_call(out);
      if (m.what != tag::call_open) pending_.erase(0, i + m.length);
      switch (m.what) {
        case tag::key_open: state_ = state::arg_key; break;
        case tag::value_open:
          begin_value();
          state_ = state::arg_value;
          break;
        default: end_call(out); break;  // its close, or a new call after an unclosed one
      }
      return true;
    }
  }
  if (!call_.started && pending_[i] == '{') {  // NAME {arguments as JSON}
    held_ += pending_.substr(0, i);
    pending_.erase(0, i);
    state_ = state::json_body;
    return true;
  }
  if (!call_.started && is_custom()) {  // NAME, then the raw input
    pending_.erase(0, i);
    start_call(out);
    state_ = state::raw_input;
    return true;
  }
  // Text that is no part of a call: before anything was read the markup was no call; after, the
  // call ended without its closing tag.
  if (call_.started) {
    end_call(out);
  } else {
    reject_call(out);
  }
  return true;
}

bool tool_call_parser::step_arg_key(bool at_end, std::vector<answer_event>& out) {
  for (std::size_t lt = pending_.find('<'); lt != npos && lt <= max_key_bytes;
       lt = pending_.find('<', lt + 1)) {
    const tag_match m = tag_at(lt, {tag::key_close, tag::value_open}, at_end);
    if (m.is == tag_match::verdict::maybe) return false;
    if (m.is == tag_match::verdict::no) continue;
    call_.key = std::string(trimmed(std::string_view(pending_).substr(0, lt)));
    pending_.erase(0, lt + m.length);
    if (m.what == tag::value_open) {  // `<arg_key>K<arg_value>`: the key's close was left out
      begin_value();
      state_ = state::arg_value;
    } else {
      state_ = state::call_body;
    }
    return true;
  }
  if (pending_.size() <= max_key_bytes && !at_end) return false;
  end_call(out);  // no key ends here: the call is broken off
  return true;
}

void tool_call_parser::begin_value() {
  const std::string& key = call_.key;
  const bool repeated = std::find(call_.keys.begin(), call_.keys.end(), key) != call_.keys.end();
  call_.mode = value_mode::skip;
  call_.typed.clear();
  if (!call_.emitting || !call_.tool || key.empty() || repeated) return;
  call_.keys.push_back(key);
  if (is_custom()) {  // its one raw input; later pairs are dropped
    if (call_.pairs++ == 0) call_.mode = value_mode::raw;
    return;
  }
  call_.mode = schemas_[*call_.tool].takes_text(key) ? value_mode::text_pending : value_mode::typed;
}

void tool_call_parser::emit_value_text(std::string_view text, std::vector<answer_event>& out) {
  if (text.empty()) return;
  if (call_.mode == value_mode::text_pending) {
    // `"a.txt"`: the model wrote the string as JSON. Read it whole, as a typed value is.
    if (text.front() == '"') {
      call_.mode = value_mode::typed;
    } else {
      call_.mode = value_mode::text;
      std::string opening = call_.pairs++ == 0 ? "{\"" : ",\"";
      append_json_escaped(opening, call_.key);
      emit_arguments(opening + "\":\"", out);
    }
  }
  switch (call_.mode) {
    case value_mode::text: {
      std::string escaped;
      append_json_escaped(escaped, text);
      emit_arguments(escaped, out);
      break;
    }
    case value_mode::raw: emit_arguments(text, out); break;
    case value_mode::typed: call_.typed.append(text); break;
    case value_mode::text_pending:
    case value_mode::skip: break;
  }
}

void tool_call_parser::end_value(std::vector<answer_event>& out) {
  if (call_.mode == value_mode::text_pending) call_.mode = value_mode::typed;  // empty: ""
  if (call_.mode == value_mode::text) emit_arguments("\"", out);
  if (call_.mode == value_mode::typed) {
    std::string member = call_.pairs++ == 0 ? "{\"" : ",\"";
    append_json_escaped(member, call_.key);
    member += "\":";
    member += boost::json::serialize(schemas_[*call_.tool].typed_value(call_.key, call_.typed));
    emit_arguments(member, out);
  }
  call_.mode = value_mode::skip;
  call_.key.clear();
  call_.typed.clear();
}

// Streams a value's text up to its closing tag; only a possible closing tag is held back.
bool tool_call_parser::step_arg_value(bool at_end, std::vector<answer_event>& out) {
  for (std::size_t lt = pending_.find('<');; lt = pending_.find('<', lt + 1)) {
    if (lt == npos) {
      const std::size_t end = at_end ? pending_.size() : complete_utf8_prefix(pending_);
      emit_value_text(std::string_view(pending_).substr(0, end), out);
      pending_.erase(0, end);
      if (!at_end) return false;
      end_value(out);
      end_call(out);
      return true;
    }
    const tag_match m = tag_at(lt, {tag::value_close}, at_end);
    if (m.is == tag_match::verdict::no) continue;
    emit_value_text(std::string_view(pending_).substr(0, lt), out);
    if (m.is == tag_match::verdict::maybe) {
      pending_.erase(0, lt);
      return false;
    }
    pending_.erase(0, lt + m.length);
    end_value(out);
    state_ = state::call_body;
    return true;
  }
}

// A custom tool's input without pairs: streamed up to the closing tag, less the line break
// that only separates it from the tag.
bool tool_call_parser::step_raw_input(bool at_end, std::vector<answer_event>& out) {
  call_.mode = call_.emitting ? value_mode::raw : value_mode::skip;
  std::size_t lt = pending_.find('<');
  tag_match m;
  for (; lt != npos; lt = pending_.find('<', lt + 1)) {
    m = tag_at(lt, {tag::call_close}, at_end);
    if (m.is != tag_match::verdict::no) break;
  }
  const bool closed = m.is == tag_match::verdict::yes;
  std::size_t text_end = lt != npos ? lt
                         : at_end   ? pending_.size()
                                    : complete_utf8_prefix(pending_);
  while (text_end > 0 && (pending_[text_end - 1] == '\n' || pending_[text_end - 1] == '\r')) {
    --text_end;
  }
  emit_value_text(std::string_view(pending_).substr(0, text_end), out);
  if (!closed && !at_end) {  // hold the line breaks and a possible closing tag
    pending_.erase(0, text_end);
    return false;
  }
  pending_.erase(0, closed ? lt + m.length : pending_.size());
  end_call(out);
  return true;
}

}  // namespace zai
