#include "core/message_view.hpp"

#include <boost/json.hpp>

#include "core/utf16.hpp"

namespace zai {
namespace {

constexpr std::string_view details_open = "<details";
constexpr std::string_view details_close = "</details>";
constexpr std::string_view tool_open = "<glm_block";
constexpr std::string_view tool_close = "</glm_block>";
constexpr std::string_view summary_open = "<summary>";
constexpr std::string_view summary_close = "</summary>";
constexpr std::string_view cite_open = "【";
constexpr std::string_view cite_close = "】";
constexpr std::string_view cite_prefix = "turn";  // 【turn0search0】, 【turn1search3†L2】…
constexpr std::size_t max_cite_body = 64;
constexpr std::string_view whitespace = " \t\r\n";

std::string_view trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(whitespace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(whitespace) - first + 1);
}

// `rest` is all that is left of the message and could still grow into `token`.
bool could_become(std::string_view rest, std::string_view token) {
  return rest.size() <= token.size() && token.starts_with(rest);
}

bool tag_name_ends(std::string_view rest, std::size_t at) {
  return rest.size() > at && (rest[at] == ' ' || rest[at] == '>');
}

enum class block { none, pending, reasoning, tool };

struct block_start {
  block what = block::none;
  std::size_t at = std::string_view::npos;    // where the opener begins
  std::size_t body = std::string_view::npos;  // just after the opener's '>' (npos: not yet)
};

// The next reasoning or tool block at or after `pos`. `pending`: the message ends in what may
// become an opener, so the answer before it is not certain yet. A `<details>` that is not
// type="reasoning" is ordinary answer text.
block_start find_block(std::string_view text, std::size_t pos) {
  for (std::size_t i = text.find('<', pos); i != std::string_view::npos;
       i = text.find('<', i + 1)) {
    const std::string_view rest = text.substr(i);
    if (could_become(rest, details_open) || could_become(rest, tool_open)) {
      return {block::pending, i};
    }
    if (rest.starts_with(tool_open) && tag_name_ends(rest, tool_open.size())) {
      const std::size_t gt = text.find('>', i);
      return {block::tool, i, gt == std::string_view::npos ? gt : gt + 1};
    }
    if (rest.starts_with(details_open) && tag_name_ends(rest, details_open.size())) {
      const std::size_t gt = text.find('>', i);
      if (gt == std::string_view::npos) return {block::pending, i};
      if (text.substr(i, gt - i).find("type=\"reasoning\"") != std::string_view::npos) {
        return {block::reasoning, i, gt + 1};
      }
    }
  }
  return {};
}

// The length of a citation body (between 【 and 】) at the start of `after_open`, or npos if
// what follows is not a complete citation.
std::size_t citation_body_length(std::string_view after_open) {
  const std::size_t close =
      after_open.substr(0, max_cite_body + cite_close.size()).find(cite_close);
  if (close == std::string_view::npos || close > max_cite_body) return std::string_view::npos;
  const std::string_view body = after_open.substr(0, close);
  if (!body.starts_with(cite_prefix) || body.find('\n') != std::string_view::npos ||
      body.find(cite_open) != std::string_view::npos) {
    return std::string_view::npos;
  }
  return close;
}

// `rest` (after 【, to the end of the known text) may still become a citation.
bool could_become_citation(std::string_view rest) {
  if (rest.size() > max_cite_body) return false;
  if (rest.find('\n') != std::string_view::npos || rest.find(cite_open) != std::string_view::npos ||
      rest.find(cite_close) != std::string_view::npos) {
    return false;
  }
  return rest.size() < cite_prefix.size() ? cite_prefix.starts_with(rest)
                                          : rest.starts_with(cite_prefix);
}

std::string_view ref_id_of(std::string_view body) {
  std::size_t n = 0;
  const auto is_ref_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  while (n < body.size() && is_ref_char(body[n])) ++n;
  return body.substr(0, n);
}

// Answer text with citation markers rewritten (known) or removed (unknown). With an uncertain
// end, a marker that may still be arriving is left out.
std::string clean_answer(std::string_view piece, const std::vector<message_view::citation>& known,
                         bool uncertain_end) {
  std::string out;
  std::size_t pos = 0;
  for (std::size_t open = piece.find(cite_open); open != std::string_view::npos;
       open = piece.find(cite_open, pos)) {
    out.append(piece.substr(pos, open - pos));
    const std::string_view after = piece.substr(open + cite_open.size());
    const std::size_t body = citation_body_length(after);
    if (body != std::string_view::npos) {
      const std::string_view ref = ref_id_of(after.substr(0, body));
      for (const auto& c : known) {
        if (c.ref_id == ref && !c.url.empty()) {
          out += "[[" + std::to_string(c.number) + "]](" + c.url + ")";
          break;
        }
      }
      pos = open + cite_open.size() + body + cite_close.size();
      continue;
    }
    if (uncertain_end && could_become_citation(after)) return out;
    out.append(cite_open);
    pos = open + cite_open.size();
  }
  out.append(piece.substr(pos));
  return out;
}

// A reasoning block's body (after the opener's '>') as plain text: `<summary>…</summary>`
// removed, the `> ` / `>` quote marker at each line start removed, trimmed.
std::string clean_reasoning(std::string_view body, bool uncertain_end) {
  std::string unsummarised;
  std::size_t pos = 0;
  for (std::size_t open = body.find(summary_open); open != std::string_view::npos;
       open = body.find(summary_open, pos)) {
    const std::size_t close = body.find(summary_close, open);
    if (close == std::string_view::npos) {
      if (uncertain_end) body = body.substr(0, open);
      break;
    }
    unsummarised.append(body.substr(pos, open - pos));
    pos = close + summary_close.size();
  }
  body = body.substr(std::min(pos, body.size()));
  if (uncertain_end) {
    // A closing tag or summary may be arriving at the very end.
    const std::size_t lt = body.rfind('<');
    if (lt != std::string_view::npos) {
      const std::string_view rest = body.substr(lt);
      if (could_become(rest, details_close) || could_become(rest, summary_open)) {
        body = body.substr(0, lt);
      }
    }
  }
  unsummarised.append(body);

  std::string out;
  out.reserve(unsummarised.size());
  const std::string_view all = unsummarised;
  for (std::size_t start = 0; start <= all.size();) {
    std::size_t end = all.find('\n', start);
    if (end == std::string_view::npos) end = all.size();
    std::string_view line = all.substr(start, end - start);
    if (line.starts_with("> ")) {
      line.remove_prefix(2);
    } else if (line.starts_with('>')) {
      line.remove_prefix(1);
    }
    out.append(line);
    if (end == all.size()) break;
    out.push_back('\n');
    start = end + 1;
  }
  return std::string(trim(out));
}

// Search results sit somewhere inside the tool block's JSON (data.metadata.search_result in
// the samples); look for the key at any shallow depth rather than trusting one nesting.
const boost::json::array* find_search_results(const boost::json::value& v, int depth) {
  const auto* obj = v.if_object();
  if (obj == nullptr || depth > 6) return nullptr;
  if (const auto* found = obj->if_contains("search_result")) {
    if (const auto* array = found->if_array()) return array;
  }
  for (const auto& entry : *obj) {
    if (const auto* array = find_search_results(entry.value(), depth + 1)) return array;
  }
  return nullptr;
}

}  // namespace

message_view::message_view(std::size_t hold_back_chars) : hold_back_chars_(hold_back_chars) {}

void message_view::update(std::string_view text, std::size_t unchanged_prefix, bool final) {
  if (unchanged_prefix < checkpoint_.source_pos) checkpoint_ = {};
  restore(checkpoint_);
  const std::size_t cut = final ? text.size() : utf8_offset_of_last_chars(text, hold_back_chars_);
  std::size_t pos = checkpoint_.source_pos;
  for (;;) {
    const block_start next = find_block(text, pos);
    switch (next.what) {
      case block::none:
        add_answer(text.substr(pos, std::max(cut, pos) - pos), !final);
        return;
      case block::pending: {
        const std::size_t end = final ? text.size() : std::max(pos, std::min(cut, next.at));
        add_answer(text.substr(pos, end - pos), !final);
        return;
      }
      case block::reasoning: {
        add_answer(text.substr(pos, next.at - pos), false);
        const std::size_t close = text.find(details_close, next.body);
        if (close == std::string_view::npos) {
          const std::size_t end = final ? text.size() : std::max(next.body, cut);
          add_reasoning(text.substr(next.body, end - next.body), !final);
          return;
        }
        add_reasoning(text.substr(next.body, close - next.body), false);
        pos = close + details_close.size();
        save(pos);
        break;
      }
      case block::tool: {
        add_answer(text.substr(pos, next.at - pos), false);
        const std::size_t close = text.find(tool_close, next.at);
        if (close == std::string_view::npos) return;  // still being written: hidden
        if (next.body <= close) collect_citations(text.substr(next.body, close - next.body));
        pos = close + tool_close.size();
        save(pos);
        break;
      }
    }
  }
}

void message_view::restore(const checkpoint& at) {
  for (int c = 0; c < 2; ++c) texts_[c].resize(at.sizes[c]);
  runs_.resize(at.runs);
  if (!runs_.empty()) runs_.back().end = at.sizes[static_cast<int>(runs_.back().which)];
  citations_.resize(at.citations);
}

void message_view::save(std::size_t source_pos) {
  checkpoint_.source_pos = source_pos;
  for (int c = 0; c < 2; ++c) checkpoint_.sizes[c] = texts_[c].size();
  checkpoint_.runs = runs_.size();
  checkpoint_.citations = citations_.size();
}

void message_view::add(channel which, std::string_view piece) {
  if (piece.empty()) return;
  std::string& out = texts_[static_cast<int>(which)];
  if (!out.empty()) out += "\n\n";
  out.append(piece);
  if (runs_.empty() || runs_.back().which != which) runs_.push_back({which, 0});
  runs_.back().end = out.size();
}

void message_view::add_answer(std::string_view piece, bool uncertain_end) {
  add(channel::content, trim(clean_answer(piece, citations_, uncertain_end)));
}

void message_view::add_reasoning(std::string_view body, bool uncertain_end) {
  add(channel::reasoning, clean_reasoning(body, uncertain_end));
}

void message_view::collect_citations(std::string_view block_body) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(block_body, ec);
  if (ec) return;
  const auto* results = find_search_results(v, 0);
  if (results == nullptr) return;
  for (const auto& item : *results) {
    const auto* obj = item.if_object();
    if (obj == nullptr) continue;
    const auto* ref = obj->if_contains("ref_id");
    const auto* url = obj->if_contains("url");
    if (ref == nullptr || url == nullptr || !ref->is_string() || !url->is_string()) continue;
    citation c{std::string(ref->get_string()), std::string(url->get_string()),
               citations_.size() + 1};
    if (const auto* index = obj->if_contains("index");
        index && index->is_int64() && index->get_int64() > 0) {
      c.number = static_cast<std::size_t>(index->get_int64());
    }
    citations_.push_back(std::move(c));
  }
}

}  // namespace zai
