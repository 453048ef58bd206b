#include <array>
#include <charconv>
#include <optional>

#include "core/config_options.hpp"
#include "core/encoding.hpp"

namespace zai {
namespace {

using namespace config_table;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> parse_uint(std::string_view text, std::uint64_t max) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value > max) {
    return std::nullopt;
  }
  return value;
}

std::optional<bool> parse_bool(std::string_view text) {
  const std::string t = ascii_lower(text);
  if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "0" || t == "no" || t == "off") return false;
  return std::nullopt;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    const std::size_t comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

template <class Int>
std::string set_int(Int& out, std::string_view v, std::uint64_t max, std::string_view what) {
  const auto n = parse_uint(v, max);
  if (!n) return "expected " + std::string(what);
  out = static_cast<Int>(*n);
  return {};
}

// A size or a cap: `what` names the unit ("a byte count", "an integer") in the error.
std::string set_count(std::size_t& out, std::string_view v, std::uint64_t min, std::uint64_t max,
                      std::string_view what) {
  const auto n = parse_uint(v, max);
  if (!n || *n < min) {
    return "expected " + std::string(what) + " from " + std::to_string(min) + " to " +
           std::to_string(max);
  }
  out = static_cast<std::size_t>(*n);
  return {};
}

std::string set_ms(std::chrono::milliseconds& out, std::string_view v) {
  const auto n = parse_uint(v, 3'600'000);
  if (!n || *n == 0) return "expected milliseconds from 1 to 3600000";
  out = std::chrono::milliseconds(*n);
  return {};
}

// Like set_ms, but 0 is allowed and means "off".
std::string set_ms_or_off(std::chrono::milliseconds& out, std::string_view v) {
  const auto n = parse_uint(v, 3'600'000);
  if (!n) return "expected milliseconds from 0 (off) to 3600000";
  out = std::chrono::milliseconds(*n);
  return {};
}

std::string set_text(std::string& out, std::string_view v) {
  if (v.find_first_of(" \t") != std::string_view::npos) return "must not contain spaces";
  out = std::string(v);
  return {};
}

std::string set_models(config& c, std::string_view v, const file_reader& read_file) {
  std::string json(v);
  std::string origin;
  const std::size_t first = v.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || v[first] != '{') {
    if (!read_file) return "is not JSON, and file paths are not supported here";
    std::optional<std::string> text = read_file(v);
    if (!text) return "cannot read the file";
    json = std::move(*text);
    origin = "file: ";
  }
  // Over c.models, not the built-in table, so that the aliases it carries are kept.
  result<model_table, std::string> merged = merge_models_json(c.models, json);
  if (merged.has_error()) return origin + merged.error();
  c.models = std::move(*merged);
  return {};
}

// After ZAI_MODELS (its row comes first), so that aliases may point to the models it adds.
std::string set_aliases(config& c, std::string_view v, const file_reader&) {
  result<model_table, std::string> merged = merge_aliases_json(c.models, v);
  if (merged.has_error()) return merged.error();
  c.models = std::move(*merged);
  return {};
}

constexpr option option_rows[] = {
    {{"HOST", "<address>", "0.0.0.0", "Address to listen on."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return v.empty() ? std::string("must not be empty") : set_text(c.host, v);
     }},
    {{"PORT", "<int>", "3000", "Port to listen on (0: any free port)."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_int(c.port, v, 65535, "a port number from 0 to 65535");
     }},
    {{"WORKERS", "<int>", "0",
      "Event loops (threads) serving connections; 0: one per CPU this process may use (its "
      "affinity and cgroup quota)."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_count(c.workers, v, 0, 1024, "an integer");
     }},
    {{"API_KEY", "<keys>", "sk-z2api-key-2024",
      "Client API key; a comma-separated list accepts any of them."},
     secret,
     [](config& c, std::string_view v, const file_reader&) {
       std::vector<std::string> keys = split_list(v);
       if (keys.empty()) return std::string("must name at least one key");
       for (const std::string& k : keys) {
         if (k.find_first_of(" \t") != std::string::npos)
           return std::string("keys must not contain spaces");
       }
       c.api_keys = std::move(keys);
       return std::string();
     }},
    {{"CORS_ALLOW_ORIGINS", "<origins>", "*",
      "Origins allowed by CORS, comma-separated; * allows any."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       std::vector<std::string> origins = split_list(v);
       if (origins.empty()) return std::string("must name at least one origin or *");
       c.cors_allow_origins = std::move(origins);
       return std::string();
     }},
    {{"MAX_BODY_BYTES", "<int>", "4194304", "Largest accepted request body; larger gets 413."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_count(c.max_body_bytes, v, 1, std::uint64_t(1) << 30, "a byte count");
     }},
    {{"REQUEST_HEADER_TIMEOUT_MS", "<ms>", "30000", "Time allowed to receive a request's headers."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_ms(c.request_header_timeout, v);
     }},
    {{"REQUEST_BODY_TIMEOUT_MS", "<ms>", "60000", "Time allowed to receive a request's body."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_ms(c.request_body_timeout, v);
     }},
    {{"MAX_HEADER_BYTES", "<int>", "16384", "Largest accepted request header block; larger gets 431."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_count(c.max_header_bytes, v, 1024, 1024 * 1024, "a byte count");
     }},
    {{"KEEP_ALIVE_TIMEOUT_MS", "<ms>", "60000",
      "How long an idle client connection is kept open between requests."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_ms(c.keep_alive_timeout, v);
     }},
    {{"MAX_CONNECTIONS", "<int>", "10000",
      "Client connections open at once; more are answered 503 with Retry-After and closed."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_count(c.max_connections, v, 1, 1'000'000, "an integer");
     }},
    {{"MAX_CONCURRENT_STREAMS", "<int>", "4096",
      "Chat completions (streamed or not) in flight at once; more get 429 with Retry-After."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_count(c.max_concurrent_streams, v, 1, 1'000'000, "an integer");
     }},
    {{"SHUTDOWN_GRACE_MS", "<ms>", "25000",
      "After SIGTERM, how long requests in flight may finish before they are cut; 0 cuts at once."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_ms_or_off(c.shutdown_grace, v);
     }},
    {{"TOKEN_POOL_SIZE", "<int>", "5",
      "Guest tokens kept ready; 0 makes chat completions fail with 503."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_int(c.token_pool_size, v, 1000, "an integer from 0 to 1000");
     }},
    {{"TOKEN_MAX_INFLIGHT", "<int>", "0", "Concurrent requests per guest token; 0 = no cap."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_int(c.token_max_inflight, v, 100000, "an integer from 0 to 100000");
     }},
    {{"TOKEN_MAX_AGE_SECONDS", "<int>", "3600",
      "Replace a guest token after this long; 0 = never."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_int(c.token_max_age_seconds, v, 31'536'000, "seconds from 0 to 31536000");
     }},
    {{"SHOW_THINK_TAGS", "", "false",
      "Put reasoning inside content as <think>...</think> instead of reasoning_content."},
     boolean,
     [](config& c, std::string_view v, const file_reader&) {
       const auto b = parse_bool(v);
       if (!b) return std::string("expected true or false");
       c.show_think_tags = *b;
       return std::string();
     }},
    {{"RESPONSES_STORE_MAX", "<int>", "1000",
      "Responses kept in memory for previous_response_id and GET /v1/responses/{id} (store: "
      "true); 0 stores none."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_count(c.responses_store_max, v, 0, 1'000'000, "an integer");
     }},
    {{"RESPONSES_STORE_MAX_AGE_SECONDS", "<int>", "3600",
      "How long a stored response is kept."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_int(c.responses_store_max_age_seconds, v, 31'536'000,
                      "seconds from 0 to 31536000");
     }},
    {{"RESPONSES_STORE_MAX_BYTES", "<int>", "16777216",
      "Total size of the stored responses; the oldest are dropped to stay under it."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_count(c.responses_store_max_bytes, v, 0, std::uint64_t(1) << 34, "a byte count");
     }},
    {{"ZAI_BASE_URL", "<url>", "https://chat.z.ai", "Upstream base URL (http:// for tests)."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       result<http_url, std::string> url = parse_http_url(v);
       if (url.has_error()) return url.error();
       if (!url->query.empty()) return std::string("must not have a query string");
       c.zai_base_url = std::move(*url);
       return std::string();
     }},
    {{"ZAI_FE_VERSION", "<version>", "",
      "X-FE-Version to send; empty: scrape it from the upstream's front page."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_text(c.zai_fe_version, v);
     }},
    {{"ZAI_FE_VERSION_FALLBACK", "<version>", "prod-fe-1.1.98",
      "X-FE-Version used when scraping finds none."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return v.empty() ? std::string("must not be empty") : set_text(c.zai_fe_version_fallback, v);
     }},
    {{"ZAI_SIGNING_SECRET", "<text>", "(the reference's salt)", "Salt of the X-Signature HMAC."},
     secret,
     [](config& c, std::string_view v, const file_reader&) {
       if (v.empty()) return std::string("must not be empty");
       c.zai_signing_secret = std::string(v);
       return std::string();
     }},
    {{"ZAI_REGION", "<region>", "overseas", "X-Region header value."},
     plain,
     [](config& c, std::string_view v, const file_reader&) { return set_text(c.zai_region, v); }},
    {{"ZAI_USER_AGENT", "<text>", "(a desktop Chrome UA)", "User-Agent sent upstream."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       if (v.empty()) return std::string("must not be empty");
       c.zai_user_agent = std::string(v);
       return std::string();
     }},
    {{"ZAI_MODELS", "<json|path>", "(built-in)",
      "Model map merged over the built-in one: {\"public-id\":\"upstream-id\"|{...}|null}, "
      "as JSON text or a file path."},
     multiline,
     set_models},
    {{"MODEL_ALIASES", "<json>", "(claude-* names to glm-4.7)",
      "Alias map merged over the built-in one: {\"alias\":\"public-id\"|null}; a name ending "
      "in * is a pattern (\"claude-opus-*\"). Claude Code asks for claude-... ids."},
     multiline,
     set_aliases},
    {{"CAPTCHA_PROVIDER_URL", "<url>", "",
      "GET per completion, answering {\"captcha_verify_param\":\"...\"}; empty: none."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       if (v.empty()) {
         c.captcha_provider_url.reset();
         return std::string();
       }
       result<http_url, std::string> url = parse_http_url(v);
       if (url.has_error()) return url.error();
       c.captcha_provider_url = std::move(*url);
       return std::string();
     }},
    {{"UPSTREAM_CONNECT_TIMEOUT_MS", "<ms>", "10000", "Upstream TCP+TLS connect timeout."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_ms(c.upstream_connect_timeout, v);
     }},
    {{"UPSTREAM_FIRST_BYTE_TIMEOUT_MS", "<ms>", "120000",
      "Time allowed until the upstream's response headers arrive."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_ms(c.upstream_first_byte_timeout, v);
     }},
    {{"UPSTREAM_IDLE_TIMEOUT_MS", "<ms>", "120000", "Longest silence allowed inside a stream."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_ms(c.upstream_idle_timeout, v);
     }},
    {{"SSE_KEEPALIVE_MS", "<ms>", "15000",
      "Send an SSE comment line when a streamed answer's upstream is silent this long; 0 = off."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_ms_or_off(c.sse_keepalive, v);
     }},
    {{"WAF_COOLDOWN_MS", "<ms>", "10000",
      "After a WAF block, answer 503 this long before probing; doubles while still blocked."},
     plain,
     [](config& c, std::string_view v, const file_reader&) { return set_ms(c.waf_cooldown, v); }},
    {{"WAF_COOLDOWN_MAX_MS", "<ms>", "300000", "Ceiling of the doubling WAF cool-down."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_ms(c.waf_cooldown_max, v);
     }},
    {{"WAF_BLOCKS_TO_OPEN", "<n>", "3",
      "WAF blocks in a row, from different requests, that stop all upstream calls (1 to 100)."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_count(c.waf_blocks_to_open, v, 1, 100, "an integer from 1 to 100");
     }},
    {{"WAF_BLOCK_WINDOW_MS", "<ms>", "60000",
      "Those blocks count only within this long of the first of them."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       return set_ms(c.waf_block_window, v);
     }},
    {{"LOG_LEVEL", "<level>", "info", "debug, info, warn or error."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       const std::string l = ascii_lower(v);
       if (l == "debug")
         c.log_level = log_level::debug;
       else if (l == "info")
         c.log_level = log_level::info;
       else if (l == "warn" || l == "warning")
         c.log_level = log_level::warn;
       else if (l == "error")
         c.log_level = log_level::error;
       else
         return std::string("expected debug, info, warn or error");
       return std::string();
     }},
};

constexpr auto docs = [] {
  std::array<option_doc, std::size(option_rows)> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = option_rows[i].doc;
  return out;
}();

}  // namespace

std::span<const config_table::option> config_table::options() { return option_rows; }

std::span<const option_doc> config_options() { return docs; }

}  // namespace zai

