// The request path on arbitrary client bodies: `parse_chat_request`, then, for what it accepts,
// the model lookup and the signed upstream request, exactly as a chat completion is served.
//
// Input: the whole input is the POST /v1/chat/completions body. What must hold:
//   - a refusal is a 400 (invalid_json or invalid_request) whose OpenAI error body is valid JSON;
//   - an accepted request has at least one message;
//   - for a known model, building the upstream request from fixed, clean token/ids/version never
//     fails: nothing a client sends may end up in a header, and every header is header-safe;
//   - the upstream body is valid JSON carrying the signed text (the flattened conversation, or
//     the tool prompt while tools are offered) as `signature_prompt`, and the
//     target's query string is form-encoded (no spaces or control characters).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "core/encoding.hpp"
#include "core/error.hpp"
#include "core/models.hpp"
#include "core/api/openai_chat_request.hpp"
#include "core/zai/request.hpp"
#include "fuzz_support.hpp"
#include "native/hmac_openssl.hpp"

namespace zai::fuzz {
namespace {

// Guest values shaped like the reference's (§3.9); the signature's inputs, not the fuzzer's.
const guest_token& fixed_token() {
  static const guest_token token{
      "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6IjhmMzY4YzFiLWM2NDUtNDhjNy05NmIwLTI0NTZhY2M1"
      "MGI3OSIsImVtYWlsIjoiZ3Vlc3QtMTc4MjQxMzI0MTE0N0BndWVzdC5jb20ifQ.c2ln",
      "8f368c1b-c645-48c7-96b0-2456acc50b79", "Guest-1782413241147",
      "guest-1782413241147@guest.com"};
  return token;
}

const request_ids& fixed_ids() {
  static const request_ids ids{
      "0ff3803e-c36e-4bfd-98fe-fa55e0f955b1", "42e423d8-54b9-42c0-8f41-7dde9fb56542",
      "5c1d9a0e-7b3f-4e2a-9d1c-2f6b8e4a7c90", "74b09689-059a-4708-8f0e-865bed23d5e0"};
  return ids;
}

// The request time comes from the body's bytes so the date fields (ISO, HTTP date, weekday) see
// many instants up to the year 9999 without the body having to carry a timestamp.
std::uint64_t instant_from(std::string_view body) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : body) h = (h ^ c) * 1099511628211ull;
  return h % 253402300800000ull;
}

void check_upstream_request(const upstream_request& r, const chat_request& request) {
  for (const auto& [name, value] : r.headers) {
    require(is_header_safe(value), "upstream headers are header-safe", value);
  }
  for (unsigned char c : r.target) {
    require(c > 0x20 && c < 0x7F, "the target is printable ASCII", r.target);
  }
  const boost::json::value body = require_json(r.body, "the upstream body is valid JSON");
  const boost::json::object& o = body.as_object();
  require(o.at("signature_prompt").as_string() == r.signature_prompt,
          "the body carries the signed text", r.signature_prompt);
  require(r.signature_prompt == upstream_prompt(request, {}),
          "the signed text is the conversation (with the tool prompt when tools are offered)",
          r.signature_prompt);
}

}  // namespace
}  // namespace zai::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace zai;
  using namespace zai::fuzz;
  static const config cfg;
  const std::string_view body = as_text(data, size);

  const result<chat_request> parsed = parse_chat_request(body);
  if (parsed.has_error()) {
    const api_error& e = parsed.error();
    require(e.code == errc::invalid_json || e.code == errc::invalid_request,
            "a refused body is invalid_json or invalid_request", e.message);
    require(http_status(e) == 400, "a refused body is a 400");
    require_json(error_body(e), "the error body is valid JSON");
    return 0;
  }
  const chat_request& request = *parsed;
  require(!request.messages.empty(), "an accepted request has messages");

  const result<resolved_model> model = resolve_model(cfg.models, request.model);
  if (model.has_error()) {
    require(model.error().code == errc::model_not_found, "an unknown model is model_not_found");
    require_json(error_body(model.error()), "the error body is valid JSON");
    return 0;
  }
  const std::string prompt = upstream_prompt(request, {});
  const result<upstream_request> upstream = build_completion_request(
      {request, *model, cfg, fixed_token(), fixed_ids(), instant_from(body), "prod-fe-1.1.98",
       std::nullopt, native::hmac_sha256, prompt});
  require(upstream.has_value(), "a clean token builds for any accepted request",
          upstream.has_error() ? upstream.error().message : "");
  check_upstream_request(*upstream, request);
  return 0;
}
