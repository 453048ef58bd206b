#include "core/zai/event.hpp"

#include <boost/json.hpp>
#include <cstdint>

#include "core/encoding.hpp"
#include "core/stream/utf16.hpp"
#include "core/zai/event_scan.hpp"

namespace zai {
namespace {

namespace json = boost::json;

std::string_view trim(std::string_view s) {
  constexpr std::string_view ws = " \t\r\n";
  const std::size_t first = s.find_first_not_of(ws);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(ws) - first + 1);
}

// The code unit of a `\uXXXX` escape starting at `at`, or -1.
long escaped_unit(std::string_view s, std::size_t at) {
  if (at + 6 > s.size() || s[at] != '\\' || s[at + 1] != 'u') return -1;
  long unit = 0;
  for (std::size_t i = at + 2; i < at + 6; ++i) {
    const int digit = hex_digit_value(s[i]);
    if (digit < 0) return -1;
    unit = unit * 16 + digit;
  }
  return unit;
}

// JavaScript's JSON.parse accepts a lone surrogate escape (`"\ud83d"`); Boost.JSON rejects the
// whole document. Replace each lone one by \ufffd — also one UTF-16 unit, so edit indexes
// still line up.
std::string replace_lone_surrogates(std::string_view s) {
  std::string out(s);
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] != '\\') continue;
    const long unit = escaped_unit(out, i);
    if (unit < 0) {
      ++i;  // some other escape: skip the escaped character
      continue;
    }
    const bool high = unit >= 0xD800 && unit <= 0xDBFF;
    const bool low = unit >= 0xDC00 && unit <= 0xDFFF;
    if (high) {
      const long next = escaped_unit(out, i + 6);
      if (next >= 0xDC00 && next <= 0xDFFF) {
        i += 11;
        continue;
      }
    }
    if (high || low) out.replace(i, 6, "\\ufffd");
    i += 5;
  }
  return out;
}

// Parses like the browser: bytes decoded with U+FFFD for invalid UTF-8, lone surrogates kept
// (here: replaced). The repair pass only runs when the strict parse fails.
json::value parse_leniently(std::string_view text, const json::storage_ptr& memory,
                            boost::system::error_code& ec) {
  json::value v = json::parse(text, ec, memory);
  if (!ec) return v;
  ec = {};
  return json::parse(replace_lone_surrogates(repair_utf8(text)), ec, memory);
}

const json::object* object_at(const json::object* obj, std::string_view key) {
  if (obj == nullptr) return nullptr;
  const json::value* v = obj->if_contains(key);
  return v ? v->if_object() : nullptr;
}

const json::string* string_at(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  return v ? v->if_string() : nullptr;
}

std::optional<std::uint64_t> count_of(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (const auto* i = v->if_int64()) return *i < 0 ? 0 : static_cast<std::uint64_t>(*i);
  if (const auto* u = v->if_uint64()) return *u;
  if (const auto* d = v->if_double()) {
    // Like JavaScript's substring: NaN and negatives are 0, huge values clamp.
    if (!(*d > 0)) return 0;
    return *d < 1.8e19 ? static_cast<std::uint64_t>(*d) : UINT64_MAX;
  }
  return std::nullopt;
}

bool flag_at(const json::object* obj, std::string_view key) {
  if (obj == nullptr) return false;
  const json::value* v = obj->if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

// An error worth the name: a non-empty object or string (`"error": null` / `{}` is no error).
bool is_error_value(const json::value* v) {
  if (v == nullptr) return false;
  if (const auto* o = v->if_object()) return !o->empty();
  if (const auto* s = v->if_string()) return !s->empty();
  return false;
}

// A field as text: strings as they are, integers in decimal, anything else as JSON.
std::string text_of(const json::value* v) {
  if (v == nullptr || v->is_null()) return {};
  if (const auto* s = v->if_string()) return std::string(*s);
  if (const auto* i = v->if_int64()) return std::to_string(*i);
  if (const auto* u = v->if_uint64()) return std::to_string(*u);
  return json::serialize(*v);
}

bool contains_ascii_case_insensitive(std::string_view text, std::string_view lower_needle) {
  if (lower_needle.size() > text.size()) return false;
  for (std::size_t i = 0; i + lower_needle.size() <= text.size(); ++i) {
    std::size_t j = 0;
    while (j < lower_needle.size()) {
      char c = text[i + j];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != lower_needle[j]) break;
      ++j;
    }
    if (j == lower_needle.size()) return true;
  }
  return false;
}

upstream_fault classify(const json::object* error, const upstream_error& e) {
  std::string captcha_type;
  std::string error_code;
  bool has_verify_code = false;
  bool has_content = false;
  if (error != nullptr) {
    if (const auto* s = string_at(*error, "captcha_error_type")) captcha_type = *s;
    error_code = text_of(error->if_contains("error_code"));
    has_verify_code = error->contains("verify_code");
    has_content = is_error_value(error->if_contains("content"));
  }
  constexpr std::string_view captcha_code = "FRONTEND_CAPTCHA_REQUIRED";
  if (e.code == captcha_code || error_code == captcha_code || !captcha_type.empty()) {
    return captcha_type == "verify_failed" || has_verify_code ? upstream_fault::captcha_failed
                                                              : upstream_fault::captcha_missing;
  }
  if (e.detail.find("Content Security") != std::string::npos || has_content) {
    return upstream_fault::content_filter;
  }
  for (const std::string& code : {e.code, error_code}) {
    if (code == "401") return upstream_fault::token_invalid;
    if (code == "403") return upstream_fault::model_requires_login;
    if (code == "404") return upstream_fault::model_not_found;
    if (code == "426") return upstream_fault::client_outdated;
    if (code == "429") return upstream_fault::concurrency_limited;
  }
  if (e.detail.find("Model not available") != std::string::npos) {
    return upstream_fault::model_requires_login;
  }
  if (contains_ascii_case_insensitive(e.detail, "concurrency") ||
      contains_ascii_case_insensitive(e.detail, "too many requests") ||
      e.detail.find("并发") != std::string::npos) {
    return upstream_fault::concurrency_limited;
  }
  return upstream_fault::upstream_internal;
}

// Error frames nest the error twice (reference §5); robust clients look in data.error, then
// data.data.error, then a top-level error.
std::optional<upstream_error> find_error(const json::object& top, const json::object* data) {
  const json::value* found = nullptr;
  if (data != nullptr && is_error_value(data->if_contains("error"))) {
    found = data->if_contains("error");
  } else if (const auto* inner = object_at(data, "data");
             inner != nullptr && is_error_value(inner->if_contains("error"))) {
    found = inner->if_contains("error");
  } else if (is_error_value(top.if_contains("error"))) {
    found = top.if_contains("error");
  }
  if (found == nullptr) return std::nullopt;
  upstream_error e;
  const json::object* obj = found->if_object();
  if (obj == nullptr) {
    e.detail = text_of(found);
  } else {
    const json::value* detail = obj->if_contains("detail");
    e.detail = text_of(detail && !detail->is_null() ? detail : obj->if_contains("message"));
    const json::value* code = obj->if_contains("code");
    e.code = text_of(code && !code->is_null() ? code : obj->if_contains("error_code"));
  }
  e.fault = classify(obj, e);
  return e;
}

token_usage usage_of(const json::object& usage) {
  token_usage u;
  u.present = true;
  u.prompt_tokens = count_of(usage.if_contains("prompt_tokens")).value_or(0);
  u.completion_tokens = count_of(usage.if_contains("completion_tokens")).value_or(0);
  u.total_tokens =
      count_of(usage.if_contains("total_tokens")).value_or(u.prompt_tokens + u.completion_tokens);
  if (const auto* details = object_at(&usage, "prompt_tokens_details")) {
    u.cached_tokens = count_of(details->if_contains("cached_tokens")).value_or(0);
  }
  return u;
}

void read_payload(const json::object& data, zai_event& ev) {
  if (const auto* phase = string_at(data, "phase")) ev.phase = *phase;
  ev.done =
      flag_at(&data, "done") || flag_at(object_at(&data, "data"), "done") || ev.phase == "done";
  if (const auto* usage = object_at(&data, "usage")) ev.usage = usage_of(*usage);

  if (const auto* edit = string_at(data, "edit_content")) {
    ev.mutation = text_mutation::edit;
    ev.text = *edit;
    ev.edit_index = count_of(data.if_contains("edit_index")).value_or(0);
  } else if (const auto* delta = string_at(data, "delta_content")) {
    ev.mutation = text_mutation::append;
    ev.text = *delta;
  } else if (const auto* content = string_at(data, "content")) {
    ev.mutation = text_mutation::replace;
    ev.text = *content;
  }
}

}  // namespace

std::string_view to_string(upstream_fault fault) {
  switch (fault) {
    case upstream_fault::captcha_missing:
      return "captcha_missing";
    case upstream_fault::captcha_failed:
      return "captcha_failed";
    case upstream_fault::model_requires_login:
      return "model_requires_login";
    case upstream_fault::model_not_found:
      return "model_not_found";
    case upstream_fault::client_outdated:
      return "client_outdated";
    case upstream_fault::concurrency_limited:
      return "concurrency_limited";
    case upstream_fault::token_invalid:
      return "token_invalid";
    case upstream_fault::content_filter:
      return "content_filter";
    case upstream_fault::upstream_internal:
      return "upstream_internal";
    case upstream_fault::truncated:
      return "truncated";
    case upstream_fault::oversize_event:
      return "oversize_event";
    case upstream_fault::malformed_stream:
      return "malformed_stream";
  }
  return "unknown";
}

zai_event parse_zai_event(std::string_view payload) {
  const std::string_view text = trim(payload);
  if (text == "[DONE]") {
    zai_event ev;
    ev.what = zai_event::kind::done_sentinel;
    return ev;
  }
  if (!text.starts_with('{')) return {};
  if (auto scanned = scan_zai_event(text)) return std::move(*scanned);
  return parse_zai_event_json(text);
}

zai_event parse_zai_event_json(std::string_view text) {
  zai_event ev;
  // The event's DOM lives only for this call: it is built in a buffer on the stack (a typical
  // event is a few hundred bytes), and only a larger one takes memory from the heap.
  unsigned char arena[4096];
  json::monotonic_resource memory(arena, sizeof arena);
  boost::system::error_code ec;
  const json::value root = parse_leniently(text, &memory, ec);
  if (ec || !root.is_object()) return ev;

  const json::object& top = root.get_object();
  const json::object* data = object_at(&top, "data");
  ev.error = find_error(top, data);
  const json::value* type = top.if_contains("type");
  const bool completion =
      type == nullptr || (type->is_string() && type->get_string() == "chat:completion");
  if (!completion && !ev.error) {
    ev.what = zai_event::kind::ignored_type;
    return ev;
  }
  ev.what = zai_event::kind::event;
  if (data != nullptr) read_payload(*data, ev);
  return ev;
}

}  // namespace zai
