#include "core/zai/request.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>

#include "core/encoding.hpp"
#include "core/json_text.hpp"

namespace zai {
namespace {

// The browser the fingerprint fields describe (reference §3.2): a 1920x1080 desktop Chrome on
// Windows in UTC, English. Only the signed fields are proven to matter; the rest make the query
// look like the web app's.
constexpr std::string_view page_title = "Z.ai - Free AI Chatbot & Agent powered by GLM";
constexpr std::string_view accept_language = "en-US,en;q=0.9";

std::string_view trim(std::string_view s) {
  constexpr std::string_view space = " \t\r\n\f\v";
  const std::size_t first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

// The calendar fields of `now_ms` in UTC, in the shapes the web app sends them.
struct utc_time_fields {
  std::string iso;       // 2026-06-25T18:47:21.147Z  (Date.toISOString)
  std::string http;      // Thu, 25 Jun 2026 18:47:21 GMT  (Date.toUTCString)
  std::string datetime;  // 2026-06-25 18:47:21
  std::string date;      // 2026-06-25
  std::string time;      // 18:47:21
  std::string weekday;   // Thursday
};

utc_time_fields utc_fields(std::uint64_t now_ms) {
  using namespace std::chrono;
  static constexpr const char* day_names[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                              "Thursday", "Friday", "Saturday"};
  static constexpr const char* month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const sys_time<milliseconds> t{milliseconds(now_ms)};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{t - day};
  const unsigned wd = weekday{day}.c_encoding();
  const int y = int(ymd.year());
  const unsigned mo = unsigned(ymd.month());
  const unsigned d = unsigned(ymd.day());
  const auto h = unsigned(hms.hours().count());
  const auto mi = unsigned(hms.minutes().count());
  const auto s = unsigned(hms.seconds().count());
  const auto ms = unsigned(hms.subseconds().count());

  char buf[64];
  utc_time_fields out;
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, mo, d);
  out.date = buf;
  std::snprintf(buf, sizeof buf, "%02u:%02u:%02u", h, mi, s);
  out.time = buf;
  out.datetime = out.date + " " + out.time;
  std::snprintf(buf, sizeof buf, "%sT%s.%03uZ", out.date.c_str(), out.time.c_str(), ms);
  out.iso = buf;
  std::snprintf(buf, sizeof buf, "%.3s, %02u %s %04d %s GMT", day_names[wd], d, month_names[mo - 1],
                y, out.time.c_str());
  out.http = buf;
  out.weekday = day_names[wd];
  return out;
}

std::string label(const chat_message& m) {
  switch (m.role) {
    case message_role::system:
    case message_role::developer:
      return "System";
    case message_role::user:
      return m.name.empty() ? "User" : "User (" + m.name + ")";
    case message_role::assistant:
      return "Assistant";
    case message_role::tool:
      return m.tool_call_id.empty() ? "Tool result" : "Tool result (" + m.tool_call_id + ")";
  }
  return "User";
}

// One turn of the transcript, or empty when the message carries nothing.
std::string render_turn(const chat_message& m) {
  std::string text(trim(m.text));
  for (const tool_call& call : m.tool_calls) {
    if (!text.empty()) text += '\n';
    text += "[called tool " + call.name + " with " + std::string(trim(call.arguments)) +
            (call.id.empty() ? "]" : ", id " + call.id + "]");
  }
  return text.empty() ? text : label(m) + ": " + text;
}

std::string build_query(const completion_inputs& in, const utc_time_fields& when,
                        const std::string& page_path) {
  const http_url& base = in.cfg.zai_base_url;
  const std::string timestamp = std::to_string(in.now_ms);
  const std::string current_url = base.origin() + page_path;
  const std::string host = base.authority();
  const std::string protocol = base.scheme + ":";
  // Browser order (reference §3.2); signature_timestamp is always last.
  const std::pair<std::string_view, std::string_view> fields[] = {
      {"timestamp", timestamp},
      {"requestId", in.ids.request_id},
      {"user_id", in.token.user_id},
      {"version", "0.0.1"},
      {"platform", "web"},
      {"token", in.token.jwt},
      {"user_agent", in.cfg.zai_user_agent},
      {"language", "en-US"},
      {"languages", "en-US,en"},
      {"timezone", "UTC"},
      {"cookie_enabled", "true"},
      {"screen_width", "1920"},
      {"screen_height", "1080"},
      {"screen_resolution", "1920x1080"},
      {"viewport_height", "1080"},
      {"viewport_width", "1920"},
      {"viewport_size", "1920x1080"},
      {"color_depth", "24"},
      {"pixel_ratio", "1"},
      {"current_url", current_url},
      {"pathname", page_path},
      {"search", ""},
      {"hash", ""},
      {"host", host},
      {"hostname", base.host},
      {"protocol", protocol},
      {"referrer", ""},
      {"title", page_title},
      {"timezone_offset", "0"},
      {"local_time", when.iso},
      {"utc_time", when.http},
      {"is_mobile", "false"},
      {"is_touch", "false"},
      {"max_touch_points", "0"},
      {"browser_name", "Chrome"},
      {"os_name", "Windows"},
      {"signature_timestamp", timestamp},
  };
  std::string query;
  query.reserve(2048);
  for (const auto& [key, value] : fields) {
    if (!query.empty()) query += '&';
    query.append(key).append("=");
    append_form_urlencoded(query, value);
  }
  return query;
}

// The body as the web app sends it, keys in its order (reference §3.3), written straight into
// one string: a JSON DOM built and serialised per completion cost more than the rest of the
// request. Only the optional generation parameters, rarely given, go through Boost.JSON.
std::string build_body(const completion_inputs& in, const utc_time_fields& when,
                       const std::string& prompt) {
  const chat_request& req = in.request;
  // The upstream's own search would answer in the tools' place, and its results would crowd the
  // one turn that carries the tool contract.
  const bool web_search = in.model.web_search && !tools_in_prompt(req);
  const auto flag = [](bool on) { return on ? std::string_view("true") : "false"; };
  const auto field = [](std::string& out, std::string_view key, std::string_view value) {
    out.append(key);
    append_json_string(out, value);
  };

  std::string body;
  body.reserve(2 * prompt.size() + 1280);
  body.append(R"({"stream":true,"model":)");
  append_json_string(body, in.model.upstream_id);
  field(body, R"(,"messages":[{"role":"user","content":)", prompt);
  field(body, R"(}],"signature_prompt":)", prompt);
  body.append(R"(,"params":)");
  if (req.temperature || req.top_p || req.max_tokens || !req.stop.empty()) {
    boost::json::object params;
    if (req.temperature) params["temperature"] = *req.temperature;
    if (req.top_p) params["top_p"] = *req.top_p;
    if (req.max_tokens) params["max_tokens"] = *req.max_tokens;
    if (!req.stop.empty()) {
      boost::json::array stop;
      for (const std::string& s : req.stop) stop.emplace_back(s);
      params["stop"] = std::move(stop);
    }
    body.append(boost::json::serialize(params));
  } else {
    body.append("{}");
  }
  body.append(R"(,"extra":{},"features":{"image_generation":false,"web_search":)")
      .append(flag(web_search))
      .append(R"(,"auto_web_search":)")
      .append(flag(web_search))
      .append(R"(,"preview_mode":true,"flags":[],"vlm_tools_enable":false,)"
              R"("vlm_web_search_enable":false,"vlm_website_mode":false,"enable_thinking":)")
      .append(flag(req.enable_thinking.value_or(in.model.thinking)));
  field(body, R"(},"variables":{"{{USER_NAME}}":)", in.token.name);
  field(body, R"(,"{{USER_LOCATION}}":)", "Unknown");
  field(body, R"(,"{{CURRENT_DATETIME}}":)", when.datetime);
  field(body, R"(,"{{CURRENT_DATE}}":)", when.date);
  field(body, R"(,"{{CURRENT_TIME}}":)", when.time);
  field(body, R"(,"{{CURRENT_WEEKDAY}}":)", when.weekday);
  field(body, R"(,"{{CURRENT_TIMEZONE}}":)", "UTC");
  field(body, R"(,"{{USER_LANGUAGE}}":)", "en-US");
  field(body, R"(},"chat_id":)", in.ids.chat_id);
  field(body, R"(,"id":)", in.ids.message_id);
  field(body, R"(,"current_user_message_id":)", in.ids.user_message_id);
  // Title and tag generation would spend upstream work (and extra events) on a throwaway chat.
  body.append(R"(,"current_user_message_parent_id":null,)"
              R"("background_tasks":{"title_generation":false,"tags_generation":false})");
  // An empty captcha field can trip the gate, so it is sent only with a value (reference §3.4).
  if (in.captcha && !in.captcha->empty()) field(body, R"(,"captcha_verify_param":)", *in.captcha);
  body += '}';
  return body;
}

}  // namespace

std::string flatten_conversation(std::span<const chat_message> messages) {
  std::vector<const chat_message*> instructions;
  std::vector<const chat_message*> turns;
  for (const chat_message& m : messages) {
    if (trim(m.text).empty() && m.tool_calls.empty()) continue;
    const bool instruction = m.role == message_role::system || m.role == message_role::developer;
    (instruction ? instructions : turns).push_back(&m);
  }
  if (instructions.empty() && turns.size() == 1 && turns[0]->role == message_role::user) {
    return std::string(trim(turns[0]->text));
  }
  std::string out;
  for (const auto* group : {&instructions, &turns}) {
    for (const chat_message* m : *group) {
      const std::string turn = render_turn(*m);
      if (turn.empty()) continue;
      if (!out.empty()) out += "\n\n";
      out += turn;
    }
  }
  return std::string(trim(out));
}

std::string upstream_prompt(const chat_request& request, const tool_prompt_options& tools) {
  if (tools_in_prompt(request)) return build_tool_prompt(request, tools);
  std::string prompt = flatten_conversation(request.messages);
  if (!request.answer_schema.empty()) {
    prompt.append("\n\n").append(answer_schema_instruction(request.answer_schema));
  }
  return prompt;
}

result<upstream_request> build_completion_request(const completion_inputs& in) {
  const config& cfg = in.cfg;
  const http_url& base = cfg.zai_base_url;
  const utc_time_fields when = utc_fields(in.now_ms);
  const std::string page_path = base.path + "/c/" + in.ids.chat_id;

  upstream_request out;
  out.signature_prompt = std::string(in.prompt);
  const signature_parts signed_parts =
      sign_request({in.ids.request_id, in.now_ms, in.token.user_id, out.signature_prompt},
                   cfg.zai_signing_secret, in.hmac);

  out.target = base.path + "/api/v2/chat/completions?" + build_query(in, when, page_path);
  out.headers = {
      {"Authorization", "Bearer " + in.token.jwt},
      {"Content-Type", "application/json"},
      {"Accept", "text/event-stream"},
      // The stream is parsed as it arrives; a compressed one would need a decoder first.
      {"Accept-Encoding", "identity"},
      {"Accept-Language", std::string(accept_language)},
      {"X-FE-Version", std::string(in.fe_version)},
      {"X-Signature", signed_parts.signature},
      {"X-Region", cfg.zai_region},
      {"Origin", base.origin()},
      {"Referer", base.origin() + page_path},
      {"User-Agent", cfg.zai_user_agent},
      {"Sec-Fetch-Dest", "empty"},
      {"Sec-Fetch-Mode", "cors"},
      {"Sec-Fetch-Site", "same-origin"},
  };
  for (const auto& [name, value] : out.headers) {
    if (!is_header_safe(value)) {
      return make_error(errc::internal, "Refusing to send upstream header " + name +
                                            ": its value contains a control character.");
    }
  }
  out.body = build_body(in, when, out.signature_prompt);
  out.method = "POST";
  return out;
}

}  // namespace zai
