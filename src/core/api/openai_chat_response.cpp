#include "core/api/openai_chat_response.hpp"

#include "core/json_text.hpp"

namespace zai {
namespace {

constexpr std::string_view think_open = "<think>\n";
constexpr std::string_view think_close = "\n</think>\n\n";

// The fields every completion object and chunk starts with, up to and including the comma
// after system_fingerprint: {"id":…,"object":…,"created":…,"model":…,"system_fingerprint":null,
void append_head(std::string& out, const completion_meta& meta, std::string_view object) {
  out += "{\"id\":";
  append_json_string(out, meta.id);
  out += ",\"object\":\"";
  out += object;
  out += "\",\"created\":";
  append_json_uint(out, static_cast<std::uint64_t>(meta.created));
  out += ",\"model\":";
  append_json_string(out, meta.model);
  out += ",\"system_fingerprint\":null,";
}

}  // namespace

chunk_writer::chunk_writer(const completion_meta& meta, bool think_tags, bool include_usage,
                           bool legacy_functions)
    : think_tags_(think_tags), include_usage_(include_usage), legacy_functions_(legacy_functions) {
  prefix_ = "data: ";
  append_head(prefix_, meta, "chat.completion.chunk");
  // With include_usage every chunk but the last carries "usage":null, as OpenAI sends it.
  if (include_usage_) prefix_ += "\"usage\":null,";
}

void chunk_writer::open(std::string& out) {
  out += prefix_;
  out += "\"choices\":[{\"index\":0,\"delta\":{";
  if (!role_sent_) {
    out += "\"role\":\"assistant\",";
    role_sent_ = true;
  }
}

void chunk_writer::close(std::string& out) {
  out += "},\"logprobs\":null,\"finish_reason\":null}]}\n\n";
}

void chunk_writer::delta(std::string_view field, std::string_view text, std::string& out) {
  open(out);
  out += '"';
  out += field;
  out += "\":";
  append_json_string(out, text);
  close(out);
}

void chunk_writer::reasoning(std::string_view text, std::string& out) {
  if (text.empty()) return;
  if (!think_tags_) {
    section_ = section::reasoning;
    delta("reasoning_content", text, out);
    return;
  }
  std::string tagged;
  if (section_ != section::reasoning) tagged = think_open;
  section_ = section::reasoning;
  tagged += text;
  delta("content", tagged, out);
}

void chunk_writer::content(std::string_view text, std::string& out) {
  if (text.empty()) return;
  if (think_tags_ && section_ == section::reasoning) {
    std::string tagged(think_close);
    tagged += text;
    section_ = section::content;
    delta("content", tagged, out);
    return;
  }
  section_ = section::content;
  delta("content", text, out);
}

// With <think> tags, reasoning still open is closed in content before anything else follows.
void chunk_writer::leave_reasoning(std::string& out) {
  if (think_tags_ && section_ == section::reasoning) delta("content", "\n</think>", out);
  section_ = section::content;
}

namespace {

// `"function":{"name":…,"arguments":` or `"custom":{"name":…,"input":`, as the call's kind says.
void append_call_body(std::string& out, tool_kind kind, std::string_view name) {
  out += kind == tool_kind::custom ? "\"custom\":{" : "\"function\":{";
  if (!name.empty()) {
    out += "\"name\":";
    append_json_string(out, name);
    out += ',';
  }
  out += kind == tool_kind::custom ? "\"input\":" : "\"arguments\":";
}

std::string_view call_type(tool_kind kind) {
  return kind == tool_kind::custom ? "\"custom\"" : "\"function\"";
}

}  // namespace

void chunk_writer::tool_call_start(std::size_t index, std::string_view id, std::string_view name,
                                   tool_kind kind, std::string& out) {
  leave_reasoning(out);
  open(out);
  if (legacy_functions_) {
    out += "\"function_call\":{\"name\":";
    append_json_string(out, name);
    out += ",\"arguments\":\"\"}";
    close(out);
    return;
  }
  out += "\"tool_calls\":[{\"index\":";
  append_json_uint(out, index);
  out += ",\"id\":";
  append_json_string(out, id);
  out += ",\"type\":";
  out += call_type(kind);
  out += ',';
  append_call_body(out, kind, name);
  out += "\"\"}}]";
  close(out);
}

void chunk_writer::tool_call_arguments(std::size_t index, std::string_view fragment,
                                       tool_kind kind, std::string& out) {
  if (fragment.empty()) return;
  open(out);
  if (legacy_functions_) {
    out += "\"function_call\":{\"arguments\":";
    append_json_string(out, fragment);
    out += '}';
    close(out);
    return;
  }
  out += "\"tool_calls\":[{\"index\":";
  append_json_uint(out, index);
  out += ',';
  append_call_body(out, kind, "");
  append_json_string(out, fragment);
  out += "}}]";
  close(out);
}

void chunk_writer::finish(finish_reason reason, std::string& out) {
  leave_reasoning(out);
  open(out);
  if (out.back() == ',') out.pop_back();  // a role-only delta: no dangling comma
  out += "},\"logprobs\":null,\"finish_reason\":\"";
  out += legacy_functions_ && reason == finish_reason::tool_calls ? "function_call"
                                                                 : finish_reason_name(reason);
  out += "\"}]}\n\n";
}

void chunk_writer::usage(const token_usage& usage, std::string& out) {
  if (!include_usage_) return;
  // The usage chunk has no choices; its prefix must not say "usage":null.
  std::string_view prefix = prefix_;
  prefix.remove_suffix(std::string_view("\"usage\":null,").size());
  out += prefix;
  out += "\"choices\":[],\"usage\":";
  append_usage_json(out, usage);
  out += "}\n\n";
}

void chunk_writer::done(std::string& out) { out += "data: [DONE]\n\n"; }

void chunk_writer::error(std::string_view error_json, std::string& out) {
  out += "data: ";
  out += error_json;
  out += "\n\n";
}

void append_usage_json(std::string& out, const token_usage& usage) {
  out += "{\"prompt_tokens\":";
  append_json_uint(out, usage.prompt_tokens);
  out += ",\"completion_tokens\":";
  append_json_uint(out, usage.completion_tokens);
  out += ",\"total_tokens\":";
  append_json_uint(out, usage.total_tokens);
  out += ",\"prompt_tokens_details\":{\"cached_tokens\":";
  append_json_uint(out, usage.cached_tokens);
  out += "}}";
}

std::string completion_body(const completion_meta& meta, const answer& a, bool think_tags,
                            bool legacy_functions) {
  std::string out;
  out.reserve(256 + a.reasoning.size() + a.content.size());
  append_head(out, meta, "chat.completion");
  out += "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",";
  out += "\"content\":";
  if (think_tags && !a.reasoning.empty()) {
    std::string tagged(think_open);
    tagged += a.reasoning;
    tagged += think_close;
    tagged += a.content;
    append_json_string(out, tagged);
  } else {
    if (a.content.empty() && !a.tool_calls.empty()) {
      out += "null";
    } else {
      append_json_string(out, a.content);
    }
    if (!a.reasoning.empty()) {
      out += ",\"reasoning_content\":";
      append_json_string(out, a.reasoning);
    }
  }
  if (!a.tool_calls.empty() && legacy_functions) {
    out += ",\"function_call\":{\"name\":";
    append_json_string(out, a.tool_calls.front().name);
    out += ",\"arguments\":";
    append_json_string(out, a.tool_calls.front().arguments);
    out += '}';
  } else if (!a.tool_calls.empty()) {
    out += ",\"tool_calls\":[";
    for (std::size_t i = 0; i < a.tool_calls.size(); ++i) {
      const tool_call& call = a.tool_calls[i];
      if (i > 0) out += ',';
      out += "{\"id\":";
      append_json_string(out, call.id);
      out += ",\"type\":";
      out += call_type(call.kind);
      out += ',';
      append_call_body(out, call.kind, call.name);
      append_json_string(out, call.arguments);
      out += "}}";
    }
    out += ']';
  }
  out += ",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"";
  out += legacy_functions && a.finish == finish_reason::tool_calls ? "function_call"
                                                                   : finish_reason_name(a.finish);
  out += "\"}],\"usage\":";
  append_usage_json(out, a.usage);
  out += '}';
  return out;
}


}  // namespace zai
