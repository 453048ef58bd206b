// One POST /v1/chat/completions in the Worker, as a state machine that JavaScript drives. Each
// call returns the next action for JavaScript to perform (fetch this upstream request, read more
// of its body, write these bytes to the client, …) and JavaScript reports what happened. The
// decisions are the core's, taken in the same order as the native server's completion flow
// (src/server/chat_completions.cpp): lease a token, sign the request, judge a non-200 answer or
// an early error frame (token outcome, retry while the client has seen nothing), then stream or
// collect the translated answer.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/models.hpp"
#include "core/api/openai_chat_request.hpp"
#include "core/api/openai_chat_response.hpp"
#include "core/stream/stream_translator.hpp"
#include "core/flow/upstream_verdict.hpp"
#include "wasm/record.hpp"

namespace zai::wasm {

class gateway;

// The actions, with the fields of the output record:
enum class action : int {
  respond = 1,       // [status, body, name, value, …]   a whole response; the completion is over
  stream_start = 2,  // [status, "", name, value, …]     send the head of an SSE response, then next()
  write = 3,         // [bytes]                          write to the client stream, then next()
  read = 4,          // []                               read more upstream: on_bytes / on_end
  close = 5,         // []                               end the client stream; the completion is over
  wait_token = 6,    // [milliseconds]                   wait for a mint (or that long), then next()
  captcha = 7,       // [url]                            GET it, then on_captcha
  fetch = 8,         // [method, url, body, name, value, …]  send it, then on_response / on_failure
};

class completion_flow {
 public:
  completion_flow(gateway& g, chat_request request, resolved_model model, std::string origin,
                  double now_ms);

  action next(double now_ms, record_writer& out);
  action on_captcha(unsigned status, std::string_view body, double now_ms, record_writer& out);
  action on_response(unsigned status, std::string_view content_type,
                     std::string_view retry_after, std::string_view body, double now_ms,
                     record_writer& out);
  action on_failure(bool timed_out, double now_ms, record_writer& out);
  action on_bytes(std::string_view bytes, double now_ms, record_writer& out);
  action on_end(bool went_silent, double now_ms, record_writer& out);
  // The client went away or the completion is dropped: a lease still held goes back.
  void abandon(double now_ms);

 private:
  enum class state { acquiring, awaiting_captcha, fetching, opening, streaming, collecting, over };

  action acquire(double now_ms, record_writer& out);
  action send_upstream(std::optional<std::string_view> captcha, double now_ms, record_writer& out);
  action judge(upstream_verdict v, double now_ms, record_writer& out);
  action after_input(double now_ms, record_writer& out);
  action pump(double now_ms, record_writer& out);
  action collect(double now_ms, record_writer& out);
  action fail(const api_error& e, double now_ms, record_writer& out);
  // Tells the WAF breaker how this attempt ended, once (see report_to_breaker).
  void report(upstream_verdict* verdict, double now_ms);
  void release(lease_outcome outcome, std::optional<int> retry_after_seconds, double now_ms);
  token_usage final_usage() const;

  gateway& gateway_;
  chat_request request_;
  resolved_model model_;
  std::string origin_;
  completion_meta meta_;
  attempt_budget budget_;
  state state_ = state::acquiring;
  bool attempt_counted_ = false;  // this attempt's ++attempts is done (a token wait repeats acquire)
  bool probe_ = false;     // this attempt is the WAF breaker's probe
  bool answered_ = false;  // this attempt got an HTTP answer from the upstream
  bool reported_ = true;   // the breaker has heard how this attempt ended
  double wait_until_ms_ = 0;
  std::optional<upstream_verdict> retrying_;  // the failure that caused this attempt
  std::optional<token_lease> lease_;
  std::optional<stream_translator> translator_;
  std::optional<chunk_writer> writer_;
  std::vector<stream_output> pending_;
  std::string out_bytes_;
  bool upstream_ended_ = false;
  bool went_silent_ = false;
  bool stream_over_ = false;
  std::size_t prompt_bytes_ = 0;
  std::size_t content_bytes_ = 0;
};

}  // namespace zai::wasm
