#include "core/config.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include "core/encoding.hpp"

namespace zai {
namespace {

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  return out;
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
  const std::string t = lower(text);
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

// A setter stores `value` into the config or returns why it cannot.
using setter = std::string (*)(config&, std::string_view value, const file_reader&);

enum option_flags : unsigned {
  plain = 0,
  boolean = 1,    // a flag without a value means true; --no-x means false
  secret = 2,     // never echoed in an error message
  multiline = 4,  // may contain newlines (JSON text)
};

struct option {
  option_doc doc;
  unsigned flags;
  setter apply;
};

template <class Int>
std::string set_int(Int& out, std::string_view v, std::uint64_t max, std::string_view what) {
  const auto n = parse_uint(v, max);
  if (!n) return "expected " + std::string(what);
  out = static_cast<Int>(*n);
  return {};
}

std::string set_ms(std::chrono::milliseconds& out, std::string_view v) {
  const auto n = parse_uint(v, 3'600'000);
  if (!n || *n == 0) return "expected milliseconds from 1 to 3600000";
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
  result<model_table, std::string> merged = merge_models_json(builtin_models(), json);
  if (merged.has_error()) return origin + merged.error();
  c.models = std::move(*merged);
  return {};
}

constexpr option options[] = {
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
       const auto n = parse_uint(v, std::uint64_t(1) << 30);
       if (!n || *n < 1) return std::string("expected a byte count from 1 to 1073741824");
       c.max_body_bytes = static_cast<std::size_t>(*n);
       return std::string();
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
    {{"LOG_LEVEL", "<level>", "info", "debug, info, warn or error."},
     plain,
     [](config& c, std::string_view v, const file_reader&) {
       const std::string l = lower(v);
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
  std::array<option_doc, std::size(options)> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = options[i].doc;
  return out;
}();

// `shown` keeps error lines to one readable line: no secrets, no multi-kilobyte JSON.
std::string shown_value(const option& opt, std::string_view value) {
  if (opt.flags & secret) return "";
  return " \"" + one_line_excerpt(value, 60) + "\"";
}

// config is an aggregate that a std::string could initialise, so the error side is named.
result<config, std::string> fail(std::string why) {
  return {boost::system::in_place_error, std::move(why)};
}

struct pending_value {
  std::string value;
  std::string source;  // "PORT" or "--port"
};

}  // namespace

std::string flag_name(std::string_view env) {
  std::string out = "--" + lower(env);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

std::span<const option_doc> config_options() { return docs; }

result<config, std::string> parse_config(const env_lookup& env,
                                         std::span<const std::string_view> args,
                                         const file_reader& read_file) {
  std::array<std::optional<pending_value>, std::size(options)> chosen;

  for (std::size_t i = 0; i < std::size(options); ++i) {
    if (!env) break;
    std::optional<std::string> value = env(options[i].doc.env);
    if (value && !value->empty())
      chosen[i] = pending_value{std::move(*value), std::string(options[i].doc.env)};
  }

  for (std::size_t a = 0; a < args.size(); ++a) {
    const std::string_view arg = args[a];
    if (arg == "--help" || arg == "-h") {
      config help;
      help.show_help = true;
      return help;
    }
    if (!arg.starts_with("--")) {
      return fail("unexpected argument \"" + one_line_excerpt(arg, 60) + "\" (see --help)");
    }
    const std::size_t equals = arg.find('=');
    const std::string_view name = arg.substr(0, equals);
    bool negated = false;
    const option* match = nullptr;
    for (const option& opt : options) {
      if (name == flag_name(opt.doc.env)) match = &opt;
      if ((opt.flags & boolean) && name == "--no-" + flag_name(opt.doc.env).substr(2)) {
        match = &opt;
        negated = true;
      }
    }
    if (match == nullptr) {
      return fail("unknown flag " + one_line_excerpt(name, 60) + " (see --help)");
    }
    const std::size_t index = static_cast<std::size_t>(match - options);
    std::string value;
    if (equals != std::string_view::npos) {
      if (negated) return fail(std::string(name) + " takes no value");
      value = std::string(arg.substr(equals + 1));
    } else if (match->flags & boolean) {
      value = negated ? "false" : "true";
    } else if (a + 1 < args.size() && !args[a + 1].starts_with("--")) {
      // A flag is never taken as the value: `--port --api-key=…` is a missing port, not a port
      // number that would be quoted, key and all, in the error.
      value = std::string(args[++a]);
    } else {
      return fail(std::string(name) + " needs a value (see --help)");
    }
    chosen[index] = pending_value{std::move(value), std::string(name)};
  }

  config c;
  for (std::size_t i = 0; i < std::size(options); ++i) {
    if (!chosen[i]) continue;
    const option& opt = options[i];
    const std::string& value = chosen[i]->value;
    std::string why;
    if (!(opt.flags & multiline) && std::any_of(value.begin(), value.end(), is_control)) {
      why = "must not contain control characters";
    } else {
      why = opt.apply(c, value, read_file);
    }
    if (!why.empty())
      return fail("invalid " + chosen[i]->source + shown_value(opt, value) + ": " + why);
  }
  return c;
}

std::string help_text() {
  std::string out =
      "Usage: zai-proxy [options]\n"
      "An OpenAI-compatible gateway to chat.z.ai using guest tokens.\n\n"
      "Every option is also an environment variable (shown beside it); flags override the\n"
      "environment. Boolean flags: --name, --name=false, --no-name.\n\n";
  for (const option& opt : options) {
    std::string line = "  " + flag_name(opt.doc.env);
    if (!opt.doc.value_hint.empty()) line += " " + std::string(opt.doc.value_hint);
    line.resize(std::max<std::size_t>(line.size() + 1, 40), ' ');
    // A parenthesised default describes a value too long to show, e.g. "(built-in)".
    std::string_view shown = opt.doc.default_text;
    if (shown.starts_with('(')) shown = shown.substr(1, shown.size() - 2);
    line += std::string(opt.doc.env) + " (default: ";
    line += shown.empty() ? "empty)" : std::string(shown) + ")";
    out += line + "\n      " + std::string(opt.doc.help) + "\n";
  }
  out += "  --help, -h                            Show this text and exit.\n";
  return out;
}

token_pool_options pool_options(const config& cfg) {
  token_pool_options o;
  o.size = static_cast<std::size_t>(cfg.token_pool_size);
  o.max_inflight = static_cast<std::size_t>(cfg.token_max_inflight);
  o.max_age = std::chrono::seconds(cfg.token_max_age_seconds);
  return o;
}

}  // namespace zai
