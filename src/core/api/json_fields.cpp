#include "core/api/json_fields.hpp"

namespace zai::fields {

using boost::json::object;
using boost::json::value;

// Error texts follow OpenAI's own wording so clients that show them read familiar messages.
std::string_view kind_name(const value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64: return "an integer";
    case boost::json::kind::double_: return "a decimal";
    case boost::json::kind::string: return "a string";
    case boost::json::kind::array: return "an array";
    case boost::json::kind::object: return "an object";
  }
  return "a value";
}

api_error invalid_type(const std::string& param, std::string_view expected, const value& got) {
  return make_error(errc::invalid_request,
                    "Invalid type for '" + param + "': expected " + std::string(expected) +
                        ", but got " + std::string(kind_name(got)) + " instead.",
                    param);
}

api_error invalid_value(const std::string& param, std::string_view why) {
  return make_error(errc::invalid_request, "Invalid '" + param + "': " + std::string(why), param);
}

api_error missing(const std::string& param) {
  return make_error(errc::invalid_request, "Missing required parameter: '" + param + "'.", param);
}

const value* optional_field(const object& o, std::string_view key) {
  const value* v = o.if_contains(key);
  return v != nullptr && !v->is_null() ? v : nullptr;
}

maybe_error read_string(const object& o, std::string_view key, const std::string& param,
                        std::string& out) {
  const value* v = optional_field(o, key);
  if (v == nullptr) return std::nullopt;
  const boost::json::string* s = v->if_string();
  if (s == nullptr) return invalid_type(param, "a string", *v);
  out = std::string(*s);
  return std::nullopt;
}

maybe_error read_bool(const object& o, std::string_view key, const std::string& param,
                      std::optional<bool>& out) {
  const value* v = optional_field(o, key);
  if (v == nullptr) return std::nullopt;
  const bool* b = v->if_bool();
  if (b == nullptr) return invalid_type(param, "a boolean", *v);
  out = *b;
  return std::nullopt;
}

std::string element(const std::string& at, std::size_t i) {
  return at + "[" + std::to_string(i) + "]";
}

}  // namespace zai::fields
