// The Worker's ABI: the functions core.wasm exports to JavaScript and the one it imports. The
// host calls `_initialize` once, then `zai_configure`. Inputs go into the module's input buffer
// (`zai_input(n)` returns where n bytes may be written: raw bytes or a record, see record.hpp);
// outputs are one record read at `zai_output_ptr()` / `zai_output_len()`, valid until the next
// call. Times are milliseconds since the epoch as f64. The isolate's gateway and its completion
// flows are the core's (src/core/flow/); a completion is a handle (> 0) whose calls return the
// flow's next action, with that action's data in the output record:
//
//   respond (1)          [status, body, name, value, …]   the completion is over
//   stream_start (2)     [status, bytes, name, value, …]  send the head, write bytes, then next
//   write (3)            [bytes]                          then next
//   read (4)             []                               then bytes / end
//   end_stream (5)       [bytes]                          write them, close; the completion is over
//   wait_token (6)       [milliseconds]                   wait for a mint (or that long), then next
//   captcha (7)          [url]                            GET it, then captcha
//   fetch (8)            [method, url, body, name, value, …]  then response / failure
//   refresh_version (9)  [method, url, body, name, value, …]  then front_page
//   none (10)            []                               (quiet only) nothing to write
//
// Every decision is the core's; the host only fetches, streams and waits.
#include <map>
#include <memory>
#include <random>
#include <string>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/flow/completion_flow.hpp"
#include "core/flow/gateway.hpp"
#include "wasm/record.hpp"

#define ZAI_EXPORT(name) extern "C" __attribute__((export_name(name)))

// HMAC-SHA256 of message under key, 32 bytes written to out: the Worker's node:crypto.
extern "C" __attribute__((import_module("zai"), import_name("hmac_sha256"))) void
zai_host_hmac_sha256(const char* key, std::size_t key_len, const char* message,
                     std::size_t message_len, unsigned char* out);

namespace zai::wasm {
namespace {

hmac_digest host_hmac_sha256(std::string_view key, std::string_view message) {
  hmac_digest digest{};
  zai_host_hmac_sha256(key.data(), key.size(), message.data(), message.size(), digest.data());
  return digest;
}

std::string input;
record_writer output;
std::unique_ptr<gateway> instance;
std::map<int, std::unique_ptr<completion_flow>> completions;
int next_handle = 1;

std::string_view input_view(std::uint32_t len) { return std::string_view(input).substr(0, len); }

instant when(double now_ms) { return steady_at(static_cast<std::int64_t>(now_ms)); }

void write_response(const plain_response& r) {
  output.add(r.status);
  output.add(r.body);
  output.add_headers(r.headers);
}

void write_request(const upstream_request& r) {
  output.add(r.method);
  output.add(instance->upstream_url(r));
  output.add(r.body);
  output.add_headers(r.headers);
}

// The output record of `a`, from the flow's accessors.
int emit(completion_flow& c, action a) {
  output.clear();
  switch (a) {
    case action::respond: write_response(c.response()); break;
    case action::stream_start:
      output.add(200);
      output.add(c.bytes());
      output.add_headers(c.stream_head());
      break;
    case action::write:
    case action::end_stream: output.add(c.bytes()); break;
    case action::wait_token: output.add(static_cast<std::int64_t>(c.wait().count())); break;
    case action::captcha: output.add(c.captcha_url()); break;
    case action::fetch:
    case action::refresh_version: write_request(c.upstream()); break;
    case action::read:
    case action::none: break;
  }
  return static_cast<int>(a);
}

int no_completion() {
  output.clear();
  write_response(error_answer(make_error(errc::internal, "Unknown completion."), "",
                              instance ? instance->cfg() : config{}));
  return static_cast<int>(action::respond);
}

template <class Step>
int step(int handle, Step&& s) {
  const auto it = completions.find(handle);
  if (!instance || it == completions.end()) return no_completion();
  return emit(*it->second, s(*it->second));
}

}  // namespace
}  // namespace zai::wasm

using namespace zai;
using namespace zai::wasm;

ZAI_EXPORT("zai_input") char* zai_input(std::uint32_t size) {
  input.resize(size);
  return input.data();
}

ZAI_EXPORT("zai_output_ptr") const char* zai_output_ptr() { return output.bytes().data(); }
ZAI_EXPORT("zai_output_len") std::uint32_t zai_output_len() {
  return static_cast<std::uint32_t>(output.bytes().size());
}

// Input: a record of name, value pairs (the Worker's vars and secrets). 0, or 1 with [message]
// naming the variable and why, as the native server prints it at start-up.
ZAI_EXPORT("zai_configure") int zai_configure(std::uint32_t len) {
  output.clear();
  std::vector<std::pair<std::string, std::string>> vars;
  record_reader in(input_view(len));
  while (!in.done()) {
    std::string name(in.next());
    vars.emplace_back(std::move(name), std::string(in.next()));
  }
  const env_lookup env = [&vars](std::string_view name) -> std::optional<std::string> {
    for (const auto& [n, v] : vars) {
      if (n == name && !v.empty()) return v;
    }
    return std::nullopt;
  };
  auto cfg = parse_config(env, {});
  if (!cfg) {
    output.add(cfg.error());
    return 1;
  }
  std::random_device seed;  // WASI random_get: the host's crypto.getRandomValues
  const std::uint64_t s = (std::uint64_t{seed()} << 32) | seed();
  completions.clear();
  instance = std::make_unique<gateway>(std::move(*cfg), s, host_hmac_sha256);
  return 0;
}

// [upstream first-byte timeout ms, idle timeout ms, max body bytes, keep-alive ms]
ZAI_EXPORT("zai_settings") int zai_settings() {
  output.clear();
  if (!instance) return 1;
  const config& c = instance->cfg();
  output.add(static_cast<std::int64_t>(c.upstream_first_byte_timeout.count()));
  output.add(static_cast<std::int64_t>(c.upstream_idle_timeout.count()));
  output.add(static_cast<std::int64_t>(c.max_body_bytes));
  output.add(static_cast<std::int64_t>(c.sse_keepalive.count()));
  return 0;
}

// Upstream requests due now, as jobs: [kind ("mint" | "scrape"), slot, method, url, body,
// header count, name, value, …]. Returns how many.
ZAI_EXPORT("zai_housekeeping") int zai_housekeeping(double now) {
  output.clear();
  if (!instance) return 0;
  const auto jobs = instance->upkeep(when(now));
  for (const upkeep_job& job : jobs) {
    output.add(job.what == upkeep_job::kind::mint ? "mint" : "scrape");
    output.add(static_cast<std::int64_t>(job.slot));
    output.add(job.request.method);
    output.add(instance->upstream_url(job.request));
    output.add(job.request.body);
    output.add(static_cast<std::int64_t>(job.request.headers.size()));
    output.add_headers(job.request.headers);
  }
  return static_cast<int>(jobs.size());
}

ZAI_EXPORT("zai_mint_done") void zai_mint_done(std::uint32_t slot, std::uint32_t status,
                                               std::uint32_t len, double now) {
  if (instance) instance->mint_done(slot, status, input_view(len), when(now));
}

ZAI_EXPORT("zai_scrape_done") void zai_scrape_done(std::uint32_t status, std::uint32_t len,
                                                   double now) {
  if (instance) instance->scrape_done(status, input_view(len), when(now));
}

// Whether a completion waiting for a token may wait on: a mint is under way or due now.
ZAI_EXPORT("zai_mint_under_way") int zai_mint_under_way(double now) {
  return instance && instance->mint_under_way(when(now)) ? 1 : 0;
}

// Input: [method, target, authorization, origin, x-api-key, body]. 0: `output` is the whole
// response [status, body, name, value, …]; > 0: a completion to drive with zai_next.
ZAI_EXPORT("zai_begin") int zai_begin(std::uint32_t len, int body_too_large, double now) {
  if (!instance) {
    no_completion();
    return 0;
  }
  record_reader in(input_view(len));
  front_request r;
  r.method = in.next();
  r.target = in.next();
  r.authorization = in.next();
  r.origin = in.next();
  r.api_key = in.next();
  const std::string_view body = in.next();
  auto opened = instance->open(r, body, body_too_large != 0, when(now));
  output.clear();
  if (opened.response) {
    write_response(*opened.response);
    return 0;
  }
  const int handle = next_handle++;
  completions.emplace(handle, std::move(opened.flow));
  return handle;
}

ZAI_EXPORT("zai_next") int zai_next(int h, double now) {
  return step(h, [&](completion_flow& c) { return c.next(when(now)); });
}

// Input: the captcha provider's body (raw).
ZAI_EXPORT("zai_captcha") int zai_captcha(int h, std::uint32_t status, std::uint32_t len,
                                          double now) {
  return step(h, [&](completion_flow& c) {
    return c.on_captcha(status, input_view(len), when(now));
  });
}

// Input: [content type, retry-after, body] (the body only for a non-200 answer).
ZAI_EXPORT("zai_response") int zai_response(int h, std::uint32_t status, std::uint32_t len,
                                            double now) {
  return step(h, [&](completion_flow& c) {
    record_reader in(input_view(len));
    const auto content_type = in.next();
    const auto retry_after = in.next();
    const auto body = in.next();
    return c.on_response(status, content_type, retry_after, body, when(now));
  });
}

ZAI_EXPORT("zai_failure") int zai_failure(int h, int timed_out, double now) {
  return step(h, [&](completion_flow& c) { return c.on_failure(timed_out != 0, when(now)); });
}

// Input: upstream body bytes (raw), split anywhere.
ZAI_EXPORT("zai_bytes") int zai_bytes(int h, std::uint32_t len, double now) {
  return step(h, [&](completion_flow& c) {
    c.feed(input_view(len));
    return c.next(when(now));
  });
}

ZAI_EXPORT("zai_end") int zai_end(int h, int went_silent, double now) {
  return step(h, [&](completion_flow& c) { return c.on_end(went_silent != 0, when(now)); });
}

// Input: the front page's HTML (raw; empty when it could not be fetched).
ZAI_EXPORT("zai_front_page") int zai_front_page(int h, std::uint32_t status, std::uint32_t len,
                                                double now) {
  return step(h, [&](completion_flow& c) {
    return c.on_front_page(status, input_view(len), when(now));
  });
}

// SSE_KEEPALIVE_MS passed with nothing written: `none`, `write` or `stream_start`.
ZAI_EXPORT("zai_quiet") int zai_quiet(int h, double now) {
  return step(h, [&](completion_flow& c) { return c.on_quiet(when(now)); });
}

ZAI_EXPORT("zai_drop") void zai_drop(int h, double now) {
  const auto it = completions.find(h);
  if (it == completions.end()) return;
  it->second->abandon(when(now));
  completions.erase(it);
}

// Input: [origin, message]. Output: the 500 for a request whose instance trapped (asked of the
// fresh instance that replaces it) or that met a bad configuration (the message names it).
ZAI_EXPORT("zai_internal_error") int zai_internal_error(std::uint32_t len) {
  record_reader in(input_view(len));
  const auto origin = in.next();
  const auto message = in.next();
  output.clear();
  write_response(error_answer(make_error(errc::internal, std::string(message)), origin,
                              instance ? instance->cfg() : config{}));
  return 0;
}

// Traps on purpose. The Worker calls it only when ZAI_TEST_HOOKS is set, so tests can prove
// that a trap costs one request a 500 and the next request works.
ZAI_EXPORT("zai_trap") void zai_trap() { __builtin_trap(); }
