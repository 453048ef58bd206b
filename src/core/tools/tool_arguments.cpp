#include "core/tools/tool_arguments.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/tools/loose_json.hpp"

namespace zai::tools {
namespace {

using boost::json::object;
using boost::json::value;

constexpr int max_depth = 16;

constexpr std::array<std::string_view, 5> name_keys = {"name", "tool", "tool_name", "function",
                                                       "function_name"};
constexpr std::array<std::string_view, 6> argument_keys = {"arguments", "parameters", "args",
                                                           "params",    "input",      "tool_input"};
// Members of a flat call object that are about the call, not arguments to it.
constexpr std::array<std::string_view, 4> envelope_keys = {"type", "id", "nonce", "_nonce"};

template <std::size_t N>
bool one_of(std::string_view key, const std::array<std::string_view, N>& keys) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

std::string_view trim(std::string_view s) {
  constexpr std::string_view space = " \t\r\n";
  const std::size_t first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

// The JSON types a schema admits, as bits.
enum type_bit : unsigned {
  t_string = 1,
  t_integer = 2,
  t_number = 4,
  t_boolean = 8,
  t_object = 16,
  t_array = 32,
  t_null = 64
};

unsigned type_named(std::string_view name) {
  if (name == "string") return t_string;
  if (name == "integer") return t_integer;
  if (name == "number") return t_number;
  if (name == "boolean") return t_boolean;
  if (name == "object") return t_object;
  if (name == "array") return t_array;
  if (name == "null") return t_null;
  return 0;
}

unsigned type_of_value(const value& v) {
  switch (v.kind()) {
    case boost::json::kind::string: return t_string;
    case boost::json::kind::int64:
    case boost::json::kind::uint64: return t_integer | t_number;
    case boost::json::kind::double_: return t_number;
    case boost::json::kind::bool_: return t_boolean;
    case boost::json::kind::object: return t_object;
    case boost::json::kind::array: return t_array;
    case boost::json::kind::null: return t_null;
  }
  return 0;
}

// The types `schema` admits: its `type` (a name or a list), else what its `enum`, `properties`,
// `items` or `anyOf`/`oneOf` alternatives imply. 0: unknown, anything goes.
unsigned types_of(const object& schema, int depth = 0) {
  unsigned types = 0;
  if (const value* t = schema.if_contains("type")) {
    if (t->is_string()) types |= type_named(t->as_string());
    if (t->is_array()) {
      for (const value& n : t->as_array()) types |= n.is_string() ? type_named(n.as_string()) : 0;
    }
    return types;
  }
  if (const value* e = schema.if_contains("enum"); e && e->is_array()) {
    for (const value& option : e->as_array()) types |= type_of_value(option);
  }
  if (schema.contains("properties")) types |= t_object;
  if (schema.contains("items")) types |= t_array;
  for (std::string_view key : {"anyOf", "oneOf"}) {
    const value* alternatives = schema.if_contains(key);
    if (!alternatives || !alternatives->is_array() || depth > max_depth) continue;
    for (const value& a : alternatives->as_array()) {
      if (a.is_object()) types |= types_of(a.as_object(), depth + 1);
    }
  }
  return types;
}

const object* member_schema(const object& schema, std::string_view key) {
  if (const value* props = schema.if_contains("properties"); props && props->is_object()) {
    if (const value* p = props->as_object().if_contains(key); p && p->is_object()) {
      return &p->as_object();
    }
  }
  const value* extra = schema.if_contains("additionalProperties");
  return extra && extra->is_object() ? &extra->as_object() : nullptr;
}

std::optional<value> as_integer(const value& number) {
  if (number.is_int64() || number.is_uint64()) return number;
  const double d = number.as_double();
  if (std::trunc(d) != d || std::fabs(d) > 9.0e15) return std::nullopt;
  return value(static_cast<std::int64_t>(d));
}

// `text` read as one of `types`, trying the most specific first; nullopt when none fits.
std::optional<value> read_as(std::string_view text, unsigned types) {
  const std::string_view t = trim(text);
  if (types & (t_integer | t_number)) {
    std::optional<value> n = read_strict_json(t);
    if (n && n->is_number()) {
      if (!(types & t_number)) n = as_integer(*n);
      if (n) return n;
    }
  }
  if (types & t_boolean) {
    if (t == "true" || t == "True" || t == "TRUE") return value(true);
    if (t == "false" || t == "False" || t == "FALSE") return value(false);
  }
  if ((types & t_null) && (t == "null" || t == "None")) return value(nullptr);
  if (types & (t_object | t_array)) {
    std::optional<value> v = read_loose_json(t);
    if (v && (type_of_value(*v) & types & (t_object | t_array))) return v;
  }
  return std::nullopt;
}

// `v` turned into one of `types`, where only one reading makes sense.
void convert(value& v, unsigned types) {
  if (v.is_string()) {
    if (std::optional<value> read = read_as(v.as_string(), types & ~t_string)) {
      v = std::move(*read);
      return;
    }
  }
  if (v.is_double() && (types & t_integer)) {
    if (std::optional<value> i = as_integer(v)) {
      v = *i;
      return;
    }
  }
  if ((types & t_string) && !v.is_null() && !v.is_string()) {
    v = value(boost::json::serialize(v));
    return;
  }
  if ((types & t_array) && !v.is_null() && !v.is_array()) v = boost::json::array{std::move(v)};
}

void coerce_value(value& v, const object* schema, int depth) {
  if (schema == nullptr || depth > max_depth) return;
  const unsigned types = types_of(*schema);
  if (types != 0 && !(type_of_value(v) & types)) convert(v, types);
  if (boost::json::object* o = v.if_object()) {
    for (auto& member : *o)
      coerce_value(member.value(), member_schema(*schema, member.key()), depth + 1);
  }
  if (boost::json::array* a = v.if_array()) {
    const value* items = schema->if_contains("items");
    if (items == nullptr || !items->is_object()) return;
    for (value& item : *a) coerce_value(item, &items->as_object(), depth + 1);
  }
}

std::string first_string(const object& o, const std::array<std::string_view, 5>& keys) {
  for (std::string_view key : keys) {
    const value* v = o.if_contains(key);
    if (v && v->is_string()) return std::string(v->as_string());
  }
  return {};
}

// An arguments member: an object, a JSON text of one, or (custom tools) the raw input string.
value arguments_from(const value& given) {
  if (const boost::json::string* s = given.if_string()) {
    std::optional<value> parsed = read_strict_json(*s);
    if (parsed && parsed->is_object()) return std::move(*parsed);
  }
  return given;
}

}  // namespace

tool_schema::tool_schema(std::string_view parameters_json)
    : schema_(read_strict_json(parameters_json).value_or(value(object{}))) {}

const object* tool_schema::property(std::string_view key) const {
  const object* schema = schema_.if_object();
  return schema ? member_schema(*schema, key) : nullptr;
}

bool tool_schema::takes_text(std::string_view key) const {
  const object* p = property(key);
  return p != nullptr && (types_of(*p) & t_string) != 0;
}

value tool_schema::typed_value(std::string_view key, std::string_view written) const {
  const object* p = property(key);
  const unsigned types = p ? types_of(*p) : 0;
  // A value written as a JSON string ("\"a.txt\"", "\"10\"") means its contents.
  std::optional<value> v = read_strict_json(trim(written));
  if (v && !v->is_string()) v.reset();
  if (!v) v = types ? read_as(written, types) : read_strict_json(trim(written));
  if (!v) v = value(written);
  coerce_value(*v, p, 0);
  return std::move(*v);
}

void tool_schema::coerce(object& arguments) const {
  for (auto& member : arguments) coerce_value(member.value(), property(member.key()), 0);
}

std::optional<json_call> read_json_call(const value& v) {
  const object* o = v.if_object();
  if (o == nullptr) return std::nullopt;
  if (const value* f = o->if_contains("function"); f && f->is_object()) {
    return read_json_call(*f);  // OpenAI's {"type":"function","function":{…}}
  }
  json_call call;
  call.name = first_string(*o, name_keys);
  for (std::string_view key : argument_keys) {
    if (const value* a = o->if_contains(key)) {
      call.arguments = arguments_from(*a);
      return call;
    }
  }
  if (call.name.empty()) return std::nullopt;
  object flat;
  for (const auto& member : *o) {
    if (!one_of(member.key(), name_keys) && !one_of(member.key(), envelope_keys)) {
      flat[member.key()] = member.value();
    }
  }
  call.arguments = std::move(flat);
  return call;
}

std::vector<json_call> read_json_calls(const value& v) {
  const boost::json::array* list = v.if_array();
  if (const object* o = v.if_object(); o && o->size() == 1) {
    if (const value* calls = o->if_contains("tool_calls")) list = calls->if_array();
  }
  std::vector<json_call> out;
  if (list == nullptr) {
    if (std::optional<json_call> call = read_json_call(v)) out.push_back(std::move(*call));
    return out;
  }
  for (const value& item : *list) {
    std::optional<json_call> call = read_json_call(item);
    if (!call || call->name.empty()) return {};
    out.push_back(std::move(*call));
  }
  return out;
}

json_call_head peek_json_call(std::string_view partial) {
  json_call_head head;
  std::size_t i = partial.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos) return head;
  if (partial[i] != '{') return {json_call_head::verdict::not_a_call, {}};
  i = partial.find_first_not_of(" \t\r\n", i + 1);
  if (i == std::string_view::npos) return head;
  const char quote = partial[i];
  if (quote != '"' && quote != '\'') return {json_call_head::verdict::not_a_call, {}};
  const std::size_t key_end = partial.find(quote, i + 1);
  if (key_end == std::string_view::npos) return head;
  const std::string_view key = partial.substr(i + 1, key_end - i - 1);
  if (one_of(key, argument_keys) || key == "type" || key == "function" || key == "tool_calls") {
    head.is = json_call_head::verdict::arguments;
    return head;
  }
  if (!one_of(key, name_keys)) return {json_call_head::verdict::not_a_call, {}};
  i = partial.find_first_not_of(" \t\r\n:", key_end + 1);
  if (i == std::string_view::npos) return head;
  if (partial[i] != '"' && partial[i] != '\'') return {json_call_head::verdict::not_a_call, {}};
  const std::size_t name_end = partial.find(partial[i], i + 1);
  if (name_end == std::string_view::npos) return head;
  return {json_call_head::verdict::named, std::string(partial.substr(i + 1, name_end - i - 1))};
}

}  // namespace zai::tools
