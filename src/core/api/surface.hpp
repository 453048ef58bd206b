// A client surface: one API the proxy speaks to clients (OpenAI chat completions, Anthropic
// Messages, OpenAI Responses). Each is three things over the neutral vocabulary (chat.hpp,
// answer.hpp): a parser from its request body to a `chat_request`, an encoder from the neutral
// answer to its wire format (streamed events, or one whole body), and its error envelope. The
// completion flow and both edges know surfaces only through this interface; a route row names
// the surface that serves it (front_door.cpp). Adding a surface is a new pair of files here plus
// that row.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/answer.hpp"
#include "core/chat.hpp"
#include "core/config.hpp"
#include "core/error.hpp"

namespace zai {

class response_store;

// What a surface may use while it parses a request or encodes an answer, beyond the body.
struct surface_context {
  const config& cfg;
  response_store* responses = nullptr;  // stored responses (Responses API); null where unused
  double now_ms = 0;                    // milliseconds since the epoch
};

// One streamed answer in a surface's wire format. The flow calls open() once when the stream's
// head is committed, then event() for each neutral event in order (the last is `finished` or
// `error`), and keep_alive() whenever the stream has been silent for SSE_KEEPALIVE_MS. Each call
// appends whole SSE events to `out`.
class answer_encoder {
 public:
  virtual ~answer_encoder() = default;
  virtual void open(std::string& out) = 0;
  virtual void event(const answer_event& e, std::string& out) = 0;
  virtual void keep_alive(std::string& out) = 0;
};

class surface {
 public:
  virtual ~surface() = default;

  virtual std::string_view name() const = 0;            // for logs: "openai_chat", …
  virtual std::string_view id_prefix() const = 0;       // a response id's: "chatcmpl-", "msg_", …
  virtual std::string_view call_id_prefix() const = 0;  // a tool call id's: "call_", "toolu_", …

  // The request body, validated as the surface's API validates it. Errors are api_errors (400s
  // name the `param`), rendered by error_body() below.
  virtual result<chat_request> parse(std::string_view body, const surface_context& ctx) const = 0;

  virtual std::unique_ptr<answer_encoder> stream_encoder(const completion_meta& meta,
                                                         const chat_request& request,
                                                         const surface_context& ctx) const = 0;
  // The whole answer of a non-streamed request: the 200 response's JSON body.
  virtual std::string whole(const completion_meta& meta, const chat_request& request,
                            const answer& a, const surface_context& ctx) const = 0;

  // The error envelope for `e` (its status and headers come from the one error table).
  virtual std::string error_body(const api_error& e) const = 0;
};

}  // namespace zai
