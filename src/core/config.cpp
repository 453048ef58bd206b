#include "core/config.hpp"

#include <algorithm>
#include <vector>
#include <optional>

#include "core/config_options.hpp"
#include "core/encoding.hpp"

namespace zai {
namespace {

using namespace config_table;

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
  std::string out = "--" + ascii_lower(env);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

result<config, std::string> parse_config(const env_lookup& env,
                                         std::span<const std::string_view> args,
                                         const file_reader& read_file) {
  const std::span<const option> table = options();
  std::vector<std::optional<pending_value>> chosen(table.size());

  for (std::size_t i = 0; i < table.size(); ++i) {
    if (!env) break;
    std::optional<std::string> value = env(table[i].doc.env);
    if (value && !value->empty())
      chosen[i] = pending_value{std::move(*value), std::string(table[i].doc.env)};
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
    for (const option& opt : table) {
      if (name == flag_name(opt.doc.env)) match = &opt;
      if ((opt.flags & boolean) && name == "--no-" + flag_name(opt.doc.env).substr(2)) {
        match = &opt;
        negated = true;
      }
    }
    if (match == nullptr) {
      return fail("unknown flag " + one_line_excerpt(name, 60) + " (see --help)");
    }
    const std::size_t index = static_cast<std::size_t>(match - table.data());
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
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (!chosen[i]) continue;
    const option& opt = table[i];
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
  if (c.waf_cooldown_max < c.waf_cooldown) {
    return fail("invalid WAF_COOLDOWN_MAX_MS: must not be less than WAF_COOLDOWN_MS");
  }
  // A built-in alias may lose its target to ZAI_MODELS even when MODEL_ALIASES is unset.
  if (std::string why = dangling_alias(c.models); !why.empty()) {
    return fail("invalid MODEL_ALIASES: " + why);
  }
  return c;
}

std::string help_text() {
  std::string out =
      "Usage: zai-proxy [options]\n"
      "An OpenAI-compatible gateway to chat.z.ai using guest tokens.\n\n"
      "Every option is also an environment variable (shown beside it); flags override the\n"
      "environment. Boolean flags: --name, --name=false, --no-name.\n\n";
  for (const option& opt : options()) {
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

waf_breaker_options breaker_options(const config& cfg) {
  return {cfg.waf_cooldown, cfg.waf_cooldown_max, static_cast<unsigned>(cfg.waf_blocks_to_open),
          cfg.waf_block_window};
}

}  // namespace zai
