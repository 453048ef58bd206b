// One upstream event, parsed. Z.AI sends `{"type":"chat:completion","data":{…}}` frames whose
// fields say how to change the message text (append, edit from a UTF-16 index, replace), which
// phase is being produced, whether generation is done, token usage, and errors (reference §4.2,
// §5). This file turns one SSE payload into that, tolerating any key order, and names every way
// the upstream can fail in one enum, so the rest of the proxy never looks at upstream JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zai {

// Why an upstream answer failed. The first group comes from the upstream's error frames; the
// last three are raised by the stream translator itself.
enum class upstream_fault {
  captcha_missing,       // FRONTEND_CAPTCHA_REQUIRED, captcha_error_type "missing_param"
  captcha_failed,        // FRONTEND_CAPTCHA_REQUIRED, "verify_failed" / verify_code F003
  model_requires_login,  // code 403, "Model not available for current user level"
  model_not_found,       // code 404
  client_outdated,       // code 426 (client check / front-end version)
  concurrency_limited,   // code 429, or text about concurrency / too many requests / 并发
  token_invalid,         // code 401
  content_filter,        // "Content Security Warning…", or the error carries `content`
  upstream_internal,     // any other error frame
  truncated,             // the body ended before done / [DONE] / an error
  oversize_event,        // one event exceeded the configured bound
  malformed_stream,      // the message text grew past its bound
};

std::string_view to_string(upstream_fault fault);

struct token_usage {
  std::uint64_t prompt_tokens = 0, completion_tokens = 0, total_tokens = 0;
  std::uint64_t cached_tokens = 0;
  bool present = false;  // the upstream sent a usage object
  bool operator==(const token_usage&) const = default;
};

struct upstream_error {
  upstream_fault fault = upstream_fault::upstream_internal;
  std::string detail;  // `detail` or `message`, as the upstream wrote it
  std::string code;    // `code` or `error_code`, numbers in decimal; empty if none
  bool operator==(const upstream_error&) const = default;
};

// How an event changes the accumulated message text (reference §4.3).
enum class text_mutation {
  none,
  append,   // delta_content: text += text
  edit,     // edit_content: text = text.substring(0, edit_index) + text
  replace,  // content: text = text
};

struct zai_event {
  enum class kind {
    event,          // a chat:completion frame (or any frame carrying an error)
    done_sentinel,  // the literal `[DONE]`
    ignored_type,   // valid JSON of another type (status, chat:title, heartbeat…)
    not_json,       // anything else; to be ignored
  };
  kind what = kind::not_json;
  text_mutation mutation = text_mutation::none;
  std::string text;              // delta_content / edit_content / content, valid UTF-8
  std::uint64_t edit_index = 0;  // UTF-16 code units; missing or negative means 0
  std::string phase;             // thinking, answer, tool_call, other, done…
  bool done = false;             // data.done == true or phase == "done"
  token_usage usage;
  std::optional<upstream_error> error;
  bool operator==(const zai_event&) const = default;
};

// Parses one SSE data payload. Never fails: what it cannot use it reports as not_json or
// ignored_type. Invalid UTF-8 inside strings becomes U+FFFD, as in the browser. Common frames
// are scanned without building a JSON DOM (event_scan.hpp).
zai_event parse_zai_event(std::string_view payload);

}  // namespace zai
