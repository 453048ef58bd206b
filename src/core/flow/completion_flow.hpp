// One completion, as a sans-I/O protocol object: every decision between a parsed request and its
// last byte — WAF breaker admission, token lease, captcha, the signed upstream request, judging a
// failed attempt (token outcome, retry while the client has seen nothing), refreshing a stale
// front-end version, relaying or collecting the translated answer, keep-alives, the shutdown cut —
// and none of the I/O. Each call returns the next action; the host performs it and reports what
// happened. The native server drives it with one coroutine (src/server/completion_driver.cpp),
// the Worker from JavaScript through the wasm ABI (src/wasm/abi.cpp, worker/src/worker.js).
//
// The answer goes out in the client surface's wire format (api/surface.hpp): the flow turns the
// translator's output into neutral answer events and the surface's encoder writes them. When the
// client offers tools, they are described in the prompt (tools/tool_prompt.hpp) and the answer
// text goes through the tool parser (tools/tool_parser.hpp), which turns calls back into events.
// Between actions the flow holds no buffers beyond the translator's message text.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/answer.hpp"
#include "core/api/surface.hpp"
#include "core/flow/gateway.hpp"
#include "core/flow/upstream_verdict.hpp"
#include "core/models.hpp"
#include "core/stream/stream_translator.hpp"
#include "core/tools/tool_parser.hpp"

namespace zai {

// What the host does next. The accessor that holds each action's data is named beside it.
enum class action : int {
  respond = 1,          // response(): a whole response; the completion is over
  stream_start = 2,     // stream_head(), bytes(): send an SSE response's head and these bytes,
                        //   then next()
  write = 3,            // bytes(): write them to the client's stream, then next()
  read = 4,             // read more of the upstream body: feed() what came, then next(); at its
                        //   end (or a read error, or UPSTREAM_IDLE_TIMEOUT_MS) on_end()
  end_stream = 5,       // bytes(): write them and end the client's stream; the completion is over
  wait_token = 6,       // wait(): wait for a mint to finish (at most that long), then next()
  captcha = 7,          // captcha_url(): GET it, then on_captcha()
  fetch = 8,            // upstream(): send it, then on_response() or on_failure()
  refresh_version = 9,  // upstream(): GET the front page, then on_front_page()
  none = 10,            // on_quiet() only: nothing to write
};

class completion_flow {
 public:
  completion_flow(gateway& g, const surface& api, chat_request request, resolved_model model,
                  std::string origin, instant now);
  ~completion_flow();
  completion_flow(const completion_flow&) = delete;
  completion_flow& operator=(const completion_flow&) = delete;

  // The first action, and the one after a write or a wait.
  action next(instant now);
  action on_captcha(unsigned status, std::string_view body, instant now);
  // The upstream's status line and headers arrived (`body`: the start of a non-200 body).
  action on_response(unsigned status, std::string_view content_type,
                     std::string_view retry_after, std::string_view body, instant now);
  // No HTTP answer: refused, reset, TLS failure, or UPSTREAM_*_TIMEOUT_MS (`timed_out`).
  action on_failure(bool timed_out, instant now);
  void feed(std::string_view body_bytes);  // after `read`; then next()
  action on_end(bool went_silent, instant now);
  action on_front_page(unsigned status, std::string_view html, instant now);
  // Nothing was written to the client for SSE_KEEPALIVE_MS while the host waits on something
  // else: the keep-alive bytes to write (`write`), or, when a streamed answer's head is not out
  // yet, the head with them (`stream_start`) — a client that sees no byte may time out, so a
  // silent upstream commits the head, and a later error becomes an error event. `none` for
  // non-streamed requests and ended ones. It changes nothing the pending action needs.
  action on_quiet(instant now);
  // The shutdown grace ran out: the next report ends the completion with server_shutting_down.
  // The host must make that report come soon (cancel what it waits on).
  void cut();
  // The client went away: release everything; nothing more will be asked.
  void abandon(instant now);

  const plain_response& response() const { return response_; }
  std::string_view bytes() const { return out_; }
  header_list stream_head() const;
  const upstream_request& upstream() const { return upstream_; }
  std::string captcha_url() const;
  std::chrono::milliseconds wait() const { return wait_; }

  bool streaming_request() const { return request_.stream; }
  // The upstream connection may carry another request: its response ended cleanly.
  bool upstream_reusable() const { return translator_ && translator_->ended() && !upstream_ended_; }
  bool head_committed() const { return head_committed_; }
  int pool_slot() const { return pool_slot_; }
  const std::string& model() const { return request_.model; }

 private:
  enum class state {
    admitting,        // the next attempt starts: breaker, then a token
    acquiring,        // waiting for a token being minted
    awaiting_captcha,
    fetching,         // the upstream request is out
    refreshing,       // the front page is out (a stale front-end version)
    opening,          // a 200 stream: reading until its first text
    streaming,        // relaying to the client
    collecting,       // reading the whole answer for one response
    over,
  };

  action admit(instant now);
  action acquire(instant now);
  action send_upstream(std::optional<std::string_view> captcha, instant now);
  action judge(upstream_verdict v, instant now);
  action retry_or_fail(upstream_verdict v, bool new_version, instant now);
  action out_of_turn(std::string_view call, instant now);
  action after_input(instant now);
  action relay(instant now);
  action collect(instant now);
  action fail(const api_error& e, instant now);
  action end(instant now);
  void start_encoder(std::string& out);
  void encode_outputs();
  void deliver(answer_event& e);
  void encode(const answer_event& e);
  void finish_answer(finish_reason reason, answer_event& event);
  bool holding() const;
  action retry_for_call(instant now);
  answer collected(finish_reason reason);
  void report(upstream_verdict* verdict, instant now);
  void release(lease_outcome outcome, std::optional<int> retry_after_seconds, instant now);
  api_error client_error(const upstream_error& e) const;
  token_usage final_usage() const;

  gateway& gateway_;
  const surface& api_;
  chat_request request_;
  resolved_model model_;
  std::string origin_;
  std::string prompt_;  // the one upstream user turn, folded once per attempt kind
  std::string nonce_;   // binds the prompt's tool calls to this request
  std::unique_ptr<tool_call_parser> parser_;  // when the client offers tools (rarely kept inline)
  std::vector<answer_event> parsed_;        // the parser's events, handed on at once
  // tool_choice required or named: the events held until the first call shows, so that an
  // answer without one can be retried once, invisibly, with a prompt that says so.
  std::vector<answer_event> held_;
  bool nudged_ = false;       // that retry happened
  bool missed_call_ = false;  // this attempt ended without the required call
  completion_meta meta_;
  std::uint64_t serial_;  // this request, for the breaker's count of different requests
  attempt_budget budget_;
  state state_ = state::admitting;
  bool probe_ = false;      // this attempt is the WAF breaker's probe
  bool answered_ = false;   // this attempt got an HTTP answer from the upstream
  bool reported_ = true;    // the breaker has heard how this attempt ended
  bool cut_ = false;
  bool head_committed_ = false;
  bool stream_over_ = false;  // the encoder has written the answer's last event
  instant last_now_;
  std::chrono::steady_clock::time_point wait_until_{};
  std::uint64_t fresh_after_ = 0;  // after a 401: only tokens minted since that many rejections
  std::optional<upstream_verdict> retrying_;  // the failure that caused this attempt
  std::optional<upstream_verdict> refreshing_;  // the failure waiting on the front page
  std::optional<token_lease> lease_;
  int pool_slot_ = -1;
  std::optional<stream_translator> translator_;
  std::unique_ptr<answer_encoder> encoder_;
  std::vector<stream_output> pending_;
  bool upstream_ended_ = false;
  bool went_silent_ = false;
  std::size_t content_bytes_ = 0;
  plain_response response_;
  std::string out_;
  upstream_request upstream_;
  std::chrono::milliseconds wait_{0};
};

}  // namespace zai
