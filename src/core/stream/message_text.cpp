#include "core/stream/message_text.hpp"

#include <algorithm>

#include "core/stream/utf16.hpp"

namespace zai {
namespace {

std::size_t common_prefix(std::string_view a, std::string_view b) {
  const auto mismatch =
      std::mismatch(a.begin(), a.begin() + std::min(a.size(), b.size()), b.begin());
  return static_cast<std::size_t>(mismatch.first - a.begin());
}

}  // namespace

message_text::message_text(std::size_t max_bytes) : max_bytes_(max_bytes) {}

bool message_text::apply(text_mutation mutation, std::string_view text, std::uint64_t edit_index) {
  switch (mutation) {
    case text_mutation::none:
      return true;
    case text_mutation::append:
      if (text.size() > max_bytes_ - text_.size()) return false;
      unchanged_prefix_ = std::min(unchanged_prefix_, text_.size());
      text_.append(text);
      return true;
    case text_mutation::edit: {
      const std::size_t cut = utf8_offset_of_utf16(
          text_, static_cast<std::size_t>(std::min<std::uint64_t>(edit_index, SIZE_MAX)));
      if (text.size() > max_bytes_ - cut) return false;
      const std::size_t same = common_prefix(std::string_view(text_).substr(cut), text);
      unchanged_prefix_ = std::min(unchanged_prefix_, cut + same);
      text_.resize(cut);
      text_.append(text);
      return true;
    }
    case text_mutation::replace: {
      if (text.size() > max_bytes_) return false;
      unchanged_prefix_ = std::min(unchanged_prefix_, common_prefix(text_, text));
      text_.assign(text);
      return true;
    }
  }
  return true;
}

std::size_t message_text::take_unchanged_prefix() {
  const std::size_t unchanged = std::min(unchanged_prefix_, text_.size());
  unchanged_prefix_ = text_.size();
  return unchanged;
}

}  // namespace zai
