#include "core/api/openai_responses.hpp"

#include "core/api/openai_responses_output.hpp"
#include "core/api/openai_responses_request.hpp"
#include "core/api/openai_responses_stream.hpp"
#include "core/api/response_store.hpp"

namespace zai {
namespace {

// A whole answer's output in the order a stream would have announced it: the reasoning, the
// answer text, then the calls.
std::vector<output_item> output_of(const completion_meta& meta, const answer& a,
                                   std::string_view message_status) {
  using kind = output_item::kind;
  std::vector<output_item> items;
  const auto add = [&](kind what, std::string call_id, std::string name, std::string text,
                       std::string_view status) {
    const std::size_t index = items.size();
    if (call_id.empty() && what != kind::reasoning && what != kind::message) {
      call_id = output_item_id("call_", meta.id, index);
    }
    items.push_back(output_item{what, output_item_id(item_id_prefix(what), meta.id, index),
                                std::move(call_id), std::move(name), std::move(text), status});
  };
  if (!a.reasoning.empty()) add(kind::reasoning, {}, {}, a.reasoning, "completed");
  if (!a.content.empty()) add(kind::message, {}, {}, a.content, message_status);
  for (const tool_call& c : a.tool_calls) {
    add(c.kind == tool_kind::custom ? kind::custom_tool_call : kind::function_call, c.id, c.name,
        c.arguments, "completed");
  }
  return items;
}

}  // namespace

result<chat_request> openai_responses::parse(std::string_view body,
                                             const surface_context& ctx) const {
  return parse_responses_request(body, ctx.responses, ctx.now_ms);
}

std::unique_ptr<answer_encoder> openai_responses::stream_encoder(
    const completion_meta& meta, const chat_request& request, const surface_context& ctx) const {
  return std::make_unique<response_event_writer>(meta, request, ctx.responses, ctx.now_ms);
}

std::string openai_responses::whole(const completion_meta& meta, const chat_request& request,
                                    const answer& a, const surface_context& ctx) const {
  const response_outcome outcome = finished_outcome(a.finish, a.usage, a.reasoning);
  const std::vector<output_item> output = output_of(
      meta, a, outcome.status == "incomplete" ? "incomplete" : "completed");
  std::string body;
  append_response_object(body, meta, request, output, outcome);
  if (request.responses.store && ctx.responses != nullptr) {
    ctx.responses->put(stored_form(meta, request, output, body), ctx.now_ms);
  }
  return body;
}

std::string openai_responses::error_body(const api_error& e) const { return zai::error_body(e); }

const surface& openai_responses_surface() {
  static const openai_responses instance;
  return instance;
}

result<std::string> retrieve_response(std::string_view id, const surface_context& ctx) {
  const stored_response* r = ctx.responses != nullptr ? ctx.responses->find(id, ctx.now_ms)
                                                      : nullptr;
  if (r == nullptr) {
    return make_error(errc::response_not_found,
                      "Response with id '" + std::string(id) + "' not found.");
  }
  return r->body;
}

}  // namespace zai
