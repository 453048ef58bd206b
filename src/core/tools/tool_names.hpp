// Which declared tool a model meant. Models re-spell tool names — `Read_File` for `read_file`,
// `read-file`, `functions.read_file`, a quoted name, a letter dropped — and a call to the right
// tool under a slightly wrong name is still the call the model meant. A name snaps to a declared
// tool when the match is unambiguous: exactly; else ignoring case and `-`/`_`; else the one
// declared name clearly closest to it. Anything else is an undeclared tool, whose "call" is
// returned to the client as text rather than as a call it cannot run.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "core/chat.hpp"

namespace zai::tools {

// The written name with the wrapping models add removed: whitespace, quotes, backticks,
// asterisks and a `functions.` / `tools.` namespace.
std::string_view bare_tool_name(std::string_view written);

// The index in `tools` of the tool `written` names, or nullopt.
std::optional<std::size_t> snap_tool_name(std::string_view written,
                                          std::span<const tool_definition> tools);

}  // namespace zai::tools
