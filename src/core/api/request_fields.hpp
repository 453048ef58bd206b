// Reading one field of a client's JSON request body the way OpenAI validates it: every problem is
// a 400 whose `param` names the exact field (`input[2].content[0].text`) and whose message uses
// OpenAI's own wording ("Invalid type for 'x': expected a string, but got an integer instead."),
// so clients that show it read a familiar text. Shared by the request parsers of every surface.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace zai {

using maybe_error = std::optional<api_error>;

// "a string", "an integer", … as OpenAI names a JSON value's kind in its messages.
std::string_view json_kind_name(const boost::json::value& v);

api_error invalid_type(const std::string& param, std::string_view expected,
                       const boost::json::value& got);
api_error invalid_value(const std::string& param, std::string_view why);
api_error missing_param(const std::string& param);
// "Invalid value for 'p': 'got'. Supported values are: 'a', 'b' and 'c'."
api_error unsupported_value(const std::string& param, std::string_view got,
                            std::initializer_list<std::string_view> supported);

// The body as a JSON object: errc::invalid_json when it is not JSON, invalid_request when it is
// JSON but not an object.
result<boost::json::object> parse_body_object(std::string_view body);

// An optional member: nullptr when absent or JSON null (OpenAI treats both as "not given").
const boost::json::value* optional_field(const boost::json::object& o, std::string_view key);

// Each reader leaves `out` alone when the member is absent or null.
maybe_error read_string(const boost::json::object& o, std::string_view key,
                        const std::string& param, std::string& out);
maybe_error read_bool(const boost::json::object& o, std::string_view key,
                      const std::string& param, std::optional<bool>& out);
// An optional member that must be an object, or an array: `out` stays null when it is absent.
maybe_error read_object(const boost::json::object& o, std::string_view key,
                        const std::string& param, const boost::json::object*& out);
maybe_error read_array(const boost::json::object& o, std::string_view key,
                       const std::string& param, const boost::json::array*& out);
// A number within [min, max]; the key is the param (top-level fields).
maybe_error read_decimal(const boost::json::object& o, std::string_view key, double min,
                         double max, std::optional<double>& out);
// An integer of at least 1; the key is the param (top-level fields).
maybe_error read_positive_int(const boost::json::object& o, std::string_view key,
                              std::optional<std::int64_t>& out);

// `base[i]`, the param of an array element.
std::string element_param(const std::string& base, std::size_t i);

}  // namespace zai
