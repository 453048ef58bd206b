#include "core/api/openai_chat_tools.hpp"

#include <algorithm>

#include "core/api/request_fields.hpp"

namespace zai {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

// OpenAI's own pattern, plus '.' and ':' that MCP-style names carry. A name must survive being
// written by the model on a line of its own, so nothing else is accepted.
bool is_tool_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':';
  });
}

maybe_error read_name(const object& o, const std::string& at, std::string& out) {
  const std::string param = at + ".name";
  if (optional_field(o, "name") == nullptr) return missing_param(param);
  if (maybe_error e = read_string(o, "name", param, out)) return e;
  if (!is_tool_name(out)) {
    return invalid_value(param,
                         "string does not match pattern. Expected a string that matches "
                         "the pattern '^[a-zA-Z0-9_.:-]{1,64}$'.");
  }
  return std::nullopt;
}

// A function's description and JSON-Schema `parameters` (kept as compact JSON text).
maybe_error read_function(const object& f, const std::string& at, tool_definition& out) {
  if (maybe_error e = read_name(f, at, out.name)) return e;
  if (maybe_error e = read_string(f, "description", at + ".description", out.description)) {
    return e;
  }
  out.parameters = "{}";
  if (const value* p = optional_field(f, "parameters")) {
    if (!p->is_object()) return invalid_type(at + ".parameters", "an object", *p);
    out.parameters = boost::json::serialize(*p);
  }
  return std::nullopt;
}

// A custom tool's input format: a grammar's definition, or nothing for free text.
maybe_error read_custom(const object& c, const std::string& at, tool_definition& out) {
  out.kind = tool_kind::custom;
  if (maybe_error e = read_name(c, at, out.name)) return e;
  if (maybe_error e = read_string(c, "description", at + ".description", out.description)) {
    return e;
  }
  const value* format = optional_field(c, "format");
  if (format == nullptr) return std::nullopt;
  const object* f = format->if_object();
  if (f == nullptr) return invalid_type(at + ".format", "an object", *format);
  if (const value* grammar = optional_field(*f, "grammar"); grammar && grammar->is_object()) {
    return read_string(grammar->as_object(), "definition", at + ".format.grammar.definition",
                       out.format);
  }
  return std::nullopt;
}

// One `tools[i]`; nullopt with `out` unnamed when its type is one the proxy ignores.
maybe_error read_tool(const value& v, const std::string& at, tool_definition& out) {
  const object* t = v.if_object();
  if (t == nullptr) return invalid_type(at, "an object", v);
  std::string type = "function";
  if (maybe_error e = read_string(*t, "type", at + ".type", type)) return e;
  if (type != "function" && type != "custom") return std::nullopt;
  const value* body = optional_field(*t, type);
  if (body == nullptr) return missing_param(at + "." + type);
  if (!body->is_object()) return invalid_type(at + "." + type, "an object", *body);
  return type == "function" ? read_function(body->as_object(), at + ".function", out)
                            : read_custom(body->as_object(), at + ".custom", out);
}

// `tools` (items {type, function|custom}) or the legacy `functions` (bare function objects).
maybe_error read_tool_list(const object& body, std::string_view key, chat_request& out) {
  const value* v = optional_field(body, key);
  if (v == nullptr) return std::nullopt;
  const std::string param(key);
  const array* list = v->if_array();
  if (list == nullptr) return invalid_type(param, "an array", *v);
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string at = element_param(param, i);
    tool_definition tool;
    if (key == "functions") {
      const object* f = (*list)[i].if_object();
      if (f == nullptr) return invalid_type(at, "an object", (*list)[i]);
      if (maybe_error e = read_function(*f, at, tool)) return e;
    } else if (maybe_error e = read_tool((*list)[i], at, tool)) {
      return e;
    }
    if (tool.name.empty()) continue;
    const bool taken = std::any_of(out.tools.begin(), out.tools.end(),
                                   [&](const tool_definition& t) { return t.name == tool.name; });
    if (taken) {
      return invalid_value(at, "tool names must be unique; '" + tool.name + "' is used twice.");
    }
    out.tools.push_back(std::move(tool));
  }
  return std::nullopt;
}

bool offers(const chat_request& r, std::string_view name) {
  return std::any_of(r.tools.begin(), r.tools.end(),
                     [&](const tool_definition& t) { return t.name == name; });
}

api_error not_offered(const std::string& param, std::string_view name) {
  return invalid_value(param, "tool '" + std::string(name) + "' is not among the tools given.");
}

// `{"type":"allowed_tools","allowed_tools":{"mode":…,"tools":[{"type":"function",…}]}}`:
// only the listed tools are offered.
maybe_error read_allowed_tools(const object& choice, chat_request& out) {
  const std::string at = "tool_choice.allowed_tools";
  const value* v = optional_field(choice, "allowed_tools");
  if (v == nullptr || !v->is_object()) return missing_param(at);
  const object& allowed = v->as_object();
  std::string mode = "auto";
  if (maybe_error e = read_string(allowed, "mode", at + ".mode", mode)) return e;
  if (mode == "required") out.tool_choice = tool_choice_mode::required;
  const value* tools = optional_field(allowed, "tools");
  if (tools == nullptr || !tools->is_array()) return std::nullopt;
  std::vector<std::string> names;
  for (const value& t : tools->as_array()) {
    const object* o = t.if_object();
    const value* fn = o ? optional_field(*o, "function") : nullptr;
    if (o && !fn) fn = optional_field(*o, "custom");
    const object* named = fn ? fn->if_object() : o;
    const value* name = named ? optional_field(*named, "name") : nullptr;
    if (name && name->is_string()) names.emplace_back(name->as_string());
  }
  std::erase_if(out.tools, [&](const tool_definition& t) {
    return std::find(names.begin(), names.end(), t.name) == names.end();
  });
  return std::nullopt;
}

maybe_error read_choice_word(std::string_view word, const std::string& param, chat_request& out) {
  const bool legacy = param == "function_call";
  if (word == "auto") {
    out.tool_choice = tool_choice_mode::automatic;
  } else if (word == "none") {
    out.tool_choice = tool_choice_mode::none;
  } else if (word == "required" && !legacy) {
    if (out.tools.empty()) {
      return invalid_value(param, "'required' needs at least one tool in 'tools'.");
    }
    out.tool_choice = tool_choice_mode::required;
  } else {
    return invalid_value(
        param, legacy ? "expected 'auto' or 'none'." : "expected 'auto', 'none' or 'required'.");
  }
  return std::nullopt;
}

// `tool_choice`: "auto" | "none" | "required" | {type:function|custom, function|custom:{name}} |
// {type:allowed_tools}; or the legacy `function_call`: "auto" | "none" | {name}.
maybe_error read_choice(const object& body, std::string_view key, chat_request& out) {
  const value* v = optional_field(body, key);
  if (v == nullptr) return std::nullopt;
  const std::string param(key);
  if (const boost::json::string* s = v->if_string()) return read_choice_word(*s, param, out);
  const object* choice = v->if_object();
  if (choice == nullptr) return invalid_type(param, "a string or an object", *v);
  std::string type = key == "function_call" ? "" : "function";
  if (maybe_error e = read_string(*choice, "type", param + ".type", type)) return e;
  if (type == "allowed_tools") return read_allowed_tools(*choice, out);
  const value* named = type.empty() ? v : optional_field(*choice, type);
  if (named == nullptr || !named->is_object()) return missing_param(param + "." + type);
  const std::string at = type.empty() ? param : param + "." + type;
  std::string name;
  if (maybe_error e = read_string(named->as_object(), "name", at + ".name", name)) return e;
  if (name.empty()) return missing_param(at + ".name");
  if (!offers(out, name)) return not_offered(param, name);
  out.tool_choice = tool_choice_mode::named;
  out.tool_choice_name = std::move(name);
  return std::nullopt;
}

maybe_error read_call(const object& call, const std::string& at, tool_call& out) {
  if (maybe_error e = read_string(call, "id", at + ".id", out.id)) return e;
  std::string type = "function";
  if (maybe_error e = read_string(call, "type", at + ".type", type)) return e;
  if (type != "custom") type = "function";
  const value* body = optional_field(call, type);
  if (body == nullptr) return missing_param(at + "." + type);
  const object* b = body->if_object();
  if (b == nullptr) return invalid_type(at + "." + type, "an object", *body);
  const std::string inner = at + "." + type;
  if (maybe_error e = read_string(*b, "name", inner + ".name", out.name)) return e;
  if (type == "custom") {
    out.kind = tool_kind::custom;
    return read_string(*b, "input", inner + ".input", out.arguments);
  }
  return read_string(*b, "arguments", inner + ".arguments", out.arguments);
}

}  // namespace

std::optional<api_error> read_openai_tools(const object& body, chat_request& out) {
  if (maybe_error e = read_tool_list(body, "tools", out)) return e;
  const std::size_t before_functions = out.tools.size();
  if (maybe_error e = read_tool_list(body, "functions", out)) return e;
  if (before_functions == 0 && !out.tools.empty()) {
    out.legacy_functions = true;
    out.parallel_tool_calls = false;  // a function_call answer holds one call
  }
  if (maybe_error e = read_choice(body, "function_call", out)) return e;
  if (maybe_error e = read_choice(body, "tool_choice", out)) return e;
  std::optional<bool> parallel;
  if (maybe_error e = read_bool(body, "parallel_tool_calls", "parallel_tool_calls", parallel)) {
    return e;
  }
  out.parallel_tool_calls = parallel.value_or(!out.legacy_functions);
  return std::nullopt;
}

std::optional<api_error> read_openai_tool_calls(const object& message, const std::string& at,
                                                chat_message& out) {
  if (const value* legacy = optional_field(message, "function_call")) {
    if (!legacy->is_object()) return invalid_type(at + ".function_call", "an object", *legacy);
    tool_call call;
    const object& f = legacy->as_object();
    if (maybe_error e = read_string(f, "name", at + ".function_call.name", call.name)) return e;
    if (maybe_error e =
            read_string(f, "arguments", at + ".function_call.arguments", call.arguments)) {
      return e;
    }
    out.tool_calls.push_back(std::move(call));
  }
  const value* v = optional_field(message, "tool_calls");
  if (v == nullptr) return std::nullopt;
  const std::string param = at + ".tool_calls";
  const array* calls = v->if_array();
  if (calls == nullptr) return invalid_type(param, "an array", *v);
  for (std::size_t k = 0; k < calls->size(); ++k) {
    const std::string call_at = element_param(param, k);
    const object* call = (*calls)[k].if_object();
    if (call == nullptr) return invalid_type(call_at, "an object", (*calls)[k]);
    tool_call tc;
    if (maybe_error e = read_call(*call, call_at, tc)) return e;
    out.tool_calls.push_back(std::move(tc));
  }
  return std::nullopt;
}

std::optional<api_error> bind_tool_results(chat_request& out) {
  std::vector<const tool_call*> made;  // calls of the assistant turns read so far
  for (std::size_t i = 0; i < out.messages.size(); ++i) {
    chat_message& m = out.messages[i];
    for (const tool_call& call : m.tool_calls) made.push_back(&call);
    if (m.role != message_role::tool) continue;
    if (m.tool_call_id.empty()) {  // the legacy `function` role names its function instead
      m.tool_name = m.name;
      continue;
    }
    const auto call = std::find_if(made.begin(), made.end(),
                                   [&](const tool_call* c) { return c->id == m.tool_call_id; });
    const std::string param = element_param("messages", i) + ".tool_call_id";
    if (call == made.end()) {
      return invalid_value(
          param, "no earlier assistant message has a tool call with id '" + m.tool_call_id + "'.");
    }
    m.tool_name = (*call)->name;
  }
  return std::nullopt;
}

}  // namespace zai
