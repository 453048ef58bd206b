#include "core/zai/request.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/encoding.hpp"
#include "native/hmac_openssl.hpp"

namespace zai {
namespace {

// Reference §3.9 (signature = vector B).
constexpr std::string_view fixture_jwt =
    "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJpZCI6IjhmMzY4YzFiLWM2NDUtNDhjNy05NmIwLTI0NTZhY2M1MGI3OSIsImVtYWlsIjoiZ3Vlc3QtMTc4MjQxMzI0MT"
    "E0N0BndWVzdC5jb20ifQ.<sig>";
constexpr std::string_view worked_user_agent =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/138.0.0.0 Safari/537.36";
constexpr std::string_view worked_query =
    "timestamp=1782413241147&requestId=0ff3803e-c36e-4bfd-98fe-fa55e0f955b1&user_id=8f368c1b-c645-"
    "48c7-96b0-2456acc50b79&version=0.0.1&platform=web&token=<jwt>&user_agent=Mozilla%2F5.0+%"
    "28Windows+NT+10.0%3B+Win64%3B+x64%29+AppleWebKit%2F537.36+%28KHTML%2C+like+Gecko%29+Chrome%"
    "2F138.0.0.0+Safari%2F537.36&language=en-US&languages=en-US%2Cen&timezone=UTC&cookie_enabled="
    "true&screen_width=1920&screen_height=1080&screen_resolution=1920x1080&viewport_height=1080&"
    "viewport_width=1920&viewport_size=1920x1080&color_depth=24&pixel_ratio=1&current_url=https%3A%"
    "2F%2Fchat.z.ai%2Fc%2F42e423d8-54b9-42c0-8f41-7dde9fb56542&pathname=%2Fc%2F42e423d8-54b9-42c0-"
    "8f41-7dde9fb56542&search=&hash=&host=chat.z.ai&hostname=chat.z.ai&protocol=https%3A&referrer=&"
    "title=Z.ai+-+Free+AI+Chatbot+%26+Agent+powered+by+GLM&timezone_offset=0&local_time=2026-06-"
    "25T18%3A47%3A21.147Z&utc_time=Thu%2C+25+Jun+2026+18%3A47%3A21+GMT&is_mobile=false&is_touch="
    "false&max_touch_points=0&browser_name=Chrome&os_name=Windows&signature_timestamp="
    "1782413241147";
constexpr std::string_view worked_body =
    R"({"stream":true,"model":"glm-4.7",)"
    R"("messages":[{"role":"user","content":"Hello, what model are you running?"}],)"
    R"("signature_prompt":"Hello, what model are you running?","params":{},"extra":{},)"
    R"("features":{"image_generation":false,"web_search":false,"auto_web_search":false,)"
    R"("preview_mode":true,"flags":[],"vlm_tools_enable":false,"vlm_web_search_enable":false,)"
    R"("vlm_website_mode":false,"enable_thinking":true},)"
    R"("variables":{"{{USER_NAME}}":"Guest-1782413241147","{{USER_LOCATION}}":"Unknown",)"
    R"("{{CURRENT_DATETIME}}":"2026-06-25 18:47:21","{{CURRENT_DATE}}":"2026-06-25",)"
    R"("{{CURRENT_TIME}}":"18:47:21","{{CURRENT_WEEKDAY}}":"Thursday",)"
    R"("{{CURRENT_TIMEZONE}}":"UTC","{{USER_LANGUAGE}}":"en-US"},)"
    R"("chat_id":"42e423d8-54b9-42c0-8f41-7dde9fb56542",)"
    R"("id":"5c1d9a0e-7b3f-4e2a-9d1c-2f6b8e4a7c90",)"
    R"("current_user_message_id":"74b09689-059a-4708-8f0e-865bed23d5e0",)"
    R"("current_user_message_parent_id":null,)"
    R"("background_tasks":{"title_generation":false,"tags_generation":false},)"
    R"("captcha_verify_param":"eyJjZXJ0aWZ5SWQiOiJhWDFTTmV3VndXIn0="})";

chat_message msg(message_role role, std::string text) {
  chat_message m;
  m.role = role;
  m.text = std::move(text);
  return m;
}

// Everything build_completion_request needs, set to the worked example; tests change pieces.
struct worked_example {
  chat_request request;
  resolved_model model{"glm-4.7", "glm-4.7", true, false};
  config cfg;
  guest_token token{std::string(fixture_jwt), "8f368c1b-c645-48c7-96b0-2456acc50b79",
                    "Guest-1782413241147", "guest-1782413241147@guest.com"};
  request_ids ids{"0ff3803e-c36e-4bfd-98fe-fa55e0f955b1", "42e423d8-54b9-42c0-8f41-7dde9fb56542",
                  "5c1d9a0e-7b3f-4e2a-9d1c-2f6b8e4a7c90", "74b09689-059a-4708-8f0e-865bed23d5e0"};
  std::string fe_version = "prod-fe-1.1.98";
  std::optional<std::string> captcha = "eyJjZXJ0aWZ5SWQiOiJhWDFTTmV3VndXIn0=";
  std::uint64_t now_ms = 1782413241147;

  worked_example() {
    request.model = "glm-4.7";
    request.messages = {msg(message_role::user, "Hello, what model are you running?")};
    cfg.zai_user_agent = std::string(worked_user_agent);
  }

  result<upstream_request> build() const {
    std::optional<std::string_view> captcha_view;
    if (captcha) captcha_view = *captcha;
    const std::string prompt = upstream_prompt(request, {});
    return build_completion_request({request, model, cfg, token, ids, now_ms, fe_version,
                                     captcha_view, native::hmac_sha256, prompt});
  }

  upstream_request must_build() const {
    result<upstream_request> r = build();
    EXPECT_TRUE(r.has_value()) << (r.has_error() ? r.error().message : "");
    return r.has_value() ? *r : upstream_request{};
  }
};

std::string header(const upstream_request& r, std::string_view name) {
  for (const auto& [key, value] : r.headers) {
    if (key == name) return value;
  }
  return "<absent>";
}

std::string query_of(const upstream_request& r) { return r.target.substr(r.target.find('?') + 1); }

boost::json::object body_of(const upstream_request& r) {
  return boost::json::parse(r.body).as_object();
}

TEST(zai_request, reproduces_the_reference_worked_request) {
  const upstream_request r = worked_example().must_build();
  EXPECT_EQ(r.method, "POST");
  std::string expected_query(worked_query);
  expected_query.replace(expected_query.find("<jwt>"), 5, form_urlencode(fixture_jwt));
  EXPECT_EQ(r.target, "/api/v2/chat/completions?" + expected_query);
  EXPECT_EQ(header(r, "X-Signature"),
            "4eaf0e68237e3dea018d5fadcbabb1472e11c2ed35412aedbcba1476d2fe9d22");
  EXPECT_EQ(header(r, "Authorization"), "Bearer " + std::string(fixture_jwt));
  EXPECT_EQ(header(r, "X-FE-Version"), "prod-fe-1.1.98");
  EXPECT_EQ(header(r, "X-Region"), "overseas");
  EXPECT_EQ(header(r, "Content-Type"), "application/json");
  EXPECT_EQ(header(r, "Accept"), "text/event-stream");
  EXPECT_EQ(header(r, "Accept-Encoding"), "identity");
  EXPECT_EQ(header(r, "Origin"), "https://chat.z.ai");
  EXPECT_EQ(header(r, "Referer"), "https://chat.z.ai/c/42e423d8-54b9-42c0-8f41-7dde9fb56542");
  EXPECT_EQ(header(r, "User-Agent"), worked_user_agent);
  EXPECT_EQ(header(r, "Accept-Language"), "en-US,en;q=0.9");
  EXPECT_EQ(r.body, worked_body);
  EXPECT_EQ(r.signature_prompt, "Hello, what model are you running?");
}

TEST(zai_request, fingerprint_fields_follow_the_configured_base_url) {
  worked_example ex;
  ex.cfg.zai_base_url = http_url{"http", "127.0.0.1", 8080, "/zai", ""};
  const upstream_request r = ex.must_build();
  EXPECT_TRUE(r.target.starts_with("/zai/api/v2/chat/completions?timestamp=1782413241147&"));
  const std::string q = query_of(r);
  const std::string chat = "42e423d8-54b9-42c0-8f41-7dde9fb56542";
  EXPECT_NE(q.find("&current_url=http%3A%2F%2F127.0.0.1%3A8080%2Fzai%2Fc%2F" + chat + "&"),
            std::string::npos);
  EXPECT_NE(q.find("&pathname=%2Fzai%2Fc%2F" + chat + "&"), std::string::npos);
  EXPECT_NE(q.find("&host=127.0.0.1%3A8080&hostname=127.0.0.1&protocol=http%3A&"),
            std::string::npos);
  EXPECT_EQ(header(r, "Origin"), "http://127.0.0.1:8080");
  EXPECT_EQ(header(r, "Referer"), "http://127.0.0.1:8080/zai/c/" + chat);
}

TEST(zai_request, signature_covers_exactly_the_flattened_prompt_that_is_sent) {
  worked_example ex;
  ex.request.messages = {msg(message_role::system, "  Be terse. "), msg(message_role::user, "Hi\n"),
                         msg(message_role::assistant, "Hello!"),
                         msg(message_role::user, "What is 2+2?  ")};
  const upstream_request r = ex.must_build();
  const boost::json::object body = body_of(r);
  const std::string prompt(body.at("signature_prompt").as_string());
  EXPECT_EQ(prompt, "System: Be terse.\n\nUser: Hi\n\nAssistant: Hello!\n\nUser: What is 2+2?");
  EXPECT_EQ(prompt, r.signature_prompt);
  EXPECT_EQ(body.at("messages"), (boost::json::array{{{"role", "user"}, {"content", prompt}}}));
  const signature_parts expected =
      sign_request({ex.ids.request_id, 1782413241147, ex.token.user_id, prompt},
                   default_signing_secret, native::hmac_sha256);
  EXPECT_EQ(header(r, "X-Signature"), expected.signature);
}

TEST(zai_request, configured_secret_region_and_agent_are_used) {
  worked_example ex;
  ex.cfg.zai_signing_secret = "junjie";
  ex.cfg.zai_region = "domestic";
  ex.cfg.zai_user_agent = "agent/1";
  ex.request.messages = {msg(message_role::user, "hello")};
  ex.ids.request_id = "req123";
  ex.token.user_id = "user456";
  ex.now_ms = 1700000000000;
  const upstream_request r = ex.must_build();
  // The legacy-key vector of reference §2.4.
  EXPECT_EQ(header(r, "X-Signature"),
            "6f83586b91acd34ebd5b1dae9cd384fce134150640a75c3ca5b602f7ba362310");
  EXPECT_EQ(header(r, "X-Region"), "domestic");
  EXPECT_EQ(header(r, "User-Agent"), "agent/1");
  EXPECT_NE(query_of(r).find("&user_agent=agent%2F1&"), std::string::npos);
}

TEST(zai_request, thinking_comes_from_the_request_else_the_model) {
  worked_example ex;
  const auto thinking = [&] {
    return body_of(ex.must_build()).at("features").at("enable_thinking").as_bool();
  };
  EXPECT_TRUE(thinking());
  ex.model.thinking = false;
  EXPECT_FALSE(thinking());
  ex.request.enable_thinking = true;
  EXPECT_TRUE(thinking());
  ex.model.thinking = true;
  ex.request.enable_thinking = false;
  EXPECT_FALSE(thinking());
}

TEST(zai_request, web_search_model_switches_both_search_features) {
  worked_example ex;
  ex.model.web_search = true;
  const boost::json::object features = body_of(ex.must_build()).at("features").as_object();
  EXPECT_TRUE(features.at("web_search").as_bool());
  EXPECT_TRUE(features.at("auto_web_search").as_bool());
}

// A request offering one tool, as the OpenAI parser leaves it.
void offer_a_tool(chat_request& r) {
  tool_definition t;
  t.name = "get_weather";
  t.parameters = R"({"type":"object","properties":{"city":{"type":"string"}}})";
  r.tools = {t};
}

TEST(zai_request, web_search_stays_off_while_tools_are_in_the_prompt) {
  worked_example ex;
  ex.model.web_search = true;
  offer_a_tool(ex.request);
  boost::json::object features = body_of(ex.must_build()).at("features").as_object();
  EXPECT_FALSE(features.at("web_search").as_bool());
  EXPECT_FALSE(features.at("auto_web_search").as_bool());
  ex.request.tool_choice = tool_choice_mode::none;  // the tools are not shown: search is back
  features = body_of(ex.must_build()).at("features").as_object();
  EXPECT_TRUE(features.at("web_search").as_bool());
}

TEST(zai_request, the_tool_prompt_is_what_is_signed_and_sent) {
  worked_example ex;
  offer_a_tool(ex.request);
  tool_prompt_options tools;
  tools.nonce = "n7Kq2xZ4";
  const std::string prompt = upstream_prompt(ex.request, tools);
  const result<upstream_request> r = build_completion_request(
      {ex.request, ex.model, ex.cfg, ex.token, ex.ids, ex.now_ms, ex.fe_version, std::nullopt,
       native::hmac_sha256, prompt});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->signature_prompt, build_tool_prompt(ex.request, tools));
  EXPECT_NE(r->signature_prompt.find("<tool_call nonce=\"n7Kq2xZ4\">get_weather"),
            std::string::npos);
  const boost::json::object body = body_of(*r);
  EXPECT_EQ(body.at("signature_prompt").as_string(), r->signature_prompt);
  EXPECT_EQ(body.at("messages").as_array()[0].as_object().at("content").as_string(),
            r->signature_prompt);
  // The signature covers that text, not the plain conversation.
  const signature_parts expected = sign_request(
      {ex.ids.request_id, ex.now_ms, ex.token.user_id, r->signature_prompt},
      ex.cfg.zai_signing_secret, native::hmac_sha256);
  EXPECT_EQ(header(*r, "X-Signature"), expected.signature);
}

TEST(zai_request, generation_params_are_sent_only_when_given) {
  worked_example ex;
  ex.request.temperature = 0.5;
  ex.request.top_p = 0.9;
  ex.request.max_tokens = 256;
  ex.request.stop = {"END"};
  const boost::json::object params = body_of(ex.must_build()).at("params").as_object();
  EXPECT_EQ(params.at("temperature").as_double(), 0.5);
  EXPECT_EQ(params.at("top_p").as_double(), 0.9);
  EXPECT_EQ(params.at("max_tokens").as_int64(), 256);
  EXPECT_EQ(params.at("stop"), (boost::json::array{"END"}));
}

// The body is written by hand: any text, escapes and all, reads back as it was.
TEST(zai_request, any_prompt_text_reads_back_from_the_body) {
  const std::string text = "quote \" backslash \\ newline \n tab \t nul " + std::string(1, '\0') +
                           " \x01\x1f\x7f é 😀 </script> {\"json\": [1]}";
  worked_example ex;
  ex.request.messages = {msg(message_role::user, text)};
  ex.request.stop = {"a\"b", "\n"};
  const upstream_request r = ex.must_build();
  const boost::json::object body = body_of(r);
  EXPECT_NE(r.signature_prompt.find(text), std::string::npos);
  EXPECT_EQ(body.at("signature_prompt").as_string(), r.signature_prompt);
  EXPECT_EQ(body.at("messages").as_array()[0].as_object().at("content").as_string(),
            r.signature_prompt);
  EXPECT_EQ(body.at("params").at("stop"), (boost::json::array{"a\"b", "\n"}));
  EXPECT_EQ(body.at("current_user_message_parent_id"), nullptr);
  EXPECT_EQ(body.size(), 14u);  // every field once, none added
}

TEST(zai_request, captcha_field_only_with_a_value) {
  worked_example ex;
  ex.captcha.reset();
  EXPECT_FALSE(body_of(ex.must_build()).contains("captcha_verify_param"));
  ex.captcha = "";
  EXPECT_FALSE(body_of(ex.must_build()).contains("captcha_verify_param"));
}

TEST(zai_request, nothing_with_cr_or_lf_reaches_a_header) {
  const auto refuses = [](worked_example ex) {
    const result<upstream_request> r = ex.build();
    return r.has_error() && r.error().code == errc::internal;
  };
  worked_example bad_jwt;
  bad_jwt.token.jwt += "\r\nX-Injected: 1";
  EXPECT_TRUE(refuses(bad_jwt));
  worked_example bad_version;
  bad_version.fe_version = "prod-fe-1.1.98\n";
  EXPECT_TRUE(refuses(bad_version));
  worked_example bad_chat;
  bad_chat.ids.chat_id = "x\ry";
  EXPECT_TRUE(refuses(bad_chat));
  worked_example bad_nul;
  bad_nul.token.jwt += std::string(1, '\0');
  EXPECT_TRUE(refuses(bad_nul));

  // Values that only reach the query string or the body are encoded, never refused.
  worked_example encoded;
  encoded.token.user_id = "a&b\r\nc";
  encoded.request.messages = {msg(message_role::user, "line one\r\nline two")};
  const upstream_request r = encoded.must_build();
  EXPECT_EQ(r.target.find_first_of("\r\n "), std::string::npos);
  EXPECT_NE(r.target.find("&user_id=a%26b%0D%0Ac&"), std::string::npos);
}

TEST(flatten_conversation, a_lone_user_turn_passes_through_trimmed) {
  const chat_message one[] = {msg(message_role::user, "  Hello, what model?\n")};
  EXPECT_EQ(flatten_conversation(one), "Hello, what model?");
  // Empty turns around it do not make it a conversation.
  const chat_message padded[] = {msg(message_role::system, " "), msg(message_role::user, "Hi"),
                                 msg(message_role::assistant, "")};
  EXPECT_EQ(flatten_conversation(padded), "Hi");
}

TEST(flatten_conversation, instructions_come_first_then_labelled_turns) {
  chat_message named = msg(message_role::user, "Second question");
  named.name = "ann";
  const chat_message messages[] = {
      msg(message_role::user, "First question"),
      msg(message_role::assistant, "First answer\nwith two lines"),
      msg(message_role::developer, "Answer in French."),
      named,
      msg(message_role::system, "You are terse."),
  };
  EXPECT_EQ(flatten_conversation(messages),
            "System: Answer in French.\n\n"
            "System: You are terse.\n\n"
            "User: First question\n\n"
            "Assistant: First answer\nwith two lines\n\n"
            "User (ann): Second question");
}

TEST(flatten_conversation, system_and_one_user_turn_are_labelled) {
  const chat_message messages[] = {msg(message_role::system, "Be brief."),
                                   msg(message_role::user, "Hi")};
  EXPECT_EQ(flatten_conversation(messages), "System: Be brief.\n\nUser: Hi");
}

TEST(flatten_conversation, tool_calls_and_results_are_rendered_as_text) {
  chat_message call = msg(message_role::assistant, "");
  call.tool_calls = {{"call_1", "get_weather", R"({"city":"Paris"})"}};
  chat_message result = msg(message_role::tool, "18C, sunny");
  result.tool_call_id = "call_1";
  const chat_message messages[] = {msg(message_role::user, "Weather in Paris?"), call, result};
  EXPECT_EQ(flatten_conversation(messages),
            "User: Weather in Paris?\n\n"
            "Assistant: [called tool get_weather with {\"city\":\"Paris\"}, id call_1]\n\n"
            "Tool result (call_1): 18C, sunny");
}

TEST(zai_request, date_variables_are_utc_calendar_fields_of_now) {
  worked_example ex;
  ex.now_ms = 1835481599999;  // 2028-02-29T23:59:59.999Z, a leap day
  const upstream_request r = ex.must_build();
  const boost::json::object vars = body_of(r).at("variables").as_object();
  EXPECT_EQ(vars.at("{{CURRENT_DATETIME}}"), "2028-02-29 23:59:59");
  EXPECT_EQ(vars.at("{{CURRENT_DATE}}"), "2028-02-29");
  EXPECT_EQ(vars.at("{{CURRENT_TIME}}"), "23:59:59");
  EXPECT_EQ(vars.at("{{CURRENT_WEEKDAY}}"), "Tuesday");
  EXPECT_NE(r.target.find("&local_time=2028-02-29T23%3A59%3A59.999Z&utc_time=Tue%2C+29+Feb+2028+"
                          "23%3A59%3A59+GMT&"),
            std::string::npos);
  ex.now_ms = 0;
  EXPECT_NE(ex.must_build().target.find("&utc_time=Thu%2C+01+Jan+1970+00%3A00%3A00+GMT&"),
            std::string::npos);
}

TEST(encoding, header_safety_refuses_control_characters_but_not_tabs) {
  EXPECT_TRUE(is_header_safe("Bearer abc.def-_=~ (x); q=0.9\t"));
  EXPECT_TRUE(is_header_safe("caf\xc3\xa9"));
  const std::string_view bad_values[] = {"a\rb", "a\nb", std::string_view("a\0b", 3), "a\x7f",
                                         "\x1b[0m"};
  for (std::string_view bad : bad_values) {
    EXPECT_FALSE(is_header_safe(bad)) << bad;
  }
}

}  // namespace
}  // namespace zai
