// Reading a client's JSON body one field at a time, with the 400s worded as OpenAI words them
// ("Invalid type for 'messages[0].content': expected a string, but got an integer instead."), so
// every surface's parser names the exact `param` a client must fix in the same voice.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace zai::fields {

// A field's problem, or nullopt when it was read (or is absent and optional).
using maybe_error = std::optional<api_error>;

std::string_view kind_name(const boost::json::value& v);  // "an integer", "a string", …

api_error invalid_type(const std::string& param, std::string_view expected,
                       const boost::json::value& got);
api_error invalid_value(const std::string& param, std::string_view why);
api_error missing(const std::string& param);

// An optional member: nullptr when absent or JSON null (OpenAI treats both as "not given").
const boost::json::value* optional_field(const boost::json::object& o, std::string_view key);

// Optional members of one type; `out` is left alone when the member is absent.
maybe_error read_string(const boost::json::object& o, std::string_view key,
                        const std::string& param, std::string& out);
maybe_error read_bool(const boost::json::object& o, std::string_view key, const std::string& param,
                      std::optional<bool>& out);

// `at` + "[" + i + "]": the param of an array element.
std::string element(const std::string& at, std::size_t i);

}  // namespace zai::fields
