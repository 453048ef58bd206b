// The tags of tool-call markup, recognised the way a model actually writes them. The contract
// (tool_prompt.hpp) and GLM's trained syntax share one shape —
//   <tool_call nonce="…">NAME
//   <arg_key>K</arg_key>
//   <arg_value>V</arg_value>
//   </tool_call>
// — and models drift from it: brackets miscounted (`<<tool_call>>`, `<tool_call>>`,
// `<|tool_call|>`), names re-spelt (`<TOOL_CALL>`, `<tool-call>`, `<toolcall>`, `<tool_calls>`,
// `<function_call>`, `<tool_use>`, `<arg-key>`, `<argument_value>`, and the older
// `<<<TOOL_CALL>>> … <<<END_TOOL_CALL>>>` envelope). A tag is recognised when its
// name, lowered and stripped of `_` and `-`, is one of a short list of spellings; nothing fuzzier,
// so ordinary HTML and XML in an answer stay text.
//
// The lexer also says when it cannot tell yet (`maybe`): the text ends inside what may still
// become a wanted tag. That is the only reason the parser ever holds text back, so the test is as
// tight as it can be: `<t` may become `<tool_call>`, `<ta` cannot.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace zai::tools {

enum class tag { call_open, call_close, key_open, key_close, value_open, value_close };

// The tags a parser state is waiting for.
class tag_set {
 public:
  constexpr tag_set() = default;
  constexpr tag_set(std::initializer_list<tag> tags) {
    for (tag t : tags) bits_ |= bit(t);
  }
  constexpr bool has(tag t) const { return (bits_ & bit(t)) != 0; }

 private:
  static constexpr unsigned bit(tag t) { return 1u << static_cast<unsigned>(t); }
  unsigned bits_ = 0;
};

struct tag_match {
  enum class verdict {
    no,     // not a wanted tag: the '<' is text
    maybe,  // the text ends before it can be told
    yes,    // a wanted tag, `length` bytes long
  } is = verdict::no;
  tag what = tag::call_open;
  std::size_t length = 0;
  std::optional<std::string> nonce;  // call_open: its nonce attribute, when it has one
  std::string name;                  // call_open: a name="…" attribute (a drift form)
};

// `text` starts with '<'. At the end of the answer (`at_end`) nothing is `maybe` any more.
tag_match match_tag(std::string_view text, tag_set wanted, bool at_end);

}  // namespace zai::tools
