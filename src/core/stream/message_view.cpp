#include "core/stream/message_view.hpp"

#include "core/stream/utf16.hpp"

namespace zai {

using markup::block;

message_view::message_view(std::size_t hold_back_chars) : hold_back_chars_(hold_back_chars) {}

void message_view::update(std::string_view text, std::size_t unchanged_prefix, bool final) {
  const std::size_t cut = final ? text.size() : utf8_offset_of_last_chars(text, hold_back_chars_);
  // A split inside the open piece only holds while its text is still before the held-back
  // tail (a tail edit can shorten the message); a complete block holds while it is unchanged.
  if (split_.source_pos > unchanged_prefix || split_.source_pos > cut) split_ = after_block_;
  if (split_.source_pos > unchanged_prefix) split_ = after_block_ = {};
  restore(split_);
  std::size_t pos = split_.source_pos;
  segment at = split_.at;
  for (;;) {
    switch (at) {
      case segment::reasoning_continued:
        pos = reasoning_block(text, pos, cut, final, true);
        if (pos == std::string_view::npos) return;
        at = segment::answer;
        break;
      case segment::answer:
      case segment::answer_continued: {
        const bool continued = at == segment::answer_continued;
        const markup::block_start next = markup::find_block(text, pos);
        switch (next.what) {
          case block::none:
            trailing_answer(text, pos, std::max(cut, pos), final, continued);
            return;
          case block::pending:
            trailing_answer(text, pos, final ? text.size() : std::max(pos, std::min(cut, next.at)),
                            final, continued);
            return;
          case block::reasoning:
            add_answer(text.substr(pos, next.at - pos), false, continued);
            pos = reasoning_block(text, next.body, cut, final, false);
            if (pos == std::string_view::npos) return;
            break;
          case block::tool: {
            add_answer(text.substr(pos, next.at - pos), false, continued);
            const std::size_t close = text.find(markup::tool_close, next.at);
            if (close == std::string_view::npos) return;  // still being written: hidden
            if (next.body <= close) {
              markup::collect_citations(text.substr(next.body, close - next.body), citations_);
            }
            pos = close + markup::tool_close.size();
            save(pos, segment::answer);
            break;
          }
        }
        at = segment::answer;
        break;
      }
    }
  }
}

// The answer piece that ends the message, up to `end`; split at a resume point if it has one.
void message_view::trailing_answer(std::string_view text, std::size_t pos, std::size_t end,
                                   bool final, bool continued) {
  if (!final) {
    const std::size_t split = markup::answer_split(text, pos, end);
    if (split != std::string_view::npos) {
      add_answer(text.substr(pos, split - pos), false, continued);
      save(split, segment::answer_continued);
      pos = split;
      continued = true;
    }
  }
  add_answer(text.substr(pos, end - pos), !final, continued);
}

// A reasoning block whose body starts (or resumes) at `body`. Returns the position after its
// `</details>`, or npos if it is still open at the end of the message.
std::size_t message_view::reasoning_block(std::string_view text, std::size_t body, std::size_t cut,
                                          bool final, bool continued) {
  const std::size_t close = text.find(markup::details_close, body);
  if (close != std::string_view::npos) {
    add_reasoning(text.substr(body, close - body), false, continued);
    const std::size_t after = close + markup::details_close.size();
    save(after, segment::answer);
    return after;
  }
  const std::size_t end = final ? text.size() : std::max(body, cut);
  if (!final) {
    const std::size_t split = markup::reasoning_split(text, body, end, !continued);
    if (split != std::string_view::npos) {
      add_reasoning(text.substr(body, split - body), false, continued);
      save(split, segment::reasoning_continued);
      body = split;
      continued = true;
    }
  }
  add_reasoning(text.substr(body, end - body), !final, continued);
  return std::string_view::npos;
}

void message_view::restore(const checkpoint& at) {
  for (int c = 0; c < 2; ++c) {
    texts_[c].resize(at.sizes[c]);
    kept_[c] = at.sizes[c];
  }
  runs_.resize(at.runs);
  if (!runs_.empty()) runs_.back().end = at.sizes[static_cast<int>(runs_.back().which)];
  citations_.resize(at.citations);
}

void message_view::save(std::size_t source_pos, segment at) {
  split_.source_pos = source_pos;
  split_.at = at;
  for (int c = 0; c < 2; ++c) split_.sizes[c] = texts_[c].size();
  split_.runs = runs_.size();
  split_.citations = citations_.size();
  if (at == segment::answer) after_block_ = split_;
}

// Pieces of one channel are joined by a blank line; a continued piece just grows.
void message_view::add(channel which, std::string_view piece, bool continued) {
  if (piece.empty()) return;
  std::string& out = texts_[static_cast<int>(which)];
  if (!continued && !out.empty()) out += "\n\n";
  out.append(piece);
  if (runs_.empty() || runs_.back().which != which) runs_.push_back({which, 0});
  runs_.back().end = out.size();
}

void message_view::add_answer(std::string_view piece, bool uncertain_end, bool continued) {
  const std::string cleaned = markup::clean_answer(piece, citations_, uncertain_end);
  add(channel::content, continued ? markup::trim_end(cleaned) : markup::trim(cleaned), continued);
}

void message_view::add_reasoning(std::string_view body, bool uncertain_end, bool continued) {
  const std::string cleaned = markup::clean_reasoning(body, uncertain_end, !continued);
  add(channel::reasoning, continued ? markup::trim_end(cleaned) : markup::trim(cleaned), continued);
}

}  // namespace zai
