// The answer's prose and its code fences: what is text, what may begin a call, and what the
// fences around a call mean. Inside a call: tool_parser_call.cpp; calls written as JSON, in the
// markup or in a fence: tool_parser_json.cpp.
#include "core/tools/tool_parser.hpp"

#include "core/tools/tool_parser_text.hpp"

namespace zai {

using tools::tag;
using tools::tag_match;
using namespace tools::text;

namespace {

tool_parser_options options_from(const chat_request& request, std::string nonce) {
  tool_parser_options o;
  o.tools = request.tools;
  o.choice = request.tool_choice;
  o.named_tool = request.tool_choice_name;
  o.parallel = request.parallel_tool_calls;
  o.nonce = std::move(nonce);
  return o;
}

}  // namespace

tool_call_parser::tool_call_parser(const chat_request& request, std::string nonce)
    : tool_call_parser(options_from(request, std::move(nonce))) {}

tool_call_parser::tool_call_parser(tool_parser_options options) : options_(std::move(options)) {
  for (const tool_definition& t : options_.tools) schemas_.emplace_back(t.parameters);
}

void tool_call_parser::feed(std::string_view text, std::vector<answer_event>& out) {
  feed_begin_ = out.size();
  pending_.append(text);
  while (step(false, out)) {
  }
}

void tool_call_parser::finish(std::vector<answer_event>& out) {
  feed_begin_ = out.size();
  while (step(true, out)) {
  }
  // Every state resolves at the end; this only guards against a state that did not.
  release_held(out);
  emit_prose(pending_, out);
  pending_.clear();
}

bool tool_call_parser::step(bool at_end, std::vector<answer_event>& out) {
  switch (state_) {
    case state::prose: return step_prose(at_end, out);
    case state::fence_open: return step_fence_open(at_end, out);
    case state::quoted_code: return step_quoted_code(at_end, out);
    case state::fenced_json: return step_fenced_json(at_end, out);
    case state::fenced_call: return step_fenced_call(at_end, out);
    case state::call_name: return step_call_name(at_end, out);
    case state::call_body: return step_call_body(at_end, out);
    case state::arg_key: return step_arg_key(at_end, out);
    case state::arg_value: return step_arg_value(at_end, out);
    case state::json_body: return step_json_body(at_end, out);
    case state::call_tail: return step_call_tail(at_end, out);
    case state::raw_input: return step_raw_input(at_end, out);
  }
  return false;
}

bool tool_call_parser::can_call() const {
  return options_.choice != tool_choice_mode::none && !options_.tools.empty() &&
         (options_.parallel || calls_ == 0);
}

tag_match tool_call_parser::tag_at(std::size_t at, tools::tag_set wanted, bool at_end) const {
  return tools::match_tag(std::string_view(pending_).substr(at), wanted, at_end);
}

void tool_call_parser::emit_prose(std::string_view text, std::vector<answer_event>& out) {
  for (char c : text) {
    if (c == '\n') {
      line_start_ = true;
      line_ticks_ = 0;
    } else if (!is_blank(c)) {
      line_start_ = false;
      line_ticks_ += c == '`';
    }
  }
  if (text.empty() || calls_ > 0) return;  // text after a call is dropped (header)
  if (out.size() > feed_begin_ && out.back().what == answer_event::kind::content) {
    out.back().text.append(text);
    return;
  }
  answer_event e;
  e.what = answer_event::kind::content;
  e.text = std::string(text);
  out.push_back(std::move(e));
}

void tool_call_parser::release_held(std::vector<answer_event>& out) {
  emit_prose(held_, out);
  held_.clear();
}

// Emits the first `count` pending bytes as prose; false, so the caller waits for more text.
bool tool_call_parser::hold_from(std::size_t count, std::vector<answer_event>& out) {
  emit_prose(std::string_view(pending_).substr(0, count), out);
  pending_.erase(0, count);
  return false;
}

bool tool_call_parser::step_prose(bool at_end, std::vector<answer_event>& out) {
  bool line_start = line_start_;
  unsigned ticks = line_ticks_;
  std::size_t blank_from = npos;  // where the trailing whitespace begins
  std::size_t i = 0;
  while (i < pending_.size()) {
    const char c = pending_[i];
    if (is_space(c)) {
      if (blank_from == npos) blank_from = i;
      if (c == '\n') {
        line_start = true;
        ticks = 0;
      }
      ++i;
      continue;
    }
    const std::size_t held_from = blank_from == npos ? i : blank_from;
    if (c == '`' || c == '~') {
      const std::size_t run = run_length(pending_, i, c);
      if (line_start && run < 3 && i + run == pending_.size() && !at_end) {
        return hold_from(held_from, out);  // may still become a fence
      }
      if (line_start && run >= 3) return open_fence(held_from, i, at_end, out);
      if (c == '`') ticks += static_cast<unsigned>(run);
      i += run;
    } else if (c == '<' && ticks % 2 == 0) {  // an odd count: inside an inline code span
      const tag_match m = tag_at(i, {tag::call_open}, at_end);
      if (m.is == tag_match::verdict::maybe) return hold_from(held_from, out);
      if (m.is == tag_match::verdict::yes) {
        open_call_at(held_from, i, m, false, out);
        return true;
      }
      ++i;
    } else {
      ++i;
    }
    blank_from = npos;
    line_start = false;
  }
  const std::size_t end = at_end               ? pending_.size()
                          : blank_from != npos ? blank_from
                                               : complete_utf8_prefix(pending_);
  hold_from(end, out);
  return end > 0;
}

bool tool_call_parser::open_fence(std::size_t held_from, std::size_t marker, bool at_end,
                                  std::vector<answer_event>& out) {
  const std::size_t newline = pending_.find('\n', marker);
  if (newline == npos && !at_end) return hold_from(held_from, out);
  const std::size_t line_end = newline == npos ? pending_.size() : newline + 1;
  fence_char_ = pending_[marker];
  fence_length_ = run_length(pending_, marker, fence_char_);
  if (!can_call()) {  // nothing in it could be returned: it is quoted code at once
    emit_prose(std::string_view(pending_).substr(0, line_end), out);
    pending_.erase(0, line_end);
    state_ = state::quoted_code;
    return true;
  }
  emit_prose(std::string_view(pending_).substr(0, held_from), out);
  held_ = pending_.substr(held_from, line_end - held_from);
  pending_.erase(0, line_end);
  state_ = state::fence_open;
  return true;
}

void tool_call_parser::open_call_at(std::size_t held_from, std::size_t at, const tag_match& tag,
                                    bool in_fence, std::vector<answer_event>& out) {
  emit_prose(std::string_view(pending_).substr(0, held_from), out);
  held_ += pending_.substr(held_from, at + tag.length - held_from);
  pending_.erase(0, at + tag.length);
  call_ = open_call{};
  call_.in_fence = in_fence;
  state_ = state::call_name;
  if (!options_.nonce.empty() && tag.nonce && *tag.nonce != options_.nonce) {
    reject_call(out);  // copied from elsewhere: not this request's call
    return;
  }
  call_.emitting = can_call();
  call_.written_name = tag.name;
}

bool tool_call_parser::step_fence_open(bool at_end, std::vector<answer_event>& out) {
  const std::size_t i = pending_.find_first_not_of(spaces);
  if (i == npos) {
    if (!at_end) return false;
    release_held(out);
    state_ = state::prose;
    return true;
  }
  if (pending_[i] == '{') {
    fence_head_.reset();
    call_ = open_call{};
    state_ = state::fenced_json;
    return true;
  }
  if (pending_[i] == '<') {
    const tag_match m = tag_at(i, {tag::call_open}, at_end);
    if (m.is == tag_match::verdict::maybe) return false;
    // Markup in a fence is shown, not made, unless it carries this request's nonce.
    if (m.is == tag_match::verdict::yes && !options_.nonce.empty() && m.nonce == options_.nonce) {
      open_call_at(0, i, m, true, out);
      return true;
    }
  }
  release_held(out);
  state_ = state::quoted_code;
  return true;
}

bool tool_call_parser::step_quoted_code(bool at_end, std::vector<answer_event>& out) {
  bool line_start = line_start_;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    const char c = pending_[i];
    if (c == '\n') {
      line_start = true;
      continue;
    }
    if (line_start && is_blank(c)) continue;
    if (line_start && c == fence_char_) {
      const std::size_t run = run_length(pending_, i, c);
      if (i + run == pending_.size() && !at_end) return hold_from(i, out);  // may still grow
      if (run >= fence_length_) {
        hold_from(i + run, out);
        state_ = state::prose;
        return true;
      }
    }
    line_start = false;
  }
  const std::size_t end = at_end ? pending_.size() : complete_utf8_prefix(pending_);
  hold_from(end, out);
  return end > 0;
}

}  // namespace zai
