// The assistant message exactly as chat.z.ai's web frontend keeps it: one string that every
// event mutates — `delta_content` appends, `edit_content` cuts at `edit_index` (UTF-16 code
// units, clamped like JavaScript's substring) and appends, `content` replaces (reference §4.3).
// Held as UTF-8 and bounded. It also remembers how much of its front is unchanged since the
// last look, so the derivation of reasoning and answer can resume instead of starting over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/zai/event.hpp"

namespace zai {

class message_text {
 public:
  explicit message_text(std::size_t max_bytes);

  // Applies one mutation. Returns false, leaving the text as it was, if the result would be
  // longer than the bound.
  bool apply(text_mutation mutation, std::string_view text, std::uint64_t edit_index);

  const std::string& text() const { return text_; }

  // Bytes at the front that no mutation has touched since the previous call (edits that
  // rewrite a region with identical bytes do not count as touching it); resets the count.
  std::size_t take_unchanged_prefix();

 private:
  std::size_t max_bytes_;
  std::string text_;
  std::size_t unchanged_prefix_ = 0;
};

}  // namespace zai
