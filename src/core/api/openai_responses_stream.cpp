#include "core/api/openai_responses_stream.hpp"

#include <algorithm>

#include "core/json_text.hpp"

namespace zai {
namespace {

void end_event(std::string& out) { out += "}\n\n"; }

// The one part a reasoning item (its summary) or a message (its content) has, as the *_part
// events carry it.
void append_part(std::string& out, output_item::kind what, std::string_view text) {
  if (what == output_item::kind::reasoning) {
    out += R"(,"summary_index":0,"part":{"type":"summary_text")";
    append_string_member(out, "text", text);
    out += '}';
  } else {
    out += R"(,"content_index":0,"part":{"type":"output_text")";
    append_string_member(out, "text", text);
    out += R"(,"annotations":[],"logprobs":[]})";
  }
}

}  // namespace

response_event_writer::response_event_writer(const completion_meta& meta,
                                             const chat_request& request, response_store* store,
                                             double now_ms)
    : meta_(meta), store_(request.responses.store ? store : nullptr), now_ms_(now_ms) {
  request_.responses = request.responses;
  if (store_ != nullptr) request_.messages = request.messages;
}

void response_event_writer::begin(std::string& out, std::string_view type) {
  out += "event: ";
  out += type;
  out += "\ndata: {\"type\":\"";
  out += type;
  out += "\",\"sequence_number\":";
  append_json_uint(out, sequence_++);
}

void response_event_writer::begin_item_event(std::string& out, std::string_view type,
                                             std::size_t index) {
  begin(out, type);
  append_string_member(out, "item_id", items_[index].id);
  out += ",\"output_index\":";
  append_json_uint(out, index);
}

void response_event_writer::lifecycle(std::string& out, std::string_view type,
                                      const response_outcome& outcome) {
  const std::vector<output_item> output =
      outcome.status == "in_progress" ? std::vector<output_item>{} : finished_items();
  std::string body;
  append_response_object(body, meta_, request_, output, outcome);
  begin(out, type);
  out += ",\"response\":";
  out += body;
  end_event(out);
  if (store_ != nullptr && (outcome.status == "completed" || outcome.status == "incomplete")) {
    store_->put(stored_form(meta_, request_, output, std::move(body)), now_ms_);
  }
}

void response_event_writer::item_event(std::string& out, std::string_view type,
                                       std::size_t index) {
  begin(out, type);
  out += ",\"output_index\":";
  append_json_uint(out, index);
  out += ",\"item\":";
  append_output_item(out, items_[index]);
  end_event(out);
}

void response_event_writer::open(std::string& out) {
  if (phase_ != phase::unopened) return;
  phase_ = phase::streaming;
  lifecycle(out, "response.created", response_outcome{});
  lifecycle(out, "response.in_progress", response_outcome{});
}

void response_event_writer::event(const answer_event& e, std::string& out) {
  if (phase_ == phase::ended) return;
  open(out);
  switch (e.what) {
    case answer_event::kind::reasoning: return text(out, kind::reasoning, e.text);
    case answer_event::kind::content: return text(out, kind::message, e.text);
    case answer_event::kind::tool_call_start: return start_call(out, e);
    case answer_event::kind::tool_call_arguments: return call_arguments(out, e);
    case answer_event::kind::tool_call_end: return end_call(out, e.index);
    case answer_event::kind::finished: return finish(out, e);
    case answer_event::kind::error: return fail(out, e.error);
  }
}

void response_event_writer::keep_alive(std::string& out) {
  if (phase_ != phase::ended) out += ": keep-alive\n\n";
}

void response_event_writer::text(std::string& out, kind what, std::string_view delta) {
  if (delta.empty()) return;
  if (!text_ || items_[*text_].what != what) {
    close_text(out, "completed");
    open_text(out, what);
  }
  items_[*text_].text += delta;
  if (what == kind::reasoning) {
    begin_item_event(out, "response.reasoning_summary_text.delta", *text_);
    out += ",\"summary_index\":0";
  } else {
    begin_item_event(out, "response.output_text.delta", *text_);
    out += ",\"content_index\":0,\"logprobs\":[]";
  }
  append_string_member(out, "delta", delta);
  end_event(out);
}

void response_event_writer::open_text(std::string& out, kind what) {
  text_ = items_.size();
  items_.push_back(output_item{what, output_item_id(item_id_prefix(what), meta_.id, *text_), {},
                               {}, {}, "in_progress"});
  item_event(out, "response.output_item.added", *text_);
  begin_item_event(out,
                   what == kind::reasoning ? "response.reasoning_summary_part.added"
                                           : "response.content_part.added",
                   *text_);
  append_part(out, what, "");
  end_event(out);
}

void response_event_writer::close_text(std::string& out, std::string_view status) {
  if (!text_) return;
  const std::size_t index = *std::exchange(text_, std::nullopt);
  output_item& item = items_[index];
  if (item.what == kind::reasoning) {
    begin_item_event(out, "response.reasoning_summary_text.done", index);
    out += ",\"summary_index\":0";
  } else {
    begin_item_event(out, "response.output_text.done", index);
    out += ",\"content_index\":0,\"logprobs\":[]";
  }
  append_string_member(out, "text", item.text);
  end_event(out);
  begin_item_event(out,
                   item.what == kind::reasoning ? "response.reasoning_summary_part.done"
                                                : "response.content_part.done",
                   index);
  append_part(out, item.what, item.text);
  end_event(out);
  item.status = status;
  item_event(out, "response.output_item.done", index);
}

void response_event_writer::start_call(std::string& out, const answer_event& e) {
  if (open_call(e.index) != open_calls_.end()) return;  // started twice: the first counts
  close_text(out, "completed");
  const kind what = e.tool == tool_kind::custom ? kind::custom_tool_call : kind::function_call;
  const std::size_t index = items_.size();
  // The flow names calls with the surface's prefix; a call without one still needs a call_id.
  items_.push_back(output_item{what, output_item_id(item_id_prefix(what), meta_.id, index),
                               e.id.empty() ? output_item_id("call_", meta_.id, index) : e.id,
                               e.name, {}, "in_progress"});
  open_calls_.emplace_back(e.index, index);
  item_event(out, "response.output_item.added", index);
}

void response_event_writer::call_arguments(std::string& out, const answer_event& e) {
  const auto call = open_call(e.index);
  if (call == open_calls_.end() || e.text.empty()) return;
  output_item& item = items_[call->second];
  item.text += e.text;
  begin_item_event(out,
                   item.what == kind::function_call ? "response.function_call_arguments.delta"
                                                    : "response.custom_tool_call_input.delta",
                   call->second);
  append_string_member(out, "delta", e.text);
  end_event(out);
}

void response_event_writer::end_call(std::string& out, std::size_t call_index) {
  const auto call = open_call(call_index);
  if (call == open_calls_.end()) return;
  const std::size_t index = call->second;
  open_calls_.erase(call);
  output_item& item = items_[index];
  if (item.what == kind::function_call) {
    begin_item_event(out, "response.function_call_arguments.done", index);
    append_string_member(out, "name", item.name);
    append_string_member(out, "arguments", item.text);
  } else {
    begin_item_event(out, "response.custom_tool_call_input.done", index);
    append_string_member(out, "input", item.text);
  }
  end_event(out);
  item.status = "completed";
  item_event(out, "response.output_item.done", index);
}

void response_event_writer::finish(std::string& out, const answer_event& e) {
  std::string reasoning;
  for (const output_item& item : items_) {
    if (item.what == kind::reasoning) reasoning += item.text;
  }
  const response_outcome outcome = finished_outcome(e.finish, e.usage, reasoning);
  const bool cut = outcome.status == "incomplete";
  close_text(out, cut ? "incomplete" : "completed");
  // A call the model finished but whose end never came is complete; one the limit or the filter
  // cut is dropped (finished_items leaves it out), never run with half its arguments.
  while (!cut && !open_calls_.empty()) end_call(out, open_calls_.front().first);
  phase_ = phase::ended;
  lifecycle(out, cut ? "response.incomplete" : "response.completed", outcome);
}

void response_event_writer::fail(std::string& out, const api_error& error) {
  phase_ = phase::ended;
  response_outcome outcome;
  outcome.status = "failed";
  outcome.error = &error;
  lifecycle(out, "response.failed", outcome);
}

response_event_writer::call_list::iterator response_event_writer::open_call(std::size_t call_index) {
  return std::find_if(open_calls_.begin(), open_calls_.end(),
                      [&](const auto& c) { return c.first == call_index; });
}

std::vector<output_item> response_event_writer::finished_items() const {
  std::vector<output_item> done;
  for (const output_item& item : items_) {
    if (item.status != "in_progress") done.push_back(item);
  }
  return done;
}

}  // namespace zai
