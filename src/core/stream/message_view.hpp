// What an OpenAI client sees of a Z.AI message: its reasoning and its answer, derived from the
// frontend's markup (reference §4.4, §4.6, §4.7). `<details type="reasoning">` blocks become
// reasoning, with `<summary>` removed and `> ` quoting undone; `<glm_block>` tool blocks are
// hidden; citation markers `【turn0search0】` become `[[n]](url)` links when an earlier search
// block knows the reference, and vanish otherwise. Because edits may still rewrite the end of the
// message, a non-final view leaves out what is not yet certain: the last few characters, a
// partial tag or citation, and unclosed summaries. Whitespace rules: reasoning blocks and answer
// pieces (the text between removed blocks) are trimmed at both ends and joined by one blank line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/zai/markup.hpp"

namespace zai {

enum class channel { reasoning = 0, content = 1 };

// The derived texts interleave in the order the message holds them: reasoning, answer, more
// reasoning after a tool call… A run says that the channel's text up to `end` comes next.
struct channel_run {
  channel which = channel::content;
  std::size_t end = 0;
};

class message_view {
 public:
  explicit message_view(std::size_t hold_back_chars);

  // Derives the view of `text`. Its first `unchanged_prefix` bytes must equal those of the
  // previous call's text; the view then resumes after the last complete block before them.
  // `final`: the message will not change again, so everything, including held-back text,
  // unclosed reasoning and partial markup (as literal text), is released.
  void update(std::string_view text, std::size_t unchanged_prefix, bool final);

  const std::string& text(channel which) const { return texts_[static_cast<int>(which)]; }
  const std::string& reasoning() const { return text(channel::reasoning); }
  const std::string& content() const { return text(channel::content); }
  const std::vector<channel_run>& runs() const { return runs_; }

  // Bytes at the front of the channel's text that the last update() kept from the one before.
  std::size_t kept(channel which) const { return kept_[static_cast<int>(which)]; }

 private:
  // Where the scan over the message stands.
  enum class segment {
    answer,               // at the start of an answer piece (message start or after a block)
    answer_continued,     // inside an answer piece that already has visible text
    reasoning_continued,  // inside a reasoning block's body that already has visible text
  };

  // The derivation state at a point where scanning can resume: what precedes it is final
  // unless the message text before it changes. Resuming makes each event cost about its own
  // size rather than the message's.
  struct checkpoint {
    std::size_t source_pos = 0;
    segment at = segment::answer;
    std::size_t sizes[2] = {0, 0};
    std::size_t runs = 0;
    std::size_t citations = 0;
  };

  void restore(const checkpoint& at);
  void save(std::size_t source_pos, segment at);
  void add(channel which, std::string_view piece, bool continued);
  void add_answer(std::string_view piece, bool uncertain_end, bool continued);
  void add_reasoning(std::string_view body, bool uncertain_end, bool continued);
  void trailing_answer(std::string_view text, std::size_t pos, std::size_t end, bool final,
                       bool continued);
  std::size_t reasoning_block(std::string_view text, std::size_t body, std::size_t cut, bool final,
                              bool continued);

  std::size_t hold_back_chars_;
  std::string texts_[2];
  std::vector<channel_run> runs_;
  std::vector<markup::citation> citations_;
  checkpoint after_block_;  // after the last complete block
  checkpoint split_;        // at a safe split in the open piece at the end, else = after_block_
  std::size_t kept_[2] = {0, 0};
};

}  // namespace zai
