#include "core/tools/tool_names.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace zai::tools {
namespace {

// Lower case, '-' read as '_': the spellings a model mixes up.
std::string folded(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '-') c = '_';
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Close enough to be the same name: at most one edit in five characters, and never for names
// so short that one edit makes another word (`edit` / `exit`).
bool close_enough(std::size_t distance, std::size_t longer) {
  return longer >= 5 && distance * 5 <= longer;
}

std::optional<std::size_t> unique_folded_match(std::string_view name,
                                               std::span<const tool_definition> tools) {
  const std::string wanted = folded(name);
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < tools.size(); ++i) {
    if (folded(tools[i].name) != wanted) continue;
    if (found) return std::nullopt;
    found = i;
  }
  return found;
}

// The one closest declared name, if it is close enough and no other is as close.
std::optional<std::size_t> unique_close_match(std::string_view name,
                                              std::span<const tool_definition> tools) {
  const std::string wanted = folded(name);
  std::optional<std::size_t> best;
  std::size_t best_distance = 0;
  bool tie = false;
  for (std::size_t i = 0; i < tools.size(); ++i) {
    const std::size_t d = edit_distance(wanted, folded(tools[i].name));
    if (!best || d < best_distance) {
      best = i;
      best_distance = d;
      tie = false;
    } else if (d == best_distance) {
      tie = true;
    }
  }
  if (!best || tie) return std::nullopt;
  const std::size_t longer = std::max(wanted.size(), tools[*best].name.size());
  return close_enough(best_distance, longer) ? best : std::nullopt;
}

}  // namespace

std::string_view bare_tool_name(std::string_view written) {
  constexpr std::string_view wrapping = " \t\r\n\"'`*";
  const std::size_t first = written.find_first_not_of(wrapping);
  if (first == std::string_view::npos) return {};
  written = written.substr(first, written.find_last_not_of(wrapping) - first + 1);
  for (std::string_view prefix : {"functions.", "tools.", "function."}) {
    if (written.starts_with(prefix)) written.remove_prefix(prefix.size());
  }
  return written;
}

std::optional<std::size_t> snap_tool_name(std::string_view written,
                                          std::span<const tool_definition> tools) {
  const std::string_view name = bare_tool_name(written);
  if (name.empty() || name.size() > 128) return std::nullopt;
  for (std::size_t i = 0; i < tools.size(); ++i) {
    if (tools[i].name == name) return i;
  }
  if (auto i = unique_folded_match(name, tools)) return i;
  return unique_close_match(name, tools);
}

}  // namespace zai::tools
