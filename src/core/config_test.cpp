#include "core/config.hpp"

#include <gtest/gtest.h>

#include <map>

namespace zai {
namespace {

using env_map = std::map<std::string, std::string, std::less<>>;

env_lookup lookup_in(const env_map& env) {
  return [&env](std::string_view name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

result<config, std::string> parse(const env_map& env, std::vector<std::string_view> args = {},
                                  const file_reader& read_file = {}) {
  return parse_config(lookup_in(env), args, read_file);
}

config must_parse(const env_map& env, std::vector<std::string_view> args = {}) {
  const auto c = parse(env, std::move(args));
  EXPECT_TRUE(c.has_value()) << (c.has_error() ? c.error() : "");
  return c.has_value() ? *c : config{};
}

std::string must_fail(const env_map& env, std::vector<std::string_view> args = {},
                      const file_reader& read_file = {}) {
  const auto c = parse(env, std::move(args), read_file);
  EXPECT_TRUE(c.has_error());
  if (!c.has_error()) return {};
  EXPECT_EQ(c.error().find('\n'), std::string::npos) << "one line: " << c.error();
  return c.error();
}

TEST(config, empty_environment_gives_the_documented_defaults) {
  const config c = must_parse({});
  EXPECT_EQ(c, config{});
  EXPECT_EQ(c.port, 3000);
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.api_keys, std::vector<std::string>{"sk-z2api-key-2024"});
  EXPECT_EQ(c.token_pool_size, 5);
  EXPECT_FALSE(c.show_think_tags);
  EXPECT_EQ(c.zai_base_url.origin(), "https://chat.z.ai");
  EXPECT_EQ(c.zai_fe_version, "");
  EXPECT_EQ(c.zai_fe_version_fallback, "prod-fe-1.1.98");
  EXPECT_EQ(c.zai_signing_secret, default_signing_secret);
  EXPECT_EQ(c.zai_region, "overseas");
  EXPECT_NE(c.zai_user_agent.find("Chrome/"), std::string::npos);
  EXPECT_EQ(c.models, builtin_models());
  EXPECT_FALSE(c.captcha_provider_url.has_value());
  EXPECT_EQ(c.log_level, log_level::info);
  EXPECT_EQ(c.cors_allow_origins, std::vector<std::string>{"*"});
  EXPECT_EQ(c.max_body_bytes, 4u * 1024 * 1024);
}

TEST(config, help_defaults_agree_with_the_struct) {
  // Setting any variable to the default that --help shows changes nothing.
  for (const option_doc& opt : config_options()) {
    if (opt.default_text.empty() || opt.default_text.starts_with('(')) continue;
    SCOPED_TRACE(opt.env);
    EXPECT_EQ(must_parse({{std::string(opt.env), std::string(opt.default_text)}}), config{});
  }
}

TEST(config, reads_every_kind_of_value_from_the_environment) {
  const config c = must_parse({
      {"PORT", "8080"},
      {"HOST", "127.0.0.1"},
      {"API_KEY", " k1, k2 ,,k3 "},
      {"TOKEN_POOL_SIZE", "0"},
      {"TOKEN_MAX_INFLIGHT", "2"},
      {"TOKEN_MAX_AGE_SECONDS", "600"},
      {"SHOW_THINK_TAGS", "TRUE"},
      {"ZAI_BASE_URL", "http://127.0.0.1:9090/"},
      {"ZAI_FE_VERSION", "prod-fe-1.2.3"},
      {"ZAI_SIGNING_SECRET", "junjie"},
      {"ZAI_REGION", "domestic"},
      {"ZAI_USER_AGENT", "test-agent/1.0 (x)"},
      {"ZAI_MODELS", R"({"glm-9": "GLM-9"})"},
      {"CAPTCHA_PROVIDER_URL", "http://127.0.0.1:9091/captcha"},
      {"LOG_LEVEL", "debug"},
      {"CORS_ALLOW_ORIGINS", "https://a.example, https://b.example"},
      {"MAX_BODY_BYTES", "65536"},
      {"UPSTREAM_CONNECT_TIMEOUT_MS", "250"},
      {"UPSTREAM_FIRST_BYTE_TIMEOUT_MS", "500"},
      {"UPSTREAM_IDLE_TIMEOUT_MS", "750"},
      {"REQUEST_HEADER_TIMEOUT_MS", "1000"},
      {"REQUEST_BODY_TIMEOUT_MS", "2000"},
      {"MAX_HEADER_BYTES", "4096"},
      {"KEEP_ALIVE_TIMEOUT_MS", "3000"},
      {"MAX_CONNECTIONS", "64"},
      {"MAX_CONCURRENT_STREAMS", "8"},
      {"WORKERS", "3"},
      {"SHUTDOWN_GRACE_MS", "0"},
      {"SSE_KEEPALIVE_MS", "0"},
      {"WAF_COOLDOWN_MS", "200"},
      {"WAF_COOLDOWN_MAX_MS", "800"},
      {"WAF_BLOCKS_TO_OPEN", "5"},
      {"WAF_BLOCK_WINDOW_MS", "9000"},
  });
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.api_keys, (std::vector<std::string>{"k1", "k2", "k3"}));
  EXPECT_EQ(c.token_pool_size, 0);
  EXPECT_EQ(c.token_max_inflight, 2);
  EXPECT_EQ(c.token_max_age_seconds, 600);
  EXPECT_TRUE(c.show_think_tags);
  EXPECT_EQ(c.zai_base_url, (http_url{"http", "127.0.0.1", 9090, "", ""}));
  EXPECT_EQ(c.zai_fe_version, "prod-fe-1.2.3");
  EXPECT_EQ(c.zai_signing_secret, "junjie");
  EXPECT_EQ(c.zai_region, "domestic");
  EXPECT_EQ(c.zai_user_agent, "test-agent/1.0 (x)");
  ASSERT_TRUE(resolve_model(c.models, "glm-9").has_value());
  EXPECT_TRUE(resolve_model(c.models, "glm-4.7").has_value());
  ASSERT_TRUE(c.captcha_provider_url.has_value());
  EXPECT_EQ(c.captcha_provider_url->target(), "/captcha");
  EXPECT_EQ(c.log_level, log_level::debug);
  EXPECT_EQ(c.cors_allow_origins,
            (std::vector<std::string>{"https://a.example", "https://b.example"}));
  EXPECT_EQ(c.max_body_bytes, 65536u);
  EXPECT_EQ(c.upstream_connect_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(c.upstream_first_byte_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(c.upstream_idle_timeout, std::chrono::milliseconds(750));
  EXPECT_EQ(c.request_header_timeout, std::chrono::milliseconds(1000));
  EXPECT_EQ(c.request_body_timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(c.max_header_bytes, 4096u);
  EXPECT_EQ(c.keep_alive_timeout, std::chrono::milliseconds(3000));
  EXPECT_EQ(c.max_connections, 64u);
  EXPECT_EQ(c.max_concurrent_streams, 8u);
  EXPECT_EQ(c.workers, 3u);
  EXPECT_EQ(c.shutdown_grace, std::chrono::milliseconds(0));
  EXPECT_EQ(c.sse_keepalive, std::chrono::milliseconds(0));
  EXPECT_EQ(breaker_options(c).cooldown, std::chrono::milliseconds(200));
  EXPECT_EQ(breaker_options(c).max_cooldown, std::chrono::milliseconds(800));
  EXPECT_EQ(breaker_options(c).blocks_to_open, 5u);
  EXPECT_EQ(breaker_options(c).block_window, std::chrono::milliseconds(9000));
}

TEST(config, limits_refuse_values_that_would_disable_them) {
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"MAX_CONNECTIONS", "0"},
           {"MAX_CONCURRENT_STREAMS", "0"},
           {"MAX_HEADER_BYTES", "100"},
           {"KEEP_ALIVE_TIMEOUT_MS", "0"},
           {"WAF_COOLDOWN_MS", "0"},
           {"SSE_KEEPALIVE_MS", "-1"},
           {"SHUTDOWN_GRACE_MS", "3600001"}}) {
    SCOPED_TRACE(name);
    const auto r = parse_config([&](std::string_view n) -> std::optional<std::string> {
      if (n == name) return value;
      return std::nullopt;
    }, {});
    ASSERT_TRUE(r.has_error());
    EXPECT_NE(r.error().find("invalid " + name), std::string::npos) << r.error();
  }
  const auto inverted = parse_config([](std::string_view n) -> std::optional<std::string> {
    if (n == "WAF_COOLDOWN_MS") return "5000";
    if (n == "WAF_COOLDOWN_MAX_MS") return "1000";
    return std::nullopt;
  }, {});
  ASSERT_TRUE(inverted.has_error());
  EXPECT_NE(inverted.error().find("WAF_COOLDOWN_MAX_MS"), std::string::npos);
}

TEST(config, response_store_settings_bound_count_age_and_bytes) {
  const config defaults = must_parse({});
  EXPECT_EQ(defaults.responses_store_max, 1000u);
  EXPECT_EQ(defaults.responses_store_max_age_seconds, 3600);
  EXPECT_EQ(defaults.responses_store_max_bytes, 16u * 1024 * 1024);
  const config c = must_parse({{"RESPONSES_STORE_MAX", "0"},
                               {"RESPONSES_STORE_MAX_AGE_SECONDS", "60"},
                               {"RESPONSES_STORE_MAX_BYTES", "1048576"}});
  EXPECT_EQ(c.responses_store_max, 0u);  // 0 turns storing off, it is not an error
  EXPECT_EQ(c.responses_store_max_age_seconds, 60);
  EXPECT_EQ(c.responses_store_max_bytes, 1048576u);
  EXPECT_EQ(must_parse({}, {"--responses-store-max=5"}).responses_store_max, 5u);
  EXPECT_NE(must_fail({{"RESPONSES_STORE_MAX", "-1"}}).find("RESPONSES_STORE_MAX"),
            std::string::npos);
  EXPECT_NE(must_fail({{"RESPONSES_STORE_MAX_AGE_SECONDS", "1h"}})
                .find("invalid RESPONSES_STORE_MAX_AGE_SECONDS \"1h\": expected seconds"),
            std::string::npos);
  EXPECT_NE(must_fail({{"RESPONSES_STORE_MAX_BYTES", "lots"}}).find("expected a byte count"),
            std::string::npos);
}

TEST(config, empty_variables_count_as_unset) {
  EXPECT_EQ(must_parse({{"PORT", ""}, {"API_KEY", ""}, {"CAPTCHA_PROVIDER_URL", ""}}), config{});
}

TEST(config, flags_override_the_environment) {
  const config c =
      must_parse({{"PORT", "1111"}, {"API_KEY", "env-key"}, {"SHOW_THINK_TAGS", "true"}},
                 {"--port", "2222", "--api-key=flag-key", "--no-show-think-tags"});
  EXPECT_EQ(c.port, 2222);
  EXPECT_EQ(c.api_keys, std::vector<std::string>{"flag-key"});
  EXPECT_FALSE(c.show_think_tags);
  // Only the winning value is validated: a bad variable overridden by a good flag is fine.
  EXPECT_EQ(must_parse({{"PORT", "abc"}}, {"--port=1"}).port, 1);
}

TEST(config, boolean_flags_take_no_separate_value) {
  EXPECT_TRUE(must_parse({}, {"--show-think-tags"}).show_think_tags);
  EXPECT_FALSE(must_parse({}, {"--show-think-tags=off"}).show_think_tags);
  const config c = must_parse({}, {"--show-think-tags", "--port", "9"});
  EXPECT_TRUE(c.show_think_tags);
  EXPECT_EQ(c.port, 9);
  EXPECT_EQ(must_parse({}, {"--port", "1", "--port", "2"}).port, 2);
}

TEST(config, help_flag_wins_and_lists_every_option) {
  EXPECT_TRUE(must_parse({{"PORT", "bad"}}, {"--help"}).show_help);
  EXPECT_TRUE(must_parse({}, {"-h"}).show_help);
  const std::string help = help_text();
  for (const option_doc& opt : config_options()) {
    EXPECT_NE(help.find(flag_name(opt.env)), std::string::npos) << opt.env;
    EXPECT_NE(help.find(std::string(opt.env) + " (default: "), std::string::npos) << opt.env;
  }
  EXPECT_NE(help.find("--port <int>"), std::string::npos);
  EXPECT_NE(help.find("PORT (default: 3000)"), std::string::npos);
  EXPECT_EQ(flag_name("TOKEN_POOL_SIZE"), "--token-pool-size");
}

TEST(config, bad_values_name_the_variable_and_the_reason) {
  const std::pair<env_map, std::vector<std::string_view>> cases[] = {
      {{{"PORT", "abc"}}, {"invalid PORT \"abc\": expected a port number"}},
      {{{"PORT", "70000"}}, {"invalid PORT \"70000\": expected a port number from 0 to 65535"}},
      {{{"PORT", "-1"}}, {"invalid PORT \"-1\""}},
      {{{"TOKEN_POOL_SIZE", "five"}}, {"invalid TOKEN_POOL_SIZE \"five\": expected an integer"}},
      {{{"TOKEN_POOL_SIZE", "5.0"}}, {"invalid TOKEN_POOL_SIZE"}},
      {{{"SHOW_THINK_TAGS", "maybe"}},
       {"invalid SHOW_THINK_TAGS \"maybe\": expected true or false"}},
      {{{"ZAI_BASE_URL", "ftp://x"}},
       {"invalid ZAI_BASE_URL \"ftp://x\": must start with http://"}},
      {{{"ZAI_BASE_URL", "https://chat.z.ai/?a=1"}}, {"ZAI_BASE_URL", "query"}},
      {{{"CAPTCHA_PROVIDER_URL", "localhost:9000"}}, {"invalid CAPTCHA_PROVIDER_URL"}},
      {{{"ZAI_MODELS", "{\"a\":"}}, {"invalid ZAI_MODELS \"{\"a\":\": not valid JSON"}},
      {{{"ZAI_MODELS", R"({"a": 1})"}}, {"ZAI_MODELS", "model \"a\""}},
      {{{"MODEL_ALIASES", R"({"claude-x": "gpt-4o"})"}},
       {"invalid MODEL_ALIASES", "alias \"claude-x\": \"gpt-4o\" is not a listed model"}},
      {{{"MODEL_ALIASES", "[]"}}, {"invalid MODEL_ALIASES \"[]\": expected a JSON object"}},
      {{{"LOG_LEVEL", "loud"}},
       {"invalid LOG_LEVEL \"loud\": expected debug, info, warn or error"}},
      {{{"MAX_BODY_BYTES", "0"}}, {"invalid MAX_BODY_BYTES \"0\": expected a byte count"}},
      {{{"UPSTREAM_IDLE_TIMEOUT_MS", "0"}}, {"invalid UPSTREAM_IDLE_TIMEOUT_MS \"0\""}},
      {{{"ZAI_USER_AGENT", "evil\r\nX-Injected: 1"}},
       {"invalid ZAI_USER_AGENT \"evil??X-Injected: 1\": must not contain control characters"}},
      {{{"ZAI_REGION", "over seas"}}, {"ZAI_REGION", "spaces"}},
      {{{"API_KEY", " , ,"}}, {"invalid API_KEY: must name at least one key"}},
      {{{"WORKERS", "two"}}, {"invalid WORKERS \"two\": expected an integer from 0 to 1024"}},
      {{{"WORKERS", "1025"}}, {"invalid WORKERS"}},
  };
  for (const auto& [env, needles] : cases) {
    const std::string error = must_fail(env);
    for (std::string_view needle : needles) {
      EXPECT_NE(error.find(needle), std::string::npos) << "'" << needle << "' in: " << error;
    }
  }
}

TEST(config, flag_errors_name_the_flag) {
  EXPECT_EQ(must_fail({}, {"--port", "x"}),
            "invalid --port \"x\": expected a port number from 0 to 65535");
  EXPECT_EQ(must_fail({}, {"--bogus"}), "unknown flag --bogus (see --help)");
  EXPECT_EQ(must_fail({}, {"--port"}), "--port needs a value (see --help)");
  EXPECT_EQ(must_fail({}, {"3000"}), "unexpected argument \"3000\" (see --help)");
  EXPECT_EQ(must_fail({}, {"--no-port"}), "unknown flag --no-port (see --help)");
  EXPECT_EQ(must_fail({}, {"--no-show-think-tags=1"}), "--no-show-think-tags takes no value");
}

// Found by fuzz/config_fuzz: arguments were echoed raw, so a stray argument holding a newline
// split the start-up error over several lines.
TEST(config, echoed_arguments_stay_on_one_line) {
  EXPECT_EQ(must_fail({}, {"two\nlines"}), "unexpected argument \"two?lines\" (see --help)");
  EXPECT_EQ(must_fail({}, {"--bo\rgus=1"}), "unknown flag --bo?gus (see --help)");
  const std::string error = must_fail({}, {std::string(100, 'x') + "\n"});
  EXPECT_NE(error.find(std::string(60, 'x') + "...\""), std::string::npos) << error;
}

TEST(config, a_shortened_value_keeps_whole_characters) {
  // 59 ASCII bytes then a 3-byte character: a cut at 60 bytes would split it.
  const std::string value = std::string(59, 'a') + "\xE4\xBD\xA0" + "z";
  const std::string error = must_fail({{"LOG_LEVEL", value}});
  EXPECT_NE(error.find("\"" + std::string(59, 'a') + "...\""), std::string::npos) << error;
}

TEST(config, secrets_are_never_echoed) {
  const std::string error = must_fail({{"ZAI_SIGNING_SECRET", "s3cret\x01"}});
  EXPECT_EQ(error.find("s3cret"), std::string::npos) << error;
  EXPECT_NE(error.find("ZAI_SIGNING_SECRET"), std::string::npos);
}

// Found by fuzz/config_fuzz: a flag missing its value took the next flag as that value, and its
// error quoted it, a key included.
TEST(config, a_flag_is_never_taken_as_the_previous_flags_value) {
  EXPECT_EQ(must_fail({}, {"--port", "--api-key=s3cret-key"}), "--port needs a value (see --help)");
  EXPECT_EQ(must_parse({}, {"--zai-region", "-x"}).zai_region, "-x");
}

TEST(config, long_values_are_shortened_in_errors) {
  const std::string error = must_fail({{"ZAI_MODELS", "{" + std::string(500, ' ') + "x"}});
  EXPECT_LT(error.size(), 200u) << error;
}

TEST(config, zai_models_may_be_a_file_path_read_by_the_edge) {
  const file_reader files = [](std::string_view path) -> std::optional<std::string> {
    if (path == "/etc/zai/models.json") return std::string("{\n  \"glm-x\": \"GLM-X\"\n}\n");
    return std::nullopt;
  };
  const auto c = parse({{"ZAI_MODELS", "/etc/zai/models.json"}}, {}, files);
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(resolve_model(c->models, "glm-x")->upstream_id, "GLM-X");

  EXPECT_NE(must_fail({{"ZAI_MODELS", "/missing.json"}}, {}, files).find("cannot read the file"),
            std::string::npos);
  EXPECT_NE(
      must_fail({{"ZAI_MODELS", "/etc/zai/models.json"}}).find("file paths are not supported"),
      std::string::npos);
}

TEST(config, model_aliases_merge_over_the_built_in_ones_after_zai_models) {
  // The alias may point to a model that ZAI_MODELS adds, whichever way each was given.
  const config c = must_parse({{"ZAI_MODELS", R"({"glm-9": "GLM-9"})"}},
                              {R"(--model-aliases={"claude-opus-*": "glm-9"})"});
  EXPECT_EQ(resolve_model(c.models, "claude-opus-5-5")->upstream_id, "GLM-9");
  EXPECT_EQ(resolve_model(c.models, "claude-sonnet-5-5")->upstream_id, "glm-4.7");
  EXPECT_EQ(c.models.models.size(), builtin_models().models.size() + 1);
  EXPECT_EQ(must_parse({{"MODEL_ALIASES", "{}"}}), config{});
}

TEST(config, removing_the_model_a_built_in_alias_needs_is_refused_with_the_fix) {
  const std::string error = must_fail({{"ZAI_MODELS", R"({"glm-4.7": null})"}});
  EXPECT_NE(error.find("invalid MODEL_ALIASES: alias \"claude-opus-5-5\" points to \"glm-4.7\""),
            std::string::npos)
      << error;
  // Re-pointing the family (the pattern takes the named aliases along) fixes it.
  const config c = must_parse({{"ZAI_MODELS", R"({"glm-4.7": null})"},
                               {"MODEL_ALIASES", R"({"claude-*": "glm-5"})"}});
  EXPECT_EQ(resolve_model(c.models, "claude-haiku-4-5")->upstream_id, "glm-5");
}

}  // namespace
}  // namespace zai
