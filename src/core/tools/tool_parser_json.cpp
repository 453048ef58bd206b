// Calls written as JSON: in the markup (`<tool_call>{…}</tool_call>`, `<tool_call>NAME {…}`)
// and in a code fence that ends the answer. JSON is held to its end, because only the whole text
// can be repaired and typed; the call then comes out in one piece.
#include "core/tools/loose_json.hpp"
#include "core/tools/tool_names.hpp"
#include "core/tools/tool_parser.hpp"
#include "core/tools/tool_parser_text.hpp"

namespace zai {

using tools::tag;
using tools::tag_match;
using namespace tools::text;

// The arguments text a client receives for `tool`: a function's coerced JSON object, a custom
// tool's raw string. nullopt when a function's arguments are not an object.
std::optional<std::string> tool_call_parser::arguments_for(std::size_t tool,
                                                           boost::json::value v) const {
  if (options_.tools[tool].kind == tool_kind::custom) {
    if (const boost::json::string* s = v.if_string()) return std::string(*s);
    const boost::json::object* o = v.if_object();
    if (o && o->size() == 1 && o->begin()->value().is_string()) {
      return std::string(o->begin()->value().as_string());
    }
    return boost::json::serialize(v);
  }
  boost::json::object* o = v.if_object();
  if (o == nullptr) return std::nullopt;
  schemas_[tool].coerce(*o);
  return boost::json::serialize(*o);
}

// Holds a call's JSON until its braces balance or the call's closing tag comes.
bool tool_call_parser::step_json_body(bool at_end, std::vector<answer_event>& out) {
  for (std::size_t i = call_.scanned; i < pending_.size(); ++i) {
    const char c = pending_[i];
    if (call_.in_string) {
      call_.in_string = call_.escaped || c != '"';
      call_.escaped = !call_.escaped && c == '\\';
      continue;
    }
    if (c == '"') call_.in_string = true;
    if (c == '{' || c == '[') ++call_.depth;
    if ((c == '}' || c == ']') && --call_.depth <= 0) {
      finish_json(i + 1, out);
      return true;
    }
    if (c == '<') {
      const tag_match m = tag_at(i, {tag::call_close}, at_end);
      if (m.is == tag_match::verdict::maybe) {
        call_.scanned = i;
        return false;
      }
      if (m.is == tag_match::verdict::yes) {  // closed before its braces balanced
        finish_json(i, out);
        return true;
      }
    }
  }
  call_.scanned = pending_.size();
  if (!at_end) return false;
  finish_json(pending_.size(), out);
  return true;
}

std::optional<std::vector<tool_call_parser::resolved_call>> tool_call_parser::resolve_json_calls(
    const boost::json::value& v) const {
  const std::vector<tools::json_call> calls = tools::read_json_calls(v);
  if (calls.empty()) return std::nullopt;
  std::vector<resolved_call> out;
  for (const tools::json_call& call : calls) {
    const std::optional<std::size_t> tool = callable_tool(call.name);
    std::optional<std::string> arguments;
    if (tool) arguments = arguments_for(*tool, call.arguments);
    if (!arguments) return std::nullopt;  // one bad call makes the whole JSON text
    out.push_back({*tool, std::move(*arguments)});
  }
  return out;
}

void tool_call_parser::emit_resolved(const std::vector<resolved_call>& calls,
                                     std::vector<answer_event>& out) {
  for (const resolved_call& call : calls) {
    if (!options_.parallel && calls_ > 0) return;
    emit_whole_call(call.tool, call.arguments, out);
  }
}

// The JSON of a call in the markup is complete: it becomes the call (or calls), or the markup
// is text after all. While calls are being removed, any call-shaped JSON is removed with it.
void tool_call_parser::finish_json(std::size_t end, std::vector<answer_event>& out) {
  const std::string json = pending_.substr(0, end);
  held_ += json;
  pending_.erase(0, end);
  const std::optional<boost::json::value> v = tools::read_loose_json(json);
  std::optional<std::vector<resolved_call>> calls;
  if (v && call_.name_in_json && call_.emitting) {
    calls = resolve_json_calls(*v);
  } else if (v && call_.name_in_json) {
    if (!tools::read_json_calls(*v).empty()) calls.emplace();
  } else if (v && call_.tool) {  // NAME {arguments}, or NAME {"name":NAME,"arguments":{…}}
    std::optional<tools::json_call> inner = tools::read_json_call(*v);
    const bool wrapped = inner && !inner->name.empty() &&
                         tools::snap_tool_name(inner->name, options_.tools) == call_.tool;
    std::optional<std::string> arguments =
        arguments_for(*call_.tool, wrapped ? inner->arguments : *v);
    if (arguments) calls = std::vector<resolved_call>{{*call_.tool, std::move(*arguments)}};
  } else if (v && !call_.emitting) {
    calls.emplace();
  }
  if (!calls) return reject_call(out);
  held_.clear();
  const bool in_fence = call_.in_fence;
  if (call_.emitting) emit_resolved(*calls, out);
  call_ = open_call{};
  call_.in_fence = in_fence;
  state_ = state::call_tail;
}

// After a JSON body: whitespace, a fence the JSON sat in, then maybe the closing tag.
bool tool_call_parser::step_call_tail(bool at_end, std::vector<answer_event>& /*out*/) {
  std::size_t i = pending_.find_first_not_of(spaces);
  if (i != npos && pending_[i] == '`') {
    i = pending_.find_first_not_of(spaces, i + run_length(pending_, i, '`'));
  }
  if (i == npos) {
    if (!at_end) return false;
    pending_.clear();
    state_ = state::prose;
    return true;
  }
  if (pending_[i] == '<') {
    const tag_match m = tag_at(i, {tag::call_close}, at_end);
    if (m.is == tag_match::verdict::maybe) return false;
    if (m.is == tag_match::verdict::yes) pending_.erase(0, i + m.length);
  }
  state_ = state::prose;
  return true;
}

bool tool_call_parser::step_fenced_json(bool at_end, std::vector<answer_event>& out) {
  using verdict = tools::json_call_head::verdict;
  const fence_close close =
      find_fence_close(pending_, call_.scanned, fence_char_, fence_length_, at_end);
  call_.scanned = close.inside;
  // The head is judged on the fence's content known so far, never on text past its close: a
  // string left open inside the fence would otherwise read on into whatever follows it, and
  // whether that had arrived yet would decide between quoted code and a call.
  if (!fence_head_ || fence_head_->is == verdict::undecided) {
    fence_head_ = tools::peek_json_call(std::string_view(pending_).substr(0, close.inside));
    const bool named_other = fence_head_->is == verdict::named && !callable_tool(fence_head_->name);
    if (fence_head_->is == verdict::not_a_call || named_other) {
      release_held(out);  // ordinary JSON in a fence: quoted code
      state_ = state::quoted_code;
      return true;
    }
  }
  if (close.at == npos && !at_end) return false;
  const std::size_t content_end = close.at == npos ? pending_.size() : close.at;
  std::optional<std::vector<resolved_call>> calls;
  if (std::optional<boost::json::value> v =
          tools::read_loose_json(pending_.substr(0, content_end))) {
    calls = resolve_json_calls(*v);
  }
  if (!calls) {
    release_held(out);
    state_ = state::quoted_code;
    return true;
  }
  const std::size_t end = close.at == npos ? pending_.size() : close.end;
  held_ += pending_.substr(0, end);
  pending_.erase(0, end);
  fenced_ = std::move(*calls);
  state_ = state::fenced_call;
  return true;
}

bool tool_call_parser::step_fenced_call(bool at_end, std::vector<answer_event>& out) {
  const std::size_t i = pending_.find_first_not_of(spaces);
  bool confirmed = at_end && i == npos;
  if (i != npos) {
    const char c = pending_[i];
    if (c == '<') {
      const tag_match m = tag_at(i, {tag::call_open}, at_end);
      if (m.is == tag_match::verdict::maybe) return false;
      confirmed = m.is == tag_match::verdict::yes;  // another call follows
    } else if (c == '`' || c == '~') {
      const std::size_t run = run_length(pending_, i, c);
      if (run < 3 && i + run == pending_.size() && !at_end) return false;
      confirmed = run >= 3;  // another fence follows
    }
    if (!confirmed) {  // visible text follows: the fence showed an example
      fenced_.clear();
      release_held(out);
      state_ = state::prose;
      return true;
    }
  }
  if (!confirmed) return false;
  held_.clear();
  pending_.erase(0, i == npos ? pending_.size() : i);
  emit_resolved(fenced_, out);
  fenced_.clear();
  state_ = state::prose;
  return true;
}

}  // namespace zai
