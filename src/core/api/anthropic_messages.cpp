// The Messages surface and its answers: the event stream, the whole `message` object and the
// error envelope (anthropic_messages.hpp). The request side is anthropic_messages_request.cpp.
#include "core/api/anthropic_messages.hpp"

#include <boost/json.hpp>

#include "core/encoding.hpp"
#include "core/json_text.hpp"

namespace zai {
namespace {

// Each event is both lines, `event: <type>` and `data: {"type":"<type>",…}`: Anthropic's SDKs
// dispatch on the first and parse the second. open_event writes up to the type; the caller adds
// the event's other fields, each after a comma, and close_event ends it.
void open_event(std::string& out, std::string_view type) {
  out += "event: ";
  out += type;
  out += "\ndata: {\"type\":\"";
  out += type;
  out += '"';
}

void close_event(std::string& out) { out += "}\n\n"; }

// Anthropic reports cache counters beside the token counts; clients that add them up (Claude
// Code's cost line) want numbers, not missing fields.
void append_usage(std::string& out, std::uint64_t input_tokens, std::uint64_t output_tokens) {
  out += "{\"input_tokens\":";
  append_json_uint(out, input_tokens);
  out += ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":";
  append_json_uint(out, output_tokens);
  out += '}';
}

// The upstream's prompt count when it sent one, else the flow's estimate.
std::uint64_t input_tokens(const completion_meta& meta, const token_usage& usage) {
  return usage.prompt_tokens > 0 ? usage.prompt_tokens : meta.prompt_tokens;
}

// `{"id":…,"type":"message","role":"assistant","model":…,"content":` — what message_start and
// the whole message begin with.
void append_message_head(std::string& out, const completion_meta& meta) {
  out += "{\"id\":";
  append_json_string(out, meta.id);
  out += ",\"type\":\"message\",\"role\":\"assistant\",\"model\":";
  append_json_string(out, meta.model);
  out += ",\"content\":";
}

// Claude Code drops a thinking block that has no signature. Only Anthropic can check a real one,
// and replayed thinking is dropped by the parser, so any opaque text serves; this one names the
// message it belongs to.
std::string thinking_signature(const completion_meta& meta) {
  return base64_encode("zai-proxy:" + meta.id);
}

std::string_view stop_reason_for(finish_reason reason, bool called_tools) {
  // A turn that called tools must end in tool_use, or Claude Code does not run them.
  if (called_tools && reason == finish_reason::stop) return "tool_use";
  return stop_reason_name(reason);
}

std::string error_envelope(const api_error& e) {
  const error_info& row = describe(e.code);
  std::string out = "{\"type\":\"error\",\"error\":{\"type\":\"";
  out += row.anthropic_type;
  out += "\",\"message\":";
  append_json_string(out, e.message.empty() ? row.default_message : std::string_view(e.message));
  out += "}}";
  return out;
}

// One streamed answer. Blocks follow one another, so one is open at a time; its index is index_,
// and index_ grows when it stops.
class message_stream final : public answer_encoder {
 public:
  explicit message_stream(const completion_meta& meta)
      : meta_(meta), signature_(thinking_signature(meta)) {}

  void open(std::string& out) override {
    open_event(out, "message_start");
    out += ",\"message\":";
    append_message_head(out, meta_);
    out += "[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":";
    append_usage(out, meta_.prompt_tokens, 0);
    out += '}';
    close_event(out);
    keep_alive(out);
  }

  void event(const answer_event& e, std::string& out) override {
    if (over_) return;
    switch (e.what) {
      case answer_event::kind::reasoning: return text(block::thinking, e.text, out);
      case answer_event::kind::content: return text(block::text, e.text, out);
      case answer_event::kind::tool_call_start: return start_tool(e, out);
      case answer_event::kind::tool_call_arguments: return tool_input(e, out);
      case answer_event::kind::tool_call_end:
        if (open_ == block::tool_use && tool_ == e.index) stop_block(out);
        return;
      case answer_event::kind::finished: return finish(e, out);
      case answer_event::kind::error:
        // Anthropic closes nothing before an error: the client discards the message.
        over_ = true;
        out += "event: error\ndata: ";
        out += error_envelope(e.error);
        out += "\n\n";
        return;
    }
  }

  void keep_alive(std::string& out) override {
    if (over_) return;
    open_event(out, "ping");
    close_event(out);
  }

 private:
  enum class block { none, thinking, text, tool_use };

  void start_block(block kind, std::string_view content_block, std::string& out) {
    stop_block(out);
    open_event(out, "content_block_start");
    out += ",\"index\":";
    append_json_uint(out, index_);
    out += ",\"content_block\":";
    out += content_block;
    close_event(out);
    open_ = kind;
  }

  // Writes `content_block_delta` for the open block up to the delta's own fields.
  void open_delta(std::string_view type, std::string& out) {
    open_event(out, "content_block_delta");
    out += ",\"index\":";
    append_json_uint(out, index_);
    out += ",\"delta\":{\"type\":\"";
    out += type;
    out += "\",";
  }

  void delta(std::string_view type, std::string_view field, std::string_view text,
             std::string& out) {
    open_delta(type, out);
    out += '"';
    out += field;
    out += "\":";
    append_json_string(out, text);
    out += '}';
    close_event(out);
  }

  void stop_block(std::string& out) {
    if (open_ == block::none) return;
    if (open_ == block::thinking) delta("signature_delta", "signature", signature_, out);
    open_event(out, "content_block_stop");
    out += ",\"index\":";
    append_json_uint(out, index_);
    close_event(out);
    open_ = block::none;
    ++index_;
  }

  // Text opens its block only when there is some, so no block is ever empty.
  void text(block kind, std::string_view text, std::string& out) {
    if (text.empty()) return;
    if (kind == block::thinking) {
      if (open_ != kind) start_block(kind, R"({"type":"thinking","thinking":""})", out);
      delta("thinking_delta", "thinking", text, out);
    } else {
      if (open_ != kind) start_block(kind, R"({"type":"text","text":""})", out);
      delta("text_delta", "text", text, out);
    }
  }

  void start_tool(const answer_event& e, std::string& out) {
    std::string content_block = "{\"type\":\"tool_use\",\"id\":";
    append_json_string(content_block, e.id);
    content_block += ",\"name\":";
    append_json_string(content_block, e.name);
    content_block += ",\"input\":{}}";
    start_block(block::tool_use, content_block, out);
    tool_ = e.index;
    called_tools_ = true;
  }

  // Only the open call can take more input; a fragment for another (which the tool parser never
  // sends, as its calls follow one another) has no block left to go to.
  void tool_input(const answer_event& e, std::string& out) {
    if (open_ != block::tool_use || tool_ != e.index || e.text.empty()) return;
    delta("input_json_delta", "partial_json", e.text, out);
  }

  void finish(const answer_event& e, std::string& out) {
    stop_block(out);
    over_ = true;
    open_event(out, "message_delta");
    out += ",\"delta\":{\"stop_reason\":\"";
    out += stop_reason_for(e.finish, called_tools_);
    out += "\",\"stop_sequence\":null},\"usage\":";
    append_usage(out, input_tokens(meta_, e.usage), e.usage.completion_tokens);
    close_event(out);
    open_event(out, "message_stop");
    close_event(out);
  }

  completion_meta meta_;
  std::string signature_;
  block open_ = block::none;
  std::size_t index_ = 0;
  std::size_t tool_ = 0;  // the open tool_use block's call index (answer_event::index)
  bool called_tools_ = false;
  bool over_ = false;  // after finished or error nothing more is written
};

// A call's arguments as the `input` object. The tool parser hands over a JSON object; anything
// else (it never should) becomes {} rather than a body that is not JSON.
void append_tool_input(std::string& out, std::string_view arguments) {
  boost::system::error_code ec;
  const boost::json::value input = boost::json::parse(arguments, ec);
  out += !ec && input.is_object() ? boost::json::serialize(input) : std::string("{}");
}

std::string whole_message(const completion_meta& meta, const answer& a) {
  std::string out;
  out.reserve(256 + a.reasoning.size() + a.content.size());
  append_message_head(out, meta);
  out += '[';
  if (!a.reasoning.empty()) {
    out += "{\"type\":\"thinking\",\"thinking\":";
    append_json_string(out, a.reasoning);
    out += ",\"signature\":";
    append_json_string(out, thinking_signature(meta));
    out += "},";
  }
  if (!a.content.empty()) {
    out += "{\"type\":\"text\",\"text\":";
    append_json_string(out, a.content);
    out += "},";
  }
  for (const tool_call& call : a.tool_calls) {
    out += "{\"type\":\"tool_use\",\"id\":";
    append_json_string(out, call.id);
    out += ",\"name\":";
    append_json_string(out, call.name);
    out += ",\"input\":";
    append_tool_input(out, call.arguments);
    out += "},";
  }
  if (out.back() == ',') out.pop_back();
  out += "],\"stop_reason\":\"";
  out += stop_reason_for(a.finish, !a.tool_calls.empty());
  out += "\",\"stop_sequence\":null,\"usage\":";
  append_usage(out, input_tokens(meta, a.usage), a.usage.completion_tokens);
  out += '}';
  return out;
}

}  // namespace

result<chat_request> anthropic_messages::parse(std::string_view body,
                                               const surface_context& /*ctx*/) const {
  return parse_messages_request(body);
}

std::unique_ptr<answer_encoder> anthropic_messages::stream_encoder(
    const completion_meta& meta, const chat_request& /*request*/,
    const surface_context& /*ctx*/) const {
  return std::make_unique<message_stream>(meta);
}

std::string anthropic_messages::whole(const completion_meta& meta,
                                      const chat_request& /*request*/, const answer& a,
                                      const surface_context& /*ctx*/) const {
  return whole_message(meta, a);
}

std::string anthropic_messages::error_body(const api_error& e) const { return error_envelope(e); }

const surface& anthropic_messages_surface() {
  static const anthropic_messages messages;
  return messages;
}

std::string count_tokens_body(std::uint64_t input_tokens) {
  std::string out = "{\"input_tokens\":";
  append_json_uint(out, input_tokens);
  out += '}';
  return out;
}

std::string_view stop_reason_name(finish_reason reason) {
  switch (reason) {
    case finish_reason::stop: return "end_turn";
    case finish_reason::length: return "max_tokens";
    // Z.AI withdrew the answer: Anthropic's "declined to respond" is the nearest meaning.
    case finish_reason::content_filter: return "refusal";
    case finish_reason::tool_calls: return "tool_use";
  }
  return "end_turn";
}

}  // namespace zai
