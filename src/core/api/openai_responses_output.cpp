#include "core/api/openai_responses_output.hpp"

#include <algorithm>

#include "core/json_text.hpp"

namespace zai {
namespace {

// What the response object repeats when the request did not come through the Responses parser:
// the members the SDKs' types require, at the API's defaults.
constexpr std::string_view default_echo =
    R"("instructions":null,"metadata":{},"parallel_tool_calls":true,"temperature":null,)"
    R"("tool_choice":"auto","tools":[],"top_p":null)";

// In-progress items are the skeletons `response.output_item.added` carries: no summary part, no
// content part, no arguments yet.
bool skeleton(const output_item& item) { return item.status == "in_progress"; }

void append_usage(std::string& out, const token_usage& u, std::uint64_t reasoning_tokens) {
  out += "{\"input_tokens\":";
  append_json_uint(out, u.prompt_tokens);
  out += ",\"input_tokens_details\":{\"cached_tokens\":";
  append_json_uint(out, u.cached_tokens);
  out += "},\"output_tokens\":";
  append_json_uint(out, u.completion_tokens);
  out += ",\"output_tokens_details\":{\"reasoning_tokens\":";
  append_json_uint(out, reasoning_tokens);
  out += "},\"total_tokens\":";
  append_json_uint(out, u.total_tokens != 0 ? u.total_tokens
                                            : u.prompt_tokens + u.completion_tokens);
  out += '}';
}

}  // namespace

std::string output_item_id(std::string_view prefix, std::string_view response_id,
                           std::size_t output_index) {
  std::string_view suffix = response_id;
  if (suffix.starts_with("resp_")) suffix.remove_prefix(5);
  std::string id(prefix);
  id += suffix;
  id += '_';
  id += std::to_string(output_index);
  return id;
}

std::string_view item_id_prefix(output_item::kind what) {
  switch (what) {
    case output_item::kind::reasoning: return "rs_";
    case output_item::kind::message: return "msg_";
    case output_item::kind::function_call: return "fc_";
    case output_item::kind::custom_tool_call: return "ctc_";
  }
  return "item_";
}

void append_string_member(std::string& out, std::string_view key, std::string_view text) {
  out += ",\"";
  out += key;
  out += "\":";
  append_json_string(out, text);
}

void append_output_item(std::string& out, const output_item& item) {
  out += "{\"id\":";
  append_json_string(out, item.id);
  switch (item.what) {
    case output_item::kind::reasoning:
      out += R"(,"type":"reasoning","summary":[)";
      if (!skeleton(item)) {
        out += R"({"type":"summary_text","text":)";
        append_json_string(out, item.text);
        out += '}';
      }
      out += "]}";
      return;
    case output_item::kind::message:
      out += R"(,"type":"message","status":")";
      out += item.status;
      out += R"(","role":"assistant","content":[)";
      if (!skeleton(item)) {
        out += R"({"type":"output_text","text":)";
        append_json_string(out, item.text);
        out += R"(,"annotations":[],"logprobs":[]})";
      }
      out += "]}";
      return;
    case output_item::kind::function_call:
      out += R"(,"type":"function_call","status":")";
      out += item.status;
      out += '"';
      append_string_member(out, "arguments", item.text);
      break;
    case output_item::kind::custom_tool_call:
      out += R"(,"type":"custom_tool_call")";
      append_string_member(out, "input", item.text);
      break;
  }
  append_string_member(out, "call_id", item.call_id);
  append_string_member(out, "name", item.name);
  out += '}';
}

response_outcome finished_outcome(finish_reason finish, const token_usage& usage,
                                  std::string_view reasoning) {
  response_outcome o;
  o.status = "completed";
  if (finish == finish_reason::length) {
    o.status = "incomplete";
    o.incomplete_reason = "max_output_tokens";
  } else if (finish == finish_reason::content_filter) {
    o.status = "incomplete";
    o.incomplete_reason = "content_filter";
  }
  o.usage = &usage;
  // The upstream does not count reasoning apart; the same four-bytes-a-token estimate the proxy
  // uses elsewhere, never more than the output it is part of.
  o.reasoning_tokens = std::min<std::uint64_t>((reasoning.size() + 3) / 4, usage.completion_tokens);
  return o;
}

void append_response_object(std::string& out, const completion_meta& meta,
                            const chat_request& request, std::span<const output_item> output,
                            const response_outcome& outcome) {
  out += "{\"id\":";
  append_json_string(out, meta.id);
  out += R"(,"object":"response","created_at":)";
  append_json_uint(out, static_cast<std::uint64_t>(meta.created));
  out += R"(,"status":")";
  out += outcome.status;
  out += R"(","background":false,"error":)";
  if (outcome.error != nullptr) {
    out += R"({"code":")";
    out += failure_code(*outcome.error);
    out += '"';
    append_string_member(out, "message", failure_message(*outcome.error));
    out += '}';
  } else {
    out += "null";
  }
  out += R"(,"incomplete_details":)";
  if (outcome.incomplete_reason.empty()) {
    out += "null";
  } else {
    out += R"({"reason":")";
    out += outcome.incomplete_reason;
    out += "\"}";
  }
  append_string_member(out, "model", meta.model);
  out += R"(,"output":[)";
  std::string text;
  for (std::size_t i = 0; i < output.size(); ++i) {
    if (i > 0) out += ',';
    append_output_item(out, output[i]);
    if (output[i].what == output_item::kind::message) text += output[i].text;
  }
  out += ']';
  append_string_member(out, "output_text", text);
  out += R"(,"usage":)";
  if (outcome.usage != nullptr) {
    append_usage(out, *outcome.usage, outcome.reasoning_tokens);
  } else {
    out += "null";
  }
  out += ',';
  out += request.responses.echo.empty() ? default_echo : request.responses.echo;
  out += '}';
}

std::string_view failure_code(const api_error& e) {
  const int status = http_status(e);
  if (status == 429) return "rate_limit_exceeded";
  if (status == 400) return "invalid_prompt";
  return "server_error";
}

std::string failure_message(const api_error& e) {
  std::string message(e.message.empty() ? describe(e.code).default_message : e.message);
  // Codex waits as long as the message says (its pattern: "try again in <n> s|ms|seconds").
  const int wait = retry_after_seconds(e);
  if (failure_code(e) == "rate_limit_exceeded" && wait > 0 &&
      message.find("try again in") == std::string::npos) {
    message += " Please try again in " + std::to_string(wait) + "s.";
  }
  return message;
}

chat_message answer_turn(std::span<const output_item> output) {
  chat_message turn;
  turn.role = message_role::assistant;
  for (const output_item& item : output) {
    switch (item.what) {
      case output_item::kind::reasoning:
        break;
      case output_item::kind::message:
        if (!turn.text.empty() && !item.text.empty()) turn.text += "\n\n";
        turn.text += item.text;
        break;
      case output_item::kind::function_call:
      case output_item::kind::custom_tool_call:
        turn.tool_calls.push_back(tool_call{item.call_id, item.name, item.text,
                                            item.what == output_item::kind::function_call
                                                ? tool_kind::function
                                                : tool_kind::custom});
        break;
    }
  }
  return turn;
}

stored_response stored_form(const completion_meta& meta, const chat_request& request,
                            std::span<const output_item> output, std::string body) {
  stored_response r{meta.id, std::move(body), {}};
  const std::size_t skip = request.responses.instructions_first ? 1 : 0;
  r.conversation.assign(request.messages.begin() + std::min(skip, request.messages.size()),
                        request.messages.end());
  chat_message turn = answer_turn(output);
  if (!turn.text.empty() || !turn.tool_calls.empty()) r.conversation.push_back(std::move(turn));
  return r;
}

}  // namespace zai
