#include "core/api/request_fields.hpp"

#include <cmath>

namespace zai {

using boost::json::object;
using boost::json::value;

std::string_view json_kind_name(const value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
      return "an integer";
    case boost::json::kind::double_:
      return "a decimal";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
  }
  return "a value";
}

api_error invalid_type(const std::string& param, std::string_view expected, const value& got) {
  return make_error(errc::invalid_request,
                    "Invalid type for '" + param + "': expected " + std::string(expected) +
                        ", but got " + std::string(json_kind_name(got)) + " instead.",
                    param);
}

api_error invalid_value(const std::string& param, std::string_view why) {
  return make_error(errc::invalid_request, "Invalid '" + param + "': " + std::string(why), param);
}

api_error missing_param(const std::string& param) {
  return make_error(errc::invalid_request, "Missing required parameter: '" + param + "'.", param);
}

api_error unsupported_value(const std::string& param, std::string_view got,
                            std::initializer_list<std::string_view> supported) {
  std::string message = "Invalid value for '";
  message += param;
  message += "': '";
  message += got;
  message += "'. Supported values are: ";
  std::size_t i = 0;
  for (std::string_view name : supported) {
    if (i > 0) message += i + 1 == supported.size() ? " and " : ", ";
    message += '\'';
    message += name;
    message += '\'';
    ++i;
  }
  message += '.';
  return make_error(errc::invalid_request, std::move(message), param);
}

result<object> parse_body_object(std::string_view body) {
  boost::system::error_code ec;
  value parsed = boost::json::parse(body, ec);
  if (ec) {
    return make_error(errc::invalid_json, "We could not parse the JSON body of your request (" +
                                              ec.message() + "). The API expects a JSON object.");
  }
  object* root = parsed.if_object();
  if (root == nullptr) {
    return make_error(errc::invalid_request, "The request body must be a JSON object, but got " +
                                                 std::string(json_kind_name(parsed)) + ".");
  }
  return std::move(*root);
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

maybe_error read_object(const object& o, std::string_view key, const std::string& param,
                        const object*& out) {
  const value* v = optional_field(o, key);
  if (v == nullptr) return std::nullopt;
  out = v->if_object();
  if (out == nullptr) return invalid_type(param, "an object", *v);
  return std::nullopt;
}

maybe_error read_array(const object& o, std::string_view key, const std::string& param,
                       const boost::json::array*& out) {
  const value* v = optional_field(o, key);
  if (v == nullptr) return std::nullopt;
  out = v->if_array();
  if (out == nullptr) return invalid_type(param, "an array", *v);
  return std::nullopt;
}

maybe_error read_decimal(const object& o, std::string_view key, double min, double max,
                         std::optional<double>& out) {
  const value* v = optional_field(o, key);
  if (v == nullptr) return std::nullopt;
  const std::string param(key);
  if (!v->is_number()) return invalid_type(param, "a decimal", *v);
  boost::system::error_code ec;
  const double d = v->to_number<double>(ec);
  if (ec || !std::isfinite(d) || d < min || d > max) {
    return invalid_value(param, "expected a value from " + boost::json::serialize(value(min)) +
                                    " to " + boost::json::serialize(value(max)) + ", but got " +
                                    boost::json::serialize(*v) + " instead.");
  }
  out = d;
  return std::nullopt;
}

maybe_error read_positive_int(const object& o, std::string_view key,
                              std::optional<std::int64_t>& out) {
  const value* v = optional_field(o, key);
  if (v == nullptr) return std::nullopt;
  const std::string param(key);
  const std::int64_t* i = v->if_int64();
  if (i == nullptr && !v->is_uint64()) return invalid_type(param, "an integer", *v);
  if (i == nullptr || *i < 1) {
    return invalid_value(param, "expected an integer of at least 1, but got " +
                                    boost::json::serialize(*v) + " instead.");
  }
  out = *i;
  return std::nullopt;
}

std::string element_param(const std::string& base, std::size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

}  // namespace zai
