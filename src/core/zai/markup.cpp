#include "core/zai/markup.hpp"

#include <boost/json.hpp>

namespace zai::markup {
namespace {

constexpr std::string_view details_open = "<details";
constexpr std::string_view tool_open = "<glm_block";
constexpr std::string_view summary_open = "<summary>";
constexpr std::string_view summary_close = "</summary>";
constexpr std::string_view cite_open = "【";
constexpr std::string_view cite_close = "】";
constexpr std::string_view cite_prefix = "turn";  // 【turn0search0】, 【turn1search3†L2】…
constexpr std::size_t max_cite_body = 64;
constexpr std::string_view whitespace = " \t\r\n";

// Longer than any citation marker or tag that matters, so markup near a split point is seen.
constexpr std::size_t split_window = 128;

// `rest` is all that is left of the text and could still grow into `token`.
bool could_become(std::string_view rest, std::string_view token) {
  return rest.size() <= token.size() && token.starts_with(rest);
}

bool tag_name_ends(std::string_view rest, std::size_t at) {
  return rest.size() > at && (rest[at] == ' ' || rest[at] == '>');
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
  const auto is_ref_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  std::size_t n = 0;
  while (n < body.size() && is_ref_char(body[n])) ++n;
  return body.substr(0, n);
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

// Where a leading `<summary>…</summary>` of a reasoning body ends: `begin` if there is none,
// npos if one has begun but not ended.
std::size_t summary_end(std::string_view body, std::size_t begin) {
  const std::size_t first = std::min(body.find_first_not_of(whitespace, begin), body.size());
  const std::string_view rest = body.substr(first);
  if (could_become(rest, summary_open)) return std::string_view::npos;
  if (!rest.starts_with(summary_open)) return begin;
  const std::size_t close = body.find(summary_close, first);
  return close == std::string_view::npos ? close : close + summary_close.size();
}

// The start of markup in `text[from, x)` that text after `x` could still complete or turn
// into something else (a block opener, a closing tag, a citation); npos if there is none.
std::size_t open_markup(std::string_view text, std::size_t from, std::size_t x, bool reasoning) {
  const std::string_view w = text.substr(from, x - from);
  const std::size_t lt = w.rfind('<');
  if (lt != std::string_view::npos) {
    const std::string_view rest = w.substr(lt);
    if (reasoning ? could_become(rest, details_close)
                  : could_become(rest, details_open) || could_become(rest, tool_open)) {
      return from + lt;
    }
  }
  if (reasoning) return std::string_view::npos;
  const std::size_t tag = w.rfind(details_open);
  if (tag != std::string_view::npos && w.find('>', tag) == std::string_view::npos) {
    return from + tag;  // its attributes (type="reasoning"?) are not all known yet
  }
  const std::size_t cite = w.rfind(cite_open);
  if (cite != std::string_view::npos) {
    const std::string_view after = w.substr(cite + cite_open.size());
    const std::size_t body = citation_body_length(after);
    const bool ends_at_x =
        body != std::string_view::npos && body + cite_close.size() == after.size();
    if (ends_at_x || could_become_citation(after)) return from + cite;
  }
  return std::string_view::npos;
}

// Walks back from `end` to a split point: just after a visible character, with no markup
// around it that later text could still change.
std::size_t split_point(std::string_view text, std::size_t begin, std::size_t end, bool reasoning) {
  std::size_t x = end;
  for (int attempt = 0; attempt < 8; ++attempt) {
    while (x > begin && (whitespace.find(text[x - 1]) != std::string_view::npos ||
                         (reasoning && text[x - 1] == '>'))) {
      --x;
    }
    if (x <= begin) return std::string_view::npos;
    const std::size_t from = x - std::min(x - begin, split_window);
    const std::size_t markup = open_markup(text, from, x, reasoning);
    if (markup == std::string_view::npos) return x;
    x = markup;
  }
  return std::string_view::npos;
}

}  // namespace

std::string_view trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(whitespace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(whitespace) - first + 1);
}

std::string_view trim_end(std::string_view s) {
  const std::size_t last = s.find_last_not_of(whitespace);
  return last == std::string_view::npos ? std::string_view{} : s.substr(0, last + 1);
}

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

void collect_citations(std::string_view block_body, std::vector<citation>& known) {
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
    citation c{std::string(ref->get_string()), std::string(url->get_string()), known.size() + 1};
    if (const auto* index = obj->if_contains("index");
        index != nullptr && index->is_int64() && index->get_int64() > 0) {
      c.number = static_cast<std::size_t>(index->get_int64());
    }
    known.push_back(std::move(c));
  }
}

std::string clean_answer(std::string_view piece, const std::vector<citation>& known,
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

std::string clean_reasoning(std::string_view body, bool uncertain_end, bool at_block_start) {
  if (at_block_start) {
    const std::size_t after_summary = summary_end(body, 0);
    if (after_summary == std::string_view::npos) {
      if (uncertain_end) return {};  // the summary is still arriving
    } else {
      body.remove_prefix(after_summary);
    }
  }
  if (uncertain_end) {
    // A closing tag may be arriving at the very end.
    const std::size_t lt = body.rfind('<');
    if (lt != std::string_view::npos && could_become(body.substr(lt), details_close)) {
      body = body.substr(0, lt);
    }
  }
  std::string out;
  out.reserve(body.size());
  bool line_start = at_block_start;
  for (std::size_t start = 0; start <= body.size();) {
    std::size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(start, end - start);
    if (line_start && line.starts_with("> ")) {
      line.remove_prefix(2);
    } else if (line_start && line.starts_with('>')) {
      line.remove_prefix(1);
    }
    out.append(line);
    if (end == body.size()) break;
    out.push_back('\n');
    start = end + 1;
    line_start = true;
  }
  return out;
}

std::size_t answer_split(std::string_view text, std::size_t begin, std::size_t end) {
  return split_point(text, begin, end, false);
}

std::size_t reasoning_split(std::string_view text, std::size_t begin, std::size_t end,
                            bool at_block_start) {
  const std::size_t x = split_point(text, begin, end, true);
  if (x == std::string_view::npos || !at_block_start) return x;
  const std::size_t after_summary = summary_end(text.substr(0, end), begin);
  return after_summary != std::string_view::npos && after_summary <= x ? x : std::string_view::npos;
}

}  // namespace zai::markup
