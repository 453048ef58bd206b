// The two readers behind parse_zai_event (event.hpp). Almost every upstream event is a small
// `{"type":"chat:completion","data":{…}}` frame whose few fields the proxy needs; building a JSON
// DOM for each was a third of the proxy's instructions per completion. scan_zai_event reads
// those fields in one pass over the payload, and gives up (nullopt) on any shape it does not
// fully understand: an error anywhere the parser looks for one, a nested `data`, a string that
// needs repair (a lone surrogate escape anywhere, invalid UTF-8 in a value it reads), a count
// that is not a plain integer, an escaped key, deep nesting, or anything that is not JSON.
// Strings are checked in place and only the fields used are decoded. parse_zai_event_json is the
// full parse that handles everything, and the reference: on every payload the scan accepts, both
// give the same event (event_scan_test.cpp, and the sse_stream fuzz target compares them).
#pragma once

#include <optional>
#include <string_view>

#include "core/zai/event.hpp"

namespace zai {

// `payload`: trimmed, starting with '{'.
std::optional<zai_event> scan_zai_event(std::string_view payload);
zai_event parse_zai_event_json(std::string_view payload);

}  // namespace zai
