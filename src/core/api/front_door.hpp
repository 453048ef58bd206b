// The proxy's HTTP surface before a completion starts, shared by every edge (the native server
// and the Worker): which route a method and path name (404 / 405 with Allow otherwise), whether
// the client's key is good (constant time; /v1/models may go without one), the CORS grant every
// response carries, the headers an error response adds (Retry-After, x-should-retry), and the
// small endpoints' bodies. `answer_front_door` puts these together: it either answers the
// request outright or names the authorised route whose body the gateway must read, with the
// client surface (api/surface.hpp) that speaks for it — also in its errors.
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
#include "core/pool/token_pool.hpp"

namespace zai {

using header_list = std::vector<std::pair<std::string, std::string>>;

class surface;

enum class route_id {
  health,
  live,
  ready,
  models,
  model,
  completion,    // a chat completion in the row's surface's wire format
  count_tokens,     // Anthropic's token count of a would-be request, answered locally
  stored_response,  // GET /v1/responses/{id}: a response the Responses API stored
};

// The request-target's path: the query string stripped, one trailing slash tolerated.
std::string_view request_path(std::string_view target);

struct route_match {
  std::optional<route_id> id;  // nullopt: no route serves this method on this path
  bool path_known = false;     // the path exists for another method (405, not 404)
  const surface* api = nullptr;  // who speaks on this path (its errors too); never null
  std::string allow;             // for a 405: the methods the path serves
};

// HEAD is served wherever GET is. Methods are upper case, as on the wire.
route_match match_route(std::string_view path, std::string_view method);

// The CORS grant for a request from `origin` (empty: none sent) under CORS_ALLOW_ORIGINS.
// Nothing for an origin that is not allowed.
header_list cors_headers(std::string_view origin, const config& cfg);

// Retry-After and x-should-retry as the error table says for `e`.
header_list error_headers(const api_error& e);

// The head of a streamed completion: SSE content type, no caching or proxy buffering, CORS.
header_list stream_headers(std::string_view origin, const config& cfg);

// The WAF breaker as /health shows it.
struct breaker_status {
  std::string_view state = "closed";  // closed, open or probing
  std::int64_t retry_after_ms = 0;    // until the next probe may go; 0 when due or closed
  std::int64_t cooldown_ms = 0;       // the current cool-down (doubles while blocked)
  std::uint64_t blocks = 0;           // block pages seen since start
};

breaker_status describe_breaker(const waf_breaker& breaker, waf_breaker::time_point now);

// The pool's numbers, the front-end version and the breaker, read only when /health asks.
struct front_status {
  token_pool_stats pool;
  std::string_view fe_version;
  breaker_status breaker{};
};

// Everything /health, /healthz and /readyz report (numbers only; never a token).
std::string health_body(const front_status& status, bool detailed);

// A whole response, for the edge to write with its own framing. Content-Type is
// application/json unless `body` is empty (a 204).
struct plain_response {
  int status = 200;
  header_list headers;  // CORS, Allow, Retry-After, … (not Content-Type or Content-Length)
  std::string body;
};

plain_response json_answer(int status, std::string body, std::string_view origin,
                           const config& cfg);
// An error in `api`'s envelope (OpenAI's by default), with the table's status and headers.
plain_response error_answer(const api_error& e, std::string_view origin, const config& cfg,
                            const surface* api = nullptr);

struct front_request {
  std::string_view method;
  std::string_view target;
  std::string_view authorization;  // the Authorization header, empty when absent
  std::string_view origin;         // the Origin header, empty when absent
  std::string_view api_key{};      // the x-api-key header (Anthropic clients), empty when absent
};

// What the front door makes of a request: a whole answer, or an authorised route whose body the
// gateway reads next (a completion in `api`'s wire format).
struct front_answer {
  std::optional<plain_response> response{};
  route_id route = route_id::completion;
  const surface* api = nullptr;
};

front_answer answer_front_door(const front_request& request, const config& cfg,
                               const front_status& status);

}  // namespace zai
