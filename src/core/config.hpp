// Everything an operator can set, as one struct parsed and validated once at start-up. Each
// setting is an environment variable and the same-named flag (`TOKEN_POOL_SIZE` ↔
// `--token-pool-size`); flags override the environment. The core never reads the environment
// itself: the edge passes a lookup function, the arguments and (for a ZAI_MODELS file path) a file
// reader. A bad value is reported as one line naming the variable and saying why, so start-up can
// print it and exit.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/http_url.hpp"
#include "core/models.hpp"
#include "core/zai/signature.hpp"
#include "core/pool/token_pool.hpp"
#include "core/pool/waf_breaker.hpp"

namespace zai {

enum class log_level { debug, info, warn, error };

inline constexpr std::string_view default_user_agent =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36";

struct config {
  // Listening
  std::string host = "0.0.0.0";
  std::uint16_t port = 3000;  // 0: any free port
  // Event loops, each on its own thread with its own share of the connections; 0: one per core
  // the process may use (its CPU affinity and cgroup quota), which the native server counts.
  std::size_t workers = 0;
  std::vector<std::string> api_keys{"sk-z2api-key-2024"};
  std::vector<std::string> cors_allow_origins{"*"};
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  std::chrono::milliseconds request_header_timeout{30'000};
  std::chrono::milliseconds request_body_timeout{60'000};
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds keep_alive_timeout{60'000};  // idle time between requests
  std::size_t max_connections = 10'000;  // client connections open at once; more get 503
  std::size_t max_concurrent_streams = 4'096;  // completions in flight; more get 429
  // After SIGTERM/SIGINT, how long requests in flight may run on; then they are cut with an
  // error (503 server_shutting_down) and the process exits. 0: cut them at once.
  std::chrono::milliseconds shutdown_grace{25'000};

  // Guest-token pool
  int token_pool_size = 5;           // 0 allowed: chat completions then answer 503
  int token_max_inflight = 0;        // per token; 0 = no cap
  int token_max_age_seconds = 3600;  // replace a token after this long; 0 = never

  // Response shaping
  bool show_think_tags = false;  // reasoning as <think>…</think> in content, not reasoning_content

  // Stored responses (OpenAI Responses API `store`, `previous_response_id`, GET /v1/responses/{id}),
  // kept in memory per process (per isolate in the Worker); the oldest go first.
  std::size_t responses_store_max = 1000;        // responses kept; 0: nothing is stored
  int responses_store_max_age_seconds = 3600;    // a response older than this is gone
  std::size_t responses_store_max_bytes = 16 * 1024 * 1024;  // their total size, roughly

  // Upstream
  http_url zai_base_url{"https", "chat.z.ai", 443, "", ""};
  std::string zai_fe_version;  // empty: scrape prod-fe-X.Y.Z from the upstream's front page
  std::string zai_fe_version_fallback = "prod-fe-1.1.98";
  std::string zai_signing_secret{default_signing_secret};
  std::string zai_region = "overseas";
  std::string zai_user_agent{default_user_agent};
  // ZAI_MODELS merged over the built-in models, MODEL_ALIASES over the built-in aliases. The
  // aliases live in the table so that every resolve_model and /v1/models caller sees them.
  model_table models = builtin_models();
  std::optional<http_url> captcha_provider_url;
  std::chrono::milliseconds upstream_connect_timeout{10'000};
  std::chrono::milliseconds upstream_first_byte_timeout{120'000};
  std::chrono::milliseconds upstream_idle_timeout{120'000};
  // A streamed answer whose upstream is silent this long gets an SSE comment line, so clients
  // and intermediaries that drop idle connections keep it; 0 = never.
  std::chrono::milliseconds sse_keepalive{15'000};
  std::chrono::milliseconds waf_cooldown{10'000};  // first wait after a WAF block; doubles
  std::chrono::milliseconds waf_cooldown_max{300'000};
  // The breaker opens only after this many blocks in a row from different requests within the
  // window: one prompt that a content rule blocks must not stop the proxy for everyone.
  std::size_t waf_blocks_to_open = 3;
  std::chrono::milliseconds waf_block_window{60'000};

  zai::log_level log_level = zai::log_level::info;

  bool show_help = false;  // --help / -h: print help_text() and exit 0; nothing else is parsed

  bool operator==(const config&) const = default;
};

// Returns the variable's value, or nullopt when it is unset. Empty values count as unset, so
// `FOO=` in a compose file means "use the default".
using env_lookup = std::function<std::optional<std::string>(std::string_view name)>;
// Returns a file's contents, or nullopt when it cannot be read. Only ZAI_MODELS uses it: a value
// that does not start with '{' is a file path. Without a reader, a path is a configuration error.
using file_reader = std::function<std::optional<std::string>(std::string_view path)>;

// `args` excludes the program name. Flags: `--name value`, `--name=value` (the only form for a
// value that starts with `--`); booleans also `--name` (true) and `--no-name` (false). Unknown
// flags and stray arguments are errors.
result<config, std::string> parse_config(const env_lookup& env,
                                         std::span<const std::string_view> args,
                                         const file_reader& read_file = {});

// The guest pool's settings (TOKEN_POOL_SIZE, TOKEN_MAX_INFLIGHT, TOKEN_MAX_AGE_SECONDS); the
// pool's other policy values keep their defaults.
token_pool_options pool_options(const config& cfg);
// The WAF breaker's cool-downs (WAF_COOLDOWN_MS, WAF_COOLDOWN_MAX_MS).
waf_breaker_options breaker_options(const config& cfg);

// Every option with its flag, variable, default and meaning, for --help.
std::string help_text();

// The variables parse_config reads, for documentation and tests.
struct option_doc {
  std::string_view env;
  std::string_view value_hint;  // "<int>", "<url>", … ; empty for booleans
  std::string_view default_text;
  std::string_view help;
};
std::span<const option_doc> config_options();
std::string flag_name(std::string_view env);  // TOKEN_POOL_SIZE -> --token-pool-size

}  // namespace zai
