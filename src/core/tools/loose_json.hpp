// JSON as a model writes it. A model asked for JSON mostly writes JSON, and when it does not, the
// slips are few and well known: single quotes, unquoted keys, Python's True/False/None, trailing
// commas, comments, raw newlines inside strings, and — when the answer is cut off — brackets left
// open. Reading those tolerantly turns a near miss into the call the model meant instead of text.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string_view>

namespace zai::tools {

// The JSON value `text` begins with (after whitespace): strict JSON when it is, else the tolerant
// reading above. Text after the value is ignored. nullopt when no value begins the text, or it
// nests deeper than 64 levels.
std::optional<boost::json::value> read_loose_json(std::string_view text);

// Strict JSON only, the whole text (surrounding whitespace allowed).
std::optional<boost::json::value> read_strict_json(std::string_view text);

}  // namespace zai::tools
