#include "core/api/openai_responses_request.hpp"

#include <algorithm>

namespace zai {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

// What every offered tool has: a name (required) and a description.
maybe_error read_tool_name(const object& t, const std::string& at, tool_definition& out) {
  if (optional_field(t, "name") == nullptr) return missing_param(at + ".name");
  if (maybe_error e = read_string(t, "name", at + ".name", out.name)) return e;
  return read_string(t, "description", at + ".description", out.description);
}

maybe_error read_function_tool(const object& t, const std::string& at, tool_definition& out) {
  if (maybe_error e = read_tool_name(t, at, out)) return e;
  const object* parameters = nullptr;
  if (maybe_error e = read_object(t, "parameters", at + ".parameters", parameters)) return e;
  out.parameters = parameters != nullptr ? boost::json::serialize(*parameters) : "{}";
  return std::nullopt;
}

maybe_error read_custom_tool(const object& t, const std::string& at, tool_definition& out) {
  out.kind = tool_kind::custom;
  out.parameters.clear();
  if (maybe_error e = read_tool_name(t, at, out)) return e;
  // {type:"text"} is unconstrained; {type:"grammar", syntax, definition} keeps the grammar's
  // text, which is what tells the model how to write the input.
  const object* format = nullptr;
  if (maybe_error e = read_object(t, "format", at + ".format", format)) return e;
  if (format == nullptr) return std::nullopt;
  return read_string(*format, "definition", at + ".format.definition", out.format);
}

maybe_error read_tools(const object& body, chat_request& out) {
  const array* list = nullptr;
  if (maybe_error e = read_array(body, "tools", "tools", list)) return e;
  if (list == nullptr) return std::nullopt;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string at = element_param("tools", i);
    const object* t = (*list)[i].if_object();
    if (t == nullptr) return invalid_type(at, "an object", (*list)[i]);
    std::string type;
    if (maybe_error e = read_string(*t, "type", at + ".type", type)) return e;
    if (type.empty()) return missing_param(at + ".type");
    tool_definition tool;
    if (type == "function") {
      if (maybe_error e = read_function_tool(*t, at, tool)) return e;
    } else if (type == "custom") {
      if (maybe_error e = read_custom_tool(*t, at, tool)) return e;
    } else {
      continue;  // server tools, namespaces, tool search, …: not offered (see the header)
    }
    out.tools.push_back(std::move(tool));
  }
  return std::nullopt;
}

bool offers(const chat_request& r, std::string_view name, tool_kind kind) {
  return std::any_of(r.tools.begin(), r.tools.end(), [&](const tool_definition& t) {
    return t.name == name && t.kind == kind;
  });
}

// {type:"allowed_tools", mode, tools:[{type, name}]}: only the listed tools stay offered.
maybe_error read_allowed_tools(const object& choice, chat_request& out) {
  std::string mode = "auto";
  if (maybe_error e = read_string(choice, "mode", "tool_choice.mode", mode)) return e;
  if (mode != "auto" && mode != "required") {
    return unsupported_value("tool_choice.mode", mode, {"auto", "required"});
  }
  out.tool_choice = mode == "required" ? tool_choice_mode::required : tool_choice_mode::automatic;
  const array* allowed = nullptr;
  if (maybe_error e = read_array(choice, "tools", "tool_choice.tools", allowed)) return e;
  if (allowed == nullptr) return missing_param("tool_choice.tools");
  std::erase_if(out.tools, [&](const tool_definition& t) {
    return std::none_of(allowed->begin(), allowed->end(), [&](const value& a) {
      const object* o = a.if_object();
      const value* name = o != nullptr ? o->if_contains("name") : nullptr;
      return name != nullptr && name->is_string() && name->get_string() == t.name;
    });
  });
  return std::nullopt;
}

maybe_error read_tool_choice(const object& body, chat_request& out) {
  const value* v = optional_field(body, "tool_choice");
  if (v == nullptr) return std::nullopt;
  if (const boost::json::string* s = v->if_string()) {
    if (*s == "auto") out.tool_choice = tool_choice_mode::automatic;
    else if (*s == "none") out.tool_choice = tool_choice_mode::none;
    else if (*s == "required") out.tool_choice = tool_choice_mode::required;
    else return unsupported_value("tool_choice", *s, {"none", "auto", "required"});
    return std::nullopt;
  }
  const object* choice = v->if_object();
  if (choice == nullptr) return invalid_type("tool_choice", "a string or an object", *v);
  std::string type;
  if (maybe_error e = read_string(*choice, "type", "tool_choice.type", type)) return e;
  if (type.empty()) return missing_param("tool_choice.type");
  if (type == "allowed_tools") return read_allowed_tools(*choice, out);
  if (type != "function" && type != "custom") {
    return make_error(errc::invalid_request,
                      "Tool choice '" + type + "' names a tool this proxy does not offer; "
                      "only 'function' and 'custom' tools are supported.",
                      "tool_choice.type");
  }
  if (optional_field(*choice, "name") == nullptr) return missing_param("tool_choice.name");
  if (maybe_error e = read_string(*choice, "name", "tool_choice.name", out.tool_choice_name)) {
    return e;
  }
  if (!offers(out, out.tool_choice_name, type == "custom" ? tool_kind::custom : tool_kind::function)) {
    return make_error(errc::invalid_request,
                      "Tool choice '" + type + "' with name '" + out.tool_choice_name +
                          "' not found in 'tools' parameter.",
                      "tool_choice.name");
  }
  out.tool_choice = tool_choice_mode::named;
  return std::nullopt;
}

maybe_error read_reasoning(const object& body, chat_request& out) {
  const object* reasoning = nullptr;
  if (maybe_error e = read_object(body, "reasoning", "reasoning", reasoning)) return e;
  if (reasoning == nullptr) return std::nullopt;
  if (maybe_error e =
          read_string(*reasoning, "effort", "reasoning.effort", out.reasoning_effort)) {
    return e;
  }
  if (out.reasoning_effort.empty()) return std::nullopt;  // the model's default
  constexpr std::string_view known[] = {"none", "minimal", "low", "medium", "high", "xhigh"};
  if (std::find(std::begin(known), std::end(known), out.reasoning_effort) == std::end(known)) {
    return unsupported_value("reasoning.effort", out.reasoning_effort,
                             {"none", "minimal", "low", "medium", "high", "xhigh"});
  }
  // GLM thinks or does not; the lowest efforts mean "do not".
  out.enable_thinking = out.reasoning_effort != "none" && out.reasoning_effort != "minimal";
  return std::nullopt;
}

// text.format: json_schema and json_object become an instruction to answer with that JSON.
maybe_error read_text_format(const object& body, chat_request& out) {
  const object* text = nullptr;
  if (maybe_error e = read_object(body, "text", "text", text)) return e;
  const object* format = nullptr;
  if (text != nullptr) {
    if (maybe_error e = read_object(*text, "format", "text.format", format)) return e;
  }
  if (format == nullptr) return std::nullopt;
  std::string type;
  if (maybe_error e = read_string(*format, "type", "text.format.type", type)) return e;
  if (type.empty()) return missing_param("text.format.type");
  if (type == "json_schema") {
    const value* schema = optional_field(*format, "schema");
    if (schema == nullptr) return missing_param("text.format.schema");
    if (!schema->is_object()) return invalid_type("text.format.schema", "an object", *schema);
    out.answer_schema = boost::json::serialize(*schema);
  } else if (type == "json_object") {
    out.answer_schema = R"({"type":"object"})";
  } else if (type != "text") {
    return unsupported_value("text.format.type", type, {"text", "json_object", "json_schema"});
  }
  return std::nullopt;
}

// The request fields the response object repeats, at the API's defaults when absent.
std::string echo_members(const object& body, const chat_request& r, bool store) {
  object echo;
  auto given = [&](std::string_view key, value fallback) {
    const value* v = optional_field(body, key);
    if (v != nullptr) {
      echo[key] = *v;
    } else {
      echo[key] = std::move(fallback);
    }
  };
  given("instructions", nullptr);
  given("max_output_tokens", nullptr);
  given("metadata", object{});
  echo["parallel_tool_calls"] = r.parallel_tool_calls;
  given("previous_response_id", nullptr);
  given("prompt_cache_key", nullptr);
  object reasoning;
  reasoning["effort"] = r.reasoning_effort.empty() ? value(nullptr) : value(r.reasoning_effort);
  reasoning["summary"] = nullptr;
  if (const value* v = optional_field(body, "reasoning")) {
    if (const value* s = v->get_object().if_contains("summary")) reasoning["summary"] = *s;
  }
  echo["reasoning"] = std::move(reasoning);
  echo["service_tier"] = "default";
  echo["store"] = store;
  given("temperature", 1);  // an integer: serialised as 1, not 1E0
  given("text", object{{"format", object{{"type", "text"}}}});
  given("tool_choice", "auto");
  given("tools", array{});
  given("top_p", 1);
  given("truncation", "disabled");
  given("user", nullptr);
  std::string text = boost::json::serialize(echo);
  return text.substr(1, text.size() - 2);
}

maybe_error read_options(const object& body, chat_request& out) {
  std::optional<bool> flag;
  if (maybe_error e = read_bool(body, "stream", "stream", flag)) return e;
  out.stream = flag.value_or(false);
  flag.reset();
  if (maybe_error e = read_bool(body, "parallel_tool_calls", "parallel_tool_calls", flag)) {
    return e;
  }
  out.parallel_tool_calls = flag.value_or(true);
  if (maybe_error e = read_decimal(body, "temperature", 0, 2, out.temperature)) return e;
  if (maybe_error e = read_decimal(body, "top_p", 0, 1, out.top_p)) return e;
  if (maybe_error e = read_positive_int(body, "max_output_tokens", out.max_tokens)) return e;
  if (maybe_error e = read_string(body, "user", "user", out.user)) return e;
  const object* metadata = nullptr;
  if (maybe_error e = read_object(body, "metadata", "metadata", metadata)) return e;
  const array* include = nullptr;
  if (maybe_error e = read_array(body, "include", "include", include)) return e;
  std::string ignored;
  if (maybe_error e = read_string(body, "prompt_cache_key", "prompt_cache_key", ignored)) return e;
  if (maybe_error e = read_reasoning(body, out)) return e;
  return read_text_format(body, out);
}

// Server-side conversation state this proxy does not keep; ignoring it would lose context.
maybe_error refuse_server_state(const object& body) {
  for (std::string_view key : {"conversation", "prompt"}) {
    if (optional_field(body, key) != nullptr) {
      return make_error(errc::invalid_request,
                        "'" + std::string(key) + "' is not supported by this proxy; send the "
                        "conversation in 'input', or continue with previous_response_id.",
                        std::string(key));
    }
  }
  return std::nullopt;
}

chat_message text_message(message_role role, std::string text) {
  chat_message m;
  m.role = role;
  m.text = std::move(text);
  return m;
}

maybe_error read_conversation(const object& body, response_store* store, double now_ms,
                              chat_request& out) {
  std::string instructions;
  if (maybe_error e = read_string(body, "instructions", "instructions", instructions)) return e;
  if (!instructions.empty()) {
    out.messages.push_back(text_message(message_role::system, std::move(instructions)));
    out.responses.instructions_first = true;
  }
  std::string previous;
  if (maybe_error e = read_string(body, "previous_response_id", "previous_response_id", previous)) {
    return e;
  }
  if (!previous.empty()) {
    const stored_response* earlier = store != nullptr ? store->find(previous, now_ms) : nullptr;
    if (earlier == nullptr) {
      return make_error(errc::previous_response_not_found,
                        "Previous response with id '" + previous + "' not found.",
                        "previous_response_id");
    }
    out.messages.insert(out.messages.end(), earlier->conversation.begin(),
                        earlier->conversation.end());
  }
  const value* input = optional_field(body, "input");
  if (input == nullptr && previous.empty()) return missing_param("input");
  if (input != nullptr) {
    if (const boost::json::string* s = input->if_string()) {
      out.messages.push_back(text_message(message_role::user, std::string(*s)));
    } else if (const array* items = input->if_array()) {
      if (maybe_error e = read_response_input(*items, out.messages)) return e;
    } else {
      return invalid_type("input", "a string or an array of input items", *input);
    }
  }
  const bool any = std::any_of(out.messages.begin(), out.messages.end(), [](const auto& m) {
    return !m.text.empty() || !m.tool_calls.empty();
  });
  if (!any) return invalid_value("input", "no item has any text content.");
  return std::nullopt;
}

maybe_error read_request(const object& body, response_store* store, double now_ms,
                         chat_request& out) {
  const value* model = optional_field(body, "model");
  if (model == nullptr) return missing_param("model");
  const boost::json::string* model_name = model->if_string();
  if (model_name == nullptr) return invalid_type("model", "a string", *model);
  if (model_name->empty()) return invalid_value("model", "must not be empty.");
  out.model = std::string(*model_name);

  if (maybe_error e = refuse_server_state(body)) return e;
  if (maybe_error e = read_conversation(body, store, now_ms, out)) return e;
  if (maybe_error e = read_tools(body, out)) return e;
  if (maybe_error e = read_tool_choice(body, out)) return e;
  if (maybe_error e = read_options(body, out)) return e;

  // `store` defaults to true in this API; it takes effect only where a store keeps anything.
  std::optional<bool> store_flag;
  if (maybe_error e = read_bool(body, "store", "store", store_flag)) return e;
  out.responses.store = store_flag.value_or(true) && store != nullptr && store->enabled();
  out.responses.echo = echo_members(body, out, out.responses.store);
  return std::nullopt;
}

}  // namespace

result<chat_request> parse_responses_request(std::string_view body, response_store* store,
                                             double now_ms) {
  result<object> root = parse_body_object(body);
  if (root.has_error()) return root.error();
  chat_request out;
  if (maybe_error e = read_request(*root, store, now_ms, out)) return std::move(*e);
  return out;
}

}  // namespace zai
