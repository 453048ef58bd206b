// The OpenAI Responses API as a client surface (surface.hpp): `POST /v1/responses` — what Codex
// CLI, the OpenAI Agents SDK and `client.responses` speak — and `GET /v1/responses/{id}` for a
// stored response. Its parts:
//   openai_responses_request  the body → chat_request (instructions, input items, tools, …)
//   openai_responses_stream   the neutral answer events → the API's server-sent events
//   openai_responses_output   the output items and the response object both of those share
//   response_store            the responses kept for previous_response_id and GET
// Ids: responses `resp_…`, tool calls `call_…`; output items derive theirs from the response id
// (`msg_…`, `rs_…`, `fc_…`, `ctc_…`).
#pragma once

#include <string>
#include <string_view>

#include "core/api/surface.hpp"

namespace zai {

class openai_responses final : public surface {
 public:
  std::string_view name() const override { return "openai_responses"; }
  std::string_view id_prefix() const override { return "resp_"; }
  std::string_view call_id_prefix() const override { return "call_"; }

  // Uses ctx.responses (may be null) for previous_response_id and whether `store` can hold.
  result<chat_request> parse(std::string_view body, const surface_context& ctx) const override;

  // Both keep a completed or incomplete response in ctx.responses when the request said `store`
  // (the API's default); a failed one is not kept.
  std::unique_ptr<answer_encoder> stream_encoder(const completion_meta& meta,
                                                 const chat_request& request,
                                                 const surface_context& ctx) const override;
  std::string whole(const completion_meta& meta, const chat_request& request, const answer& a,
                    const surface_context& ctx) const override;

  std::string error_body(const api_error& e) const override;
};

const surface& openai_responses_surface();

// `GET /v1/responses/{id}`: the stored response object, or errc::response_not_found when it was
// never stored, has been evicted or has expired (or ctx.responses is null).
result<std::string> retrieve_response(std::string_view id, const surface_context& ctx);

}  // namespace zai
