// Reading a Messages body into the neutral chat_request (anthropic_messages.hpp): the top-level
// fields here, the conversation in anthropic_conversation.cpp, the shared readers and Anthropic's
// error wording in anthropic_body.hpp.
#include <algorithm>

#include "core/api/anthropic_body.hpp"
#include "core/api/anthropic_messages.hpp"

namespace zai {
namespace {

using namespace anthropic;
using boost::json::array;
using boost::json::object;
using boost::json::value;

// Claude Code opens `system` with an attribution block for Anthropic's billing; it is metadata,
// not an instruction, and only costs the model's attention.
constexpr std::string_view billing_header = "x-anthropic-billing-header:";

class request_reader {
 public:
  explicit request_reader(bool needs_max_tokens) : needs_max_tokens_(needs_max_tokens) {}

  maybe_error read(const object& body) {
    for (auto step : {&request_reader::read_model, &request_reader::read_limits,
                      &request_reader::read_thinking, &request_reader::read_tools,
                      &request_reader::read_tool_choice, &request_reader::read_system,
                      &request_reader::read_messages}) {
      if (maybe_error e = (this->*step)(body)) return e;
    }
    show_loaded_tools();
    return std::nullopt;
  }

  chat_request take() { return std::move(out_); }

 private:
  maybe_error read_model(const object& body) {
    auto model = text_member(body, "model", {"model"});
    if (!model) return model.error();
    if (model->empty()) return refuse({"model"}, "String should have at least 1 character");
    out_.model = std::string(*model);
    return std::nullopt;
  }

  maybe_error read_limits(const object& body) {
    auto max_tokens = count_member(body, "max_tokens", {"max_tokens"}, 1);
    if (!max_tokens) return max_tokens.error();
    if (!*max_tokens && needs_max_tokens_) return missing({"max_tokens"});
    out_.max_tokens = *max_tokens;
    if (maybe_error e = read_fraction(body, "temperature", out_.temperature)) return e;
    if (maybe_error e = read_fraction(body, "top_p", out_.top_p)) return e;
    if (maybe_error e = read_flag(body, "stream", {"stream"}, out_.stream)) return e;
    const value* stops = member(body, "stop_sequences");
    if (stops == nullptr) return std::nullopt;
    auto list = as_list(*stops, {"stop_sequences"});
    if (!list) return list.error();
    for (std::size_t i = 0; i < (*list)->size(); ++i) {
      const boost::json::string* s = (**list)[i].if_string();
      if (s == nullptr) return refuse(place{"stop_sequences"}[i], "Input should be a valid string");
      out_.stop.emplace_back(*s);
    }
    return std::nullopt;
  }

  // enabled (with its budget) and adaptive turn thinking on; disabled, or no `thinking`, off:
  // Anthropic's models think only when asked.
  maybe_error read_thinking(const object& body) {
    out_.enable_thinking = false;
    const value* v = member(body, "thinking");
    if (v == nullptr) return std::nullopt;
    const place at{"thinking"};
    auto thinking = as_tagged(*v, at);
    if (!thinking) return thinking.error();
    if (thinking->type == "enabled") {
      auto budget = count_member(*thinking->fields, "budget_tokens", at / "budget_tokens", 1024);
      if (!budget) return budget.error();
      if (!*budget) return missing(at / "budget_tokens");
    } else if (thinking->type != "adaptive" && thinking->type != "disabled") {
      return unknown_tag(at, thinking->type, "'enabled', 'adaptive', 'disabled'");
    }
    out_.enable_thinking = thinking->type != "disabled";
    return std::nullopt;
  }

  // Client tools only: an entry with a `type` (web_search_20250305, bash_20250124, …) is one of
  // Anthropic's server tools, which this proxy cannot run. A `defer_loading` tool is held back,
  // as Anthropic's tool search does: the model sees it once a tool_result's `tool_reference`
  // loaded it (Claude Code's ToolSearch) or tool_choice names it. Claude Code's
  // DeferredToolPlaceholder is such a tool, never meant to be called.
  maybe_error read_tools(const object& body) {
    const value* v = member(body, "tools");
    if (v == nullptr) return std::nullopt;
    auto list = as_list(*v, {"tools"});
    if (!list) return list.error();
    for (std::size_t i = 0; i < (*list)->size(); ++i) {
      const place at = place{"tools"}[i];
      auto tool = as_object((**list)[i], at);
      if (!tool) return tool.error();
      const value* type = member(**tool, "type");
      if (type != nullptr && !(type->is_string() && type->get_string() == "custom")) continue;
      if (maybe_error e = read_tool(**tool, at)) return e;
    }
    return std::nullopt;
  }

  maybe_error read_tool(const object& tool, const place& at) {
    tool_definition t;
    auto name = text_member(tool, "name", at / "name");
    if (!name) return name.error();
    if (name->empty()) return refuse(at / "name", "String should have at least 1 character");
    if (declared(*name) != nullptr) return refuse(at / "name", "Tool names must be unique.");
    t.name = std::string(*name);
    if (member(tool, "description") != nullptr) {
      auto description = text_member(tool, "description", at / "description");
      if (!description) return description.error();
      t.description = std::string(*description);
    }
    const value* schema = member(tool, "input_schema");
    if (schema == nullptr) return missing(at / "input_schema");
    auto schema_object = as_object(*schema, at / "input_schema");
    if (!schema_object) return schema_object.error();
    t.parameters = boost::json::serialize(**schema_object);
    const value* deferred = member(tool, "defer_loading");
    const bool defer = deferred != nullptr && deferred->is_bool() && deferred->get_bool();
    (defer ? deferred_ : out_.tools).push_back(std::move(t));
    return std::nullopt;
  }

  const tool_definition* declared(std::string_view name) const {
    for (const auto* list : {&out_.tools, &deferred_}) {
      for (const tool_definition& t : *list) {
        if (t.name == name) return &t;
      }
    }
    return nullptr;
  }

  maybe_error read_tool_choice(const object& body) {
    const value* v = member(body, "tool_choice");
    if (v == nullptr) return std::nullopt;
    const place at{"tool_choice"};
    auto choice = as_tagged(*v, at);
    if (!choice) return choice.error();
    const std::string_view type = choice->type;
    if (type == "auto") {
      out_.tool_choice = tool_choice_mode::automatic;
    } else if (type == "any") {
      out_.tool_choice = tool_choice_mode::required;
    } else if (type == "none") {
      out_.tool_choice = tool_choice_mode::none;
    } else if (type == "tool") {
      auto name = text_member(*choice->fields, "name", at / "name");
      if (!name) return name.error();
      if (declared(*name) == nullptr) {
        return refuse(at / "name", "Tool '" + std::string(*name) + "' not found in 'tools'.");
      }
      out_.tool_choice = tool_choice_mode::named;
      out_.tool_choice_name = std::string(*name);
      loaded_.push_back(out_.tool_choice_name);
    } else {
      return unknown_tag(at, type, "'auto', 'any', 'tool', 'none'");
    }
    bool single = false;
    if (maybe_error e = read_flag(*choice->fields, "disable_parallel_tool_use",
                                  at / "disable_parallel_tool_use", single)) {
      return e;
    }
    out_.parallel_tool_calls = !single;
    return std::nullopt;
  }

  maybe_error read_system(const object& body) {
    const value* v = member(body, "system");
    if (v == nullptr) return std::nullopt;
    chat_message system;
    system.role = message_role::system;
    if (maybe_error e = read_text_blocks(*v, {"system"}, system.text)) return e;
    if (!system.text.empty()) out_.messages.push_back(std::move(system));
    return std::nullopt;
  }

  // A string, or a list of text blocks (cache_control and citations ignored).
  static maybe_error read_text_blocks(const value& v, const place& at, std::string& text) {
    if (const boost::json::string* s = v.if_string()) {
      text = std::string(*s);
      return std::nullopt;
    }
    const array* blocks = v.if_array();
    if (blocks == nullptr) return refuse(at, "Input should be a valid string or a list of blocks");
    for (std::size_t i = 0; i < blocks->size(); ++i) {
      auto block = as_tagged((*blocks)[i], at[i]);
      if (!block) return block.error();
      if (block->type != "text") return unknown_tag(at[i], block->type, "'text'");
      auto part = text_member(*block->fields, "text", at[i] / "text");
      if (!part) return part.error();
      if (!part->starts_with(billing_header)) append_line(text, *part);
    }
    return std::nullopt;
  }

  maybe_error read_messages(const object& body) {
    const value* v = member(body, "messages");
    if (v == nullptr) return missing({"messages"});
    return read_conversation(*v, {out_.messages, loaded_});
  }

  void show_loaded_tools() {
    for (tool_definition& t : deferred_) {
      if (std::find(loaded_.begin(), loaded_.end(), t.name) != loaded_.end()) {
        out_.tools.push_back(std::move(t));
      }
    }
  }

  chat_request out_;
  bool needs_max_tokens_;
  std::vector<tool_definition> deferred_;  // defer_loading tools not (yet) shown
  std::vector<std::string> loaded_;        // names tool_reference blocks or tool_choice loaded
};

result<chat_request> parse_body(std::string_view body, bool needs_max_tokens) {
  boost::system::error_code ec;
  const value parsed = boost::json::parse(body, ec);
  if (ec) {
    return make_error(errc::invalid_json,
                      "The request body is not valid JSON (" + ec.message() + ").");
  }
  const object* root = parsed.if_object();
  if (root == nullptr) {
    return make_error(errc::invalid_request, "The request body must be a JSON object.");
  }
  request_reader reader(needs_max_tokens);
  if (maybe_error e = reader.read(*root)) return std::move(*e);
  return reader.take();
}

}  // namespace

result<chat_request> parse_messages_request(std::string_view body) {
  return parse_body(body, true);
}

result<chat_request> parse_count_tokens_request(std::string_view body) {
  return parse_body(body, false);
}

}  // namespace zai