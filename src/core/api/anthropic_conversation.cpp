// The conversation of a Messages body (`messages`) read into chat messages (anthropic_body.hpp).
#include <algorithm>

#include "core/api/anthropic_body.hpp"

namespace zai::anthropic {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

class conversation_reader {
 public:
  explicit conversation_reader(conversation out) : out_(out) {}

  maybe_error read_messages(const value& v);

 private:
  maybe_error read_message(const value& v, const place& at);
  maybe_error read_block(const tagged& block, const place& at, chat_message& current);
  static maybe_error read_tool_use(const object& block, const place& at, chat_message& current);
  maybe_error read_tool_result(const object& block, const place& at);
  maybe_error read_result_content(const value& v, const place& at, std::string& text);

  conversation out_;
};

maybe_error conversation_reader::read_messages(const value& v) {
  auto list = as_list(v, {"messages"});
  if (!list) return list.error();
  if ((*list)->empty()) return refuse({"messages"}, "at least one message is required");
  for (std::size_t i = 0; i < (*list)->size(); ++i) {
    if (maybe_error e = read_message((**list)[i], place{"messages"}[i])) return e;
  }
  // Only turns that say something were kept; instructions alone are no conversation.
  const bool any = std::any_of(out_.messages.begin(), out_.messages.end(),
                               [](const auto& m) { return m.role != message_role::system; });
  if (!any) {
    return refuse({"messages"}, "at least one user or assistant message must have content");
  }
  return std::nullopt;
}

// A `role: "system"` message may sit in the middle of `messages`: Claude Code sends one with the
// environment, and Anthropic accepts it.
maybe_error conversation_reader::read_message(const value& v, const place& at) {
  auto m = as_object(v, at);
  if (!m) return m.error();
  auto role_name = text_member(**m, "role", at / "role");
  if (!role_name) return role_name.error();
  chat_message current;
  if (*role_name == "user") {
    current.role = message_role::user;
  } else if (*role_name == "assistant") {
    current.role = message_role::assistant;
  } else if (*role_name == "system") {
    current.role = message_role::system;
  } else {
    return refuse(at / "role", "Input should be 'user', 'assistant' or 'system'");
  }
  const value* content = member(**m, "content");
  if (content == nullptr) return missing(at / "content");
  if (const boost::json::string* s = content->if_string()) {
    current.text = std::string(*s);
  } else if (const array* blocks = content->if_array()) {
    for (std::size_t j = 0; j < blocks->size(); ++j) {
      const place block_at = (at / "content")[j];
      auto block = as_tagged((*blocks)[j], block_at);
      if (!block) return block.error();
      if (maybe_error e = read_block(*block, block_at, current)) return e;
    }
  } else {
    return refuse(at / "content", "Input should be a valid string or a list of blocks");
  }
  // A turn that says nothing is left out: an assistant turn that only thought, a user turn whose
  // tool results have become tool messages, an empty text.
  if (!current.text.empty() || !current.tool_calls.empty()) {
    out_.messages.push_back(std::move(current));
  }
  return std::nullopt;
}

maybe_error conversation_reader::read_block(const tagged& tagged_block, const place& at,
                                            chat_message& current) {
  const object& block = *tagged_block.fields;
  const message_role role = current.role;
  const std::string kind(tagged_block.type);
  if (kind == "text") {
    auto text = text_member(block, "text", at / "text");
    if (!text) return text.error();
    append_line(current.text, *text);
    return std::nullopt;
  }
  if (kind == "image" || kind == "document") {
    // Z.AI takes files only as uploads, which this proxy does not make; dropping the block would
    // let the model answer about something it never saw.
    return refuse(at, "content blocks of type '" + kind +
                          "' are not supported by this proxy; send text only");
  }
  if (kind == "tool_use" || kind == "thinking" || kind == "redacted_thinking") {
    if (role != message_role::assistant) {
      return refuse(at, "'" + kind + "' blocks are only allowed in assistant messages");
    }
    // Replayed reasoning is dropped: the upstream must not read it as part of the answer.
    return kind == "tool_use" ? read_tool_use(block, at, current) : std::nullopt;
  }
  if (kind == "tool_result") {
    if (role != message_role::user) {
      return refuse(at, "'tool_result' blocks are only allowed in user messages");
    }
    // The results become tool messages between the user's texts, in the order given.
    if (!current.text.empty()) {
      out_.messages.push_back(std::move(current));
      current = chat_message();
      current.role = role;
    }
    return read_tool_result(block, at);
  }
  return unknown_tag(at, kind,
                     "'text', 'image', 'document', 'tool_use', 'tool_result', 'thinking', "
                     "'redacted_thinking'");
}

maybe_error conversation_reader::read_tool_use(const object& block, const place& at,
                                               chat_message& current) {
  auto id = text_member(block, "id", at / "id");
  if (!id) return id.error();
  auto name = text_member(block, "name", at / "name");
  if (!name) return name.error();
  const value* input = member(block, "input");
  if (input == nullptr) return missing(at / "input");
  if (!input->is_object()) return refuse(at / "input", "Input should be a valid dictionary");
  current.tool_calls.push_back(
      {std::string(*id), std::string(*name), boost::json::serialize(*input)});
  return std::nullopt;
}

maybe_error conversation_reader::read_tool_result(const object& block, const place& at) {
  auto id = text_member(block, "tool_use_id", at / "tool_use_id");
  if (!id) return id.error();
  const tool_call* call = nullptr;
  for (const chat_message& m : out_.messages) {
    for (const tool_call& c : m.tool_calls) {
      if (c.id == *id) call = &c;
    }
  }
  if (call == nullptr) {
    return refuse(at / "tool_use_id",
                  "unexpected `tool_use_id` found in `tool_result` blocks: " + std::string(*id) +
                      ". Each `tool_result` block must have a corresponding `tool_use` block in "
                      "an earlier assistant message.");
  }
  chat_message result;
  result.role = message_role::tool;
  result.tool_call_id = std::string(*id);
  result.tool_name = call->name;
  if (maybe_error e = read_flag(block, "is_error", at / "is_error", result.is_error)) return e;
  if (const value* content = member(block, "content")) {
    if (maybe_error e = read_result_content(*content, at / "content", result.text)) return e;
  }
  out_.messages.push_back(std::move(result));
  return std::nullopt;
}

// A tool's output: a string, or blocks. A picture here (Claude Code's Read on an image file)
// becomes a note rather than a 400: the conversation keeps it in every later request, so a 400
// would end the session, while the note lets the model say it could not see the picture.
maybe_error conversation_reader::read_result_content(const value& v, const place& at,
                                                     std::string& text) {
  if (const boost::json::string* s = v.if_string()) {
    text = std::string(*s);
    return std::nullopt;
  }
  auto blocks = as_list(v, at);
  if (!blocks) return blocks.error();
  for (std::size_t i = 0; i < (*blocks)->size(); ++i) {
    auto block = as_tagged((**blocks)[i], at[i]);
    if (!block) return block.error();
    const std::string_view type = block->type;
    if (type == "text") {
      auto part = text_member(*block->fields, "text", at[i] / "text");
      if (!part) return part.error();
      append_line(text, *part);
    } else if (type == "tool_reference") {
      auto name = text_member(*block->fields, "tool_name", at[i] / "tool_name");
      if (!name) return name.error();
      out_.loaded_tools.emplace_back(*name);
      append_line(text, "Tool loaded: " + std::string(*name));
    } else if (type == "image" || type == "document") {
      std::string note = "[";
      note += type;
      note += " omitted: this proxy passes on text only]";
      append_line(text, note);
    } else {
      return unknown_tag(at[i], type, "'text', 'image', 'document', 'tool_reference'");
    }
  }
  return std::nullopt;
}

}  // namespace

maybe_error read_conversation(const value& messages, conversation out) {
  return conversation_reader(out).read_messages(messages);
}

}  // namespace zai::anthropic
