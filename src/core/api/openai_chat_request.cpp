#include "core/api/openai_chat_request.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cmath>

#include "core/api/request_fields.hpp"
#include "core/api/openai_chat_tools.hpp"

namespace zai {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

// Names as the API spells them; the first match of a role is its canonical name.
constexpr std::array<std::pair<std::string_view, message_role>, 6> roles{{
    {"system", message_role::system},
    {"developer", message_role::developer},
    {"user", message_role::user},
    {"assistant", message_role::assistant},
    {"tool", message_role::tool},
    {"function", message_role::tool},  // deprecated spelling of a tool result
}};

maybe_error read_role(const object& m, const std::string& at, chat_message& out) {
  const value* v = m.if_contains("role");
  const std::string param = at + ".role";
  if (v == nullptr || v->is_null()) return missing_param(param);
  const boost::json::string* s = v->if_string();
  if (s == nullptr) return invalid_type(param, "a string", *v);
  for (const auto& [name, role] : roles) {
    if (*s == name) {
      out.role = role;
      return std::nullopt;
    }
  }
  return make_error(errc::invalid_request,
                    "Invalid value for '" + param + "': '" + std::string(*s) +
                        "'. Supported values are: 'system', 'developer', 'user', 'assistant' "
                        "and 'tool'.",
                    param);
}

maybe_error read_content_part(const value& part, const std::string& at, std::string& text) {
  const object* p = part.if_object();
  if (p == nullptr) return invalid_type(at, "an object", part);
  const value* type_value = p->if_contains("type");
  if (type_value == nullptr) return missing_param(at + ".type");
  const boost::json::string* type = type_value->if_string();
  if (type == nullptr) return invalid_type(at + ".type", "a string", *type_value);

  if (*type == "text" || *type == "refusal") {
    const std::string key(*type);
    const value* t = p->if_contains(key);
    if (t == nullptr) return missing_param(at + "." + key);
    const boost::json::string* s = t->if_string();
    if (s == nullptr) return invalid_type(at + "." + key, "a string", *t);
    if (!text.empty()) text += '\n';
    text.append(s->data(), s->size());
    return std::nullopt;
  }
  if (*type == "image_url" || *type == "input_image" || *type == "input_audio" || *type == "file") {
    // Z.AI takes images only as uploaded files (reference §3.8), which this proxy does not do;
    // dropping them silently would make the model answer about a picture it never saw.
    return make_error(errc::invalid_request,
                      "Content parts of type '" + std::string(*type) +
                          "' are not supported by this proxy; send text only.",
                      at);
  }
  return make_error(errc::invalid_request,
                    "Invalid value for '" + at + ".type': '" + std::string(*type) +
                        "'. Supported values are: 'text' and 'refusal'.",
                    at + ".type");
}

maybe_error read_content(const object& m, const std::string& at, chat_message& out) {
  const std::string param = at + ".content";
  const value* v = m.if_contains("content");
  if (v == nullptr || v->is_null()) {
    // Assistant turns that only called tools carry no content; everyone else must.
    if (out.role == message_role::assistant) return std::nullopt;
    return missing_param(param);
  }
  if (const boost::json::string* s = v->if_string()) {
    out.text = std::string(*s);
    return std::nullopt;
  }
  const array* parts = v->if_array();
  if (parts == nullptr) return invalid_type(param, "a string or an array of content parts", *v);
  for (std::size_t j = 0; j < parts->size(); ++j) {
    const std::string part_at = param + "[" + std::to_string(j) + "]";
    if (maybe_error e = read_content_part((*parts)[j], part_at, out.text)) return e;
  }
  return std::nullopt;
}

maybe_error read_message(const value& v, std::size_t i, chat_message& out) {
  const std::string at = "messages[" + std::to_string(i) + "]";
  const object* m = v.if_object();
  if (m == nullptr) return invalid_type(at, "an object", v);
  if (maybe_error e = read_role(*m, at, out)) return e;
  if (maybe_error e = read_content(*m, at, out)) return e;
  if (maybe_error e = read_string(*m, "name", at + ".name", out.name)) return e;
  if (out.role == message_role::assistant) {
    if (maybe_error e = read_openai_tool_calls(*m, at, out)) return e;
  }
  if (out.role == message_role::tool) {
    if (maybe_error e = read_string(*m, "tool_call_id", at + ".tool_call_id", out.tool_call_id)) {
      return e;
    }
    const boost::json::string* role = m->if_contains("role")->if_string();
    const bool legacy_function = role != nullptr && *role == "function";
    if (out.tool_call_id.empty() && !legacy_function) return missing_param(at + ".tool_call_id");
  }
  return std::nullopt;
}

maybe_error read_messages(const object& body, chat_request& out) {
  const value* v = body.if_contains("messages");
  if (v == nullptr || v->is_null()) return missing_param("messages");
  const array* messages = v->if_array();
  if (messages == nullptr) return invalid_type("messages", "an array", *v);
  if (messages->empty()) {
    return invalid_value("messages", "empty array. Expected an array with minimum length 1.");
  }
  bool any_text = false;
  out.messages.resize(messages->size());
  for (std::size_t i = 0; i < messages->size(); ++i) {
    if (maybe_error e = read_message((*messages)[i], i, out.messages[i])) return e;
    any_text = any_text || !out.messages[i].text.empty() || !out.messages[i].tool_calls.empty();
  }
  if (!any_text) return invalid_value("messages", "no message has any text content.");
  return std::nullopt;
}

maybe_error read_stop(const object& body, chat_request& out) {
  const value* v = optional_field(body, "stop");
  if (v == nullptr) return std::nullopt;
  if (const boost::json::string* s = v->if_string()) {
    out.stop.emplace_back(*s);
    return std::nullopt;
  }
  const array* list = v->if_array();
  if (list == nullptr) return invalid_type("stop", "a string or an array of strings", *v);
  for (std::size_t i = 0; i < list->size(); ++i) {
    const boost::json::string* s = (*list)[i].if_string();
    if (s == nullptr) {
      return invalid_type("stop[" + std::to_string(i) + "]", "a string", (*list)[i]);
    }
    out.stop.emplace_back(*s);
  }
  return std::nullopt;
}

maybe_error read_thinking(const object& body, chat_request& out) {
  std::optional<bool> from_thinking;
  if (const value* v = optional_field(body, "thinking")) {
    if (const bool* b = v->if_bool()) {
      from_thinking = *b;
    } else if (const object* t = v->if_object()) {
      std::string type;
      if (maybe_error e = read_string(*t, "type", "thinking.type", type)) return e;
      if (type == "enabled") from_thinking = true;
      if (type == "disabled") from_thinking = false;
      if (!type.empty() && !from_thinking) {
        return make_error(errc::invalid_request,
                          "Invalid value for 'thinking.type': '" + type +
                              "'. Supported values are: 'enabled' and 'disabled'.",
                          "thinking.type");
      }
    } else {
      return invalid_type("thinking", "an object", *v);
    }
  }
  std::optional<bool> from_flag;
  if (maybe_error e = read_bool(body, "enable_thinking", "enable_thinking", from_flag)) return e;
  std::optional<bool> from_kwargs;
  if (const value* v = optional_field(body, "chat_template_kwargs")) {
    const object* kwargs = v->if_object();
    if (kwargs == nullptr) return invalid_type("chat_template_kwargs", "an object", *v);
    if (maybe_error e = read_bool(*kwargs, "enable_thinking",
                                  "chat_template_kwargs.enable_thinking", from_kwargs)) {
      return e;
    }
  }
  std::optional<bool> from_effort;
  if (maybe_error e =
          read_string(body, "reasoning_effort", "reasoning_effort", out.reasoning_effort)) {
    return e;
  }
  if (!out.reasoning_effort.empty()) {
    constexpr std::string_view known[] = {"none", "minimal", "low", "medium",
                                          "high", "xhigh",   "max"};
    if (std::find(std::begin(known), std::end(known), out.reasoning_effort) == std::end(known)) {
      return make_error(errc::invalid_request,
                        "Invalid value for 'reasoning_effort': '" + out.reasoning_effort +
                            "'. Supported values are: 'none', 'minimal', 'low', 'medium', "
                            "'high', 'xhigh' and 'max'.",
                        "reasoning_effort");
    }
    from_effort = out.reasoning_effort != "none";
  }
  out.enable_thinking = from_thinking ? from_thinking
                        : from_flag   ? from_flag
                        : from_kwargs ? from_kwargs
                                      : from_effort;
  return std::nullopt;
}

maybe_error read_request(const object& body, chat_request& out) {
  const value* model = body.if_contains("model");
  if (model == nullptr || model->is_null()) return missing_param("model");
  const boost::json::string* model_name = model->if_string();
  if (model_name == nullptr) return invalid_type("model", "a string", *model);
  if (model_name->empty()) return invalid_value("model", "must not be empty.");
  out.model = std::string(*model_name);

  if (maybe_error e = read_messages(body, out)) return e;

  std::optional<bool> stream;
  if (maybe_error e = read_bool(body, "stream", "stream", stream)) return e;
  out.stream = stream.value_or(false);
  if (const value* v = optional_field(body, "stream_options")) {
    const object* options = v->if_object();
    if (options == nullptr) return invalid_type("stream_options", "an object", *v);
    std::optional<bool> usage;
    if (maybe_error e =
            read_bool(*options, "include_usage", "stream_options.include_usage", usage)) {
      return e;
    }
    out.include_usage = usage.value_or(false);
  }

  if (maybe_error e = read_decimal(body, "temperature", 0, 2, out.temperature)) return e;
  if (maybe_error e = read_decimal(body, "top_p", 0, 1, out.top_p)) return e;
  if (maybe_error e = read_positive_int(body, "max_tokens", out.max_tokens)) return e;
  std::optional<std::int64_t> max_completion_tokens;
  if (maybe_error e = read_positive_int(body, "max_completion_tokens", max_completion_tokens)) {
    return e;
  }
  if (max_completion_tokens) out.max_tokens = max_completion_tokens;

  std::optional<std::int64_t> n;
  if (maybe_error e = read_positive_int(body, "n", n)) return e;
  if (n && *n != 1) return invalid_value("n", "this proxy returns one choice, so n must be 1.");

  if (maybe_error e = read_stop(body, out)) return e;
  if (maybe_error e = read_string(body, "user", "user", out.user)) return e;
  if (maybe_error e = read_thinking(body, out)) return e;

  if (maybe_error e = read_openai_tools(body, out)) return e;
  return bind_tool_results(out);
}

}  // namespace

result<chat_request> parse_chat_request(std::string_view body) {
  boost::system::error_code ec;
  const value parsed = boost::json::parse(body, ec);
  if (ec) {
    return make_error(errc::invalid_json, "We could not parse the JSON body of your request (" +
                                              ec.message() + "). The API expects a JSON object.");
  }
  const object* root = parsed.if_object();
  if (root == nullptr) {
    return make_error(errc::invalid_request, "The request body must be a JSON object, but got " +
                                                 std::string(json_kind_name(parsed)) + ".");
  }
  chat_request out;
  if (maybe_error e = read_request(*root, out)) return std::move(*e);
  return out;
}

}  // namespace zai
