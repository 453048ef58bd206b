// Appending JSON text directly to a string: the per-chunk output path writes a handful of known
// fields per event, where building a JSON DOM and serialising it would cost more than the rest
// of the translation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace zai {

// Appends `text` as a quoted JSON string. Control characters are escaped; valid and invalid
// UTF-8 bytes are copied as they are (the upstream's text is passed through untouched).
void append_json_string(std::string& out, std::string_view text);
// The same without the quotes: for a string whose text is written in pieces (streamed tool-call
// arguments).
void append_json_escaped(std::string& out, std::string_view text);

void append_json_uint(std::string& out, std::uint64_t value);

}  // namespace zai
