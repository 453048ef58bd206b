#include "core/api/anthropic_body.hpp"

#include <cmath>

namespace zai::anthropic {

using boost::json::array;
using boost::json::object;
using boost::json::value;

api_error refuse(const place& at, std::string_view why) {
  std::string dotted;
  for (char c : at.param) {
    if (c == '[') dotted += '.';
    if (c != '[' && c != ']') dotted += c;
  }
  return make_error(errc::invalid_request, dotted + ": " + std::string(why), at.param);
}

api_error missing(const place& at) { return refuse(at, "Field required"); }

// An optional member: nullptr when absent or JSON null (Anthropic treats both as not given).
const value* member(const object& o, std::string_view key) {
  const value* v = o.if_contains(key);
  return v != nullptr && !v->is_null() ? v : nullptr;
}

result<const object*> as_object(const value& v, const place& at) {
  if (const object* o = v.if_object()) return o;
  return refuse(at, "Input should be a valid dictionary");
}

result<tagged> as_tagged(const value& v, const place& at) {
  auto fields = as_object(v, at);
  if (!fields) return fields.error();
  auto type = text_member(**fields, "type", at / "type");
  if (!type) return type.error();
  return tagged{*fields, *type};
}

result<const array*> as_list(const value& v, const place& at) {
  if (const array* a = v.if_array()) return a;
  return refuse(at, "Input should be a valid list");
}

result<std::string_view> text_member(const object& o, std::string_view key, const place& at) {
  const value* v = member(o, key);
  if (v == nullptr) return missing(at);
  if (const boost::json::string* s = v->if_string()) return std::string_view(*s);
  return refuse(at, "Input should be a valid string");
}

maybe_error read_flag(const object& o, std::string_view key, const place& at, bool& out) {
  const value* v = member(o, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_bool()) return refuse(at, "Input should be a valid boolean");
  out = v->get_bool();
  return std::nullopt;
}

maybe_error read_fraction(const object& o, std::string_view key, std::optional<double>& out) {
  const value* v = member(o, key);
  if (v == nullptr) return std::nullopt;
  const place at{std::string(key)};
  if (!v->is_number()) return refuse(at, "Input should be a valid number");
  boost::system::error_code ec;
  const double d = v->to_number<double>(ec);
  if (ec || !std::isfinite(d)) return refuse(at, "Input should be a valid number");
  if (d < 0) return refuse(at, "Input should be greater than or equal to 0");
  if (d > 1) return refuse(at, "Input should be less than or equal to 1");
  out = d;
  return std::nullopt;
}

// A whole number of at least `min`; nullopt when absent.
result<std::optional<std::int64_t>> count_member(const object& o, std::string_view key,
                                                 const place& at, std::int64_t min) {
  const value* v = member(o, key);
  if (v == nullptr) return std::optional<std::int64_t>();
  if (v->is_uint64()) return refuse(at, "Input should be a valid 64-bit integer");
  if (!v->is_int64()) return refuse(at, "Input should be a valid integer");
  if (v->get_int64() < min) {
    return refuse(at, "Input should be greater than or equal to " + std::to_string(min));
  }
  return std::optional<std::int64_t>(v->get_int64());
}

api_error unknown_tag(const place& at, std::string_view tag, std::string_view expected) {
  return refuse(at, "Input tag '" + std::string(tag) +
                        "' found using 'type' does not match any of the expected tags: " +
                        std::string(expected));
}

void append_line(std::string& text, std::string_view more) {
  if (more.empty()) return;
  if (!text.empty()) text += '\n';
  text += more;
}

}  // namespace zai::anthropic
