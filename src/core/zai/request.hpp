// The Z.AI side of the request path: everything the proxy sends upstream, built as plain data so
// the exact bytes can be tested without a socket. The completion request follows the reference
// (§2 signing, §3.2 query string, §3.3 headers, §3.4 body): the conversation is flattened into
// one user message (with the tool contract folded in while tools are offered), that text is
// signed and sent as `signature_prompt`, and every browser
// fingerprint field is derived from the configured base URL. Also the guest-token request and
// its response (§1), and the front-end version scraped from the front page (§6).
// Time, ids and the HMAC come in from the caller; nothing here reads a clock or a random source.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/zai/guest_token.hpp"
#include "core/models.hpp"
#include "core/api/openai_chat_request.hpp"
#include "core/tools/tool_prompt.hpp"
#include "core/zai/signature.hpp"

namespace zai {

// One HTTP request for the upstream client. The client adds Host (from the base URL's
// authority) and Content-Length; everything else it sends is here.
struct upstream_request {
  std::string target;  // base path + path + '?' + query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;              // empty for GET
  std::string signature_prompt;  // completions: the exact text that was signed (for logs/tests)
  std::string method = "POST";
};

// Fresh UUIDs for one completion (the caller generates them).
struct request_ids {
  std::string request_id;       // signed, query `requestId`
  std::string chat_id;          // a new chat per request: the proxy is stateless upstream
  std::string message_id;       // body `id`: the assistant message to be written
  std::string user_message_id;  // body `current_user_message_id`
};

struct completion_inputs {
  const chat_request& request;
  const resolved_model& model;
  const config& cfg;
  const guest_token& token;
  const request_ids& ids;
  std::uint64_t now_ms = 0;
  std::string_view fe_version;              // X-FE-Version (scraped or configured)
  std::optional<std::string_view> captcha;  // captcha_verify_param; sent only when non-empty
  hmac_sha256_fn hmac = nullptr;
  // The one user turn the request was folded into (upstream_prompt); it is sent and signed as
  // it is.
  std::string_view prompt{};
};

// The one text sent (and signed) for a conversation. A lone user turn is passed through as it
// is. Anything else becomes a transcript: system/developer instructions first, then the turns in
// order, each introduced by a role label ("System:", "User:", "Assistant:", "Tool result
// (<id>):"), separated by blank lines. Messages are trimmed, empty ones dropped, and the whole
// text is trimmed once.
std::string flatten_conversation(std::span<const chat_message> messages);

// The one text sent (and signed) for a request. While tools are in the prompt
// (tools_in_prompt), the tool prompt (tool_prompt.hpp); otherwise the flattened conversation,
// followed by the answer_schema instruction when the request has a schema. `tools` carries, while
// tools are in the prompt, this request's nonce (the tool parser must get the same) and, on the
// retry after an answer without a required call, that answer.
std::string upstream_prompt(const chat_request& request, const tool_prompt_options& tools);

// The signed POST /api/v2/chat/completions. Fails with errc::internal if a value bound for a
// header (token, ids, version) contains a control character: that must never reach the wire.
result<upstream_request> build_completion_request(const completion_inputs& in);

// GET /api/v1/auths/ with no credentials mints a guest. X-FE-Version is sent when known.
upstream_request build_guest_auth_request(const config& cfg, std::string_view fe_version);

// Accepts the flat form {token, id, name, email, …} and the {token, user:{id, name, email}}
// form. The id falls back to user_id/uid/sub and then to the JWT payload; a missing name
// becomes "Guest". errc::upstream_error when there is no token or it is not a usable JWT.
result<guest_token> parse_guest_auth_response(std::string_view body);

// GET / of the upstream, whose HTML names the front-end build (…/frontend/prod-fe-1.1.98/…).
upstream_request build_front_page_request(const config& cfg);

// The highest `prod-fe-X.Y.Z` in the page, comparing the numbers (1.1.100 > 1.1.98), or nullopt.
std::optional<std::string> scrape_fe_version(std::string_view html);

}  // namespace zai
