// The Responses API's `input` items → neutral chat messages (see openai_responses_request.hpp).
#include <algorithm>
#include <array>
#include <map>

#include "core/api/openai_responses_request.hpp"

namespace zai {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

constexpr std::array<std::pair<std::string_view, message_role>, 4> roles{{
    {"user", message_role::user},
    {"assistant", message_role::assistant},
    {"system", message_role::system},
    {"developer", message_role::developer},
}};

// History of tools that run on OpenAI's side (or were Codex's own before it used functions):
// a client replaying a conversation from elsewhere may carry them, and this proxy has nothing to
// replay them with. Dropped like reasoning, never a 400.
constexpr std::string_view dropped_items[] = {
    "reasoning",         "compaction",           "web_search_call",
    "file_search_call",  "computer_call",        "computer_call_output",
    "code_interpreter_call", "image_generation_call", "local_shell_call",
    "local_shell_call_output", "shell_call",     "shell_call_output",
    "apply_patch_call",  "apply_patch_call_output", "mcp_list_tools",
    "mcp_approval_request", "mcp_approval_response", "mcp_call",
    "tool_search_call",  "tool_search_output",
};

struct known_call {
  std::string name;
  tool_kind kind = tool_kind::function;
};

class input_reader {
 public:
  explicit input_reader(std::vector<chat_message>& messages) : messages_(messages) {
    // A replayed conversation's calls may be answered by this input's outputs.
    for (const chat_message& m : messages_) {
      for (const tool_call& c : m.tool_calls) calls_[c.id] = known_call{c.name, c.kind};
    }
  }

  maybe_error read(const array& items) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (maybe_error e = read_item(items[i], element_param("input", i))) return e;
    }
    return std::nullopt;
  }

 private:
  maybe_error read_item(const value& v, const std::string& at) {
    const object* item = v.if_object();
    if (item == nullptr) return invalid_type(at, "an object", v);
    std::string type;
    if (maybe_error e = read_string(*item, "type", at + ".type", type)) return e;
    // `{role, content}` without a type is the short form of a message.
    if (type.empty() && item->contains("role")) type = "message";
    if (type.empty()) return missing_param(at + ".type");

    if (type == "message") return read_message(*item, at);
    if (type == "function_call") return read_call(*item, at, tool_kind::function);
    if (type == "custom_tool_call") return read_call(*item, at, tool_kind::custom);
    if (type == "function_call_output" || type == "custom_tool_call_output") {
      return read_call_output(*item, at);
    }
    if (std::find(std::begin(dropped_items), std::end(dropped_items), type) !=
        std::end(dropped_items)) {
      return std::nullopt;
    }
    if (type == "item_reference") {
      return make_error(errc::invalid_request,
                        "Items of type 'item_reference' are not supported by this proxy; send the "
                        "item itself, or continue with previous_response_id.",
                        at);
    }
    return unsupported_value(at + ".type", type,
                             {"message", "function_call", "function_call_output",
                              "custom_tool_call", "custom_tool_call_output", "reasoning"});
  }

  maybe_error read_message(const object& item, const std::string& at) {
    chat_message m;
    const value* role = optional_field(item, "role");
    if (role == nullptr) return missing_param(at + ".role");
    const boost::json::string* role_name = role->if_string();
    if (role_name == nullptr) return invalid_type(at + ".role", "a string", *role);
    const auto known = std::find_if(roles.begin(), roles.end(),
                                    [&](const auto& r) { return *role_name == r.first; });
    if (known == roles.end()) {
      return unsupported_value(at + ".role", *role_name,
                               {"user", "assistant", "system", "developer"});
    }
    m.role = known->second;
    const value* content = optional_field(item, "content");
    if (content == nullptr) return missing_param(at + ".content");
    if (maybe_error e = read_text(*content, at + ".content", m.text)) return e;
    messages_.push_back(std::move(m));
    return std::nullopt;
  }

  // A message's content or a tool output: a string, or an array of text parts joined with "\n".
  static maybe_error read_text(const value& v, const std::string& param, std::string& text) {
    if (const boost::json::string* s = v.if_string()) {
      text = std::string(*s);
      return std::nullopt;
    }
    const array* parts = v.if_array();
    if (parts == nullptr) return invalid_type(param, "a string or an array of content parts", v);
    for (std::size_t j = 0; j < parts->size(); ++j) {
      if (maybe_error e = read_part((*parts)[j], element_param(param, j), text)) return e;
    }
    return std::nullopt;
  }

  static maybe_error read_part(const value& v, const std::string& at, std::string& text) {
    const object* part = v.if_object();
    if (part == nullptr) return invalid_type(at, "an object", v);
    std::string type;
    if (maybe_error e = read_string(*part, "type", at + ".type", type)) return e;
    if (type.empty()) return missing_param(at + ".type");
    if (type == "input_image" || type == "input_file" || type == "input_audio") {
      // Z.AI takes images and files only as uploads, which this proxy does not do; dropping them
      // would make the model answer about something it never saw.
      return make_error(errc::invalid_request,
                        "Content parts of type '" + type +
                            "' are not supported by this proxy; send text only.",
                        at);
    }
    const std::string key = type == "refusal" ? "refusal" : "text";
    if (type != "input_text" && type != "output_text" && type != "refusal") {
      return unsupported_value(at + ".type", type, {"input_text", "output_text", "refusal"});
    }
    const value* t = optional_field(*part, key);
    if (t == nullptr) return missing_param(at + "." + key);
    const boost::json::string* s = t->if_string();
    if (s == nullptr) return invalid_type(at + "." + key, "a string", *t);
    if (!text.empty()) text += '\n';
    text.append(s->data(), s->size());
    return std::nullopt;
  }

  static maybe_error read_required_string(const object& item, std::string_view key,
                                          const std::string& at, std::string& out) {
    const std::string param = at + "." + std::string(key);
    if (optional_field(item, key) == nullptr) return missing_param(param);
    return read_string(item, key, param, out);
  }

  maybe_error read_call(const object& item, const std::string& at, tool_kind kind) {
    tool_call call;
    call.kind = kind;
    if (maybe_error e = read_required_string(item, "call_id", at, call.id)) return e;
    if (maybe_error e = read_required_string(item, "name", at, call.name)) return e;
    const std::string_view body = kind == tool_kind::function ? "arguments" : "input";
    if (maybe_error e = read_required_string(item, body, at, call.arguments)) return e;
    calls_[call.id] = known_call{call.name, kind};
    // Consecutive calls (and calls right after the assistant's text) are one assistant turn.
    if (messages_.empty() || messages_.back().role != message_role::assistant) {
      chat_message turn;
      turn.role = message_role::assistant;
      messages_.push_back(std::move(turn));
    }
    messages_.back().tool_calls.push_back(std::move(call));
    return std::nullopt;
  }

  maybe_error read_call_output(const object& item, const std::string& at) {
    chat_message m;
    m.role = message_role::tool;
    if (maybe_error e = read_required_string(item, "call_id", at, m.tool_call_id)) return e;
    const auto call = calls_.find(m.tool_call_id);
    if (call == calls_.end()) {
      return make_error(errc::invalid_request,
                        "No tool call found for function call output with call_id '" +
                            m.tool_call_id + "'.",
                        at + ".call_id");
    }
    m.tool_name = call->second.name;
    const value* output = optional_field(item, "output");
    if (output == nullptr) return missing_param(at + ".output");
    if (maybe_error e = read_text(*output, at + ".output", m.text)) return e;
    messages_.push_back(std::move(m));
    return std::nullopt;
  }

  std::vector<chat_message>& messages_;
  std::map<std::string, known_call, std::less<>> calls_;
};

}  // namespace

maybe_error read_response_input(const array& items, std::vector<chat_message>& messages) {
  return input_reader(messages).read(items);
}

}  // namespace zai
