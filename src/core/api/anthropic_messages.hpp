// The Anthropic Messages surface (`POST /v1/messages`), which Claude Code and the official
// @anthropic-ai/sdk speak. Requests: `system`, `messages` of content blocks (text, tool_use,
// tool_result, replayed thinking), client `tools` and `tool_choice`, `thinking`, read into the
// neutral chat_request and validated as Anthropic validates them (400s name the `param`); fields
// this proxy does not use, and Anthropic's server tools, are ignored rather than refused, because
// Claude Code adds new ones as it updates. Answers: the event grammar Anthropic streams
// (message_start, ping, content_block_start / _delta / _stop per block with growing indexes,
// message_delta, message_stop), the `message` object, and the `{"type":"error",…}` envelope.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/api/surface.hpp"

namespace zai {

class anthropic_messages final : public surface {
 public:
  std::string_view name() const override { return "anthropic_messages"; }
  std::string_view id_prefix() const override { return "msg_"; }
  std::string_view call_id_prefix() const override { return "toolu_"; }

  result<chat_request> parse(std::string_view body, const surface_context& ctx) const override;
  std::unique_ptr<answer_encoder> stream_encoder(const completion_meta& meta,
                                                 const chat_request& request,
                                                 const surface_context& ctx) const override;
  std::string whole(const completion_meta& meta, const chat_request& request, const answer& a,
                    const surface_context& ctx) const override;
  // `{"type":"error","error":{"type":…,"message":…}}`, the type from the error table's
  // Anthropic column. Also the data of a stream's `event: error`.
  std::string error_body(const api_error& e) const override;
};

const surface& anthropic_messages_surface();

// A `POST /v1/messages` body. errc::invalid_json when it is not JSON; errc::invalid_request, with
// `param`, for everything else.
result<chat_request> parse_messages_request(std::string_view body);
// A `POST /v1/messages/count_tokens` body: the same fields, but `max_tokens` is not required.
result<chat_request> parse_count_tokens_request(std::string_view body);

// The count_tokens answer: `{"input_tokens":N}`.
std::string count_tokens_body(std::uint64_t input_tokens);

// Anthropic's stop_reason for a finish: end_turn, tool_use, max_tokens or refusal.
std::string_view stop_reason_name(finish_reason reason);

}  // namespace zai
