// What a call's arguments become before a client sees them: a JSON object whose values have the
// types the tool's JSON Schema declares, where the model's text makes that unambiguous. GLM's
// trained syntax writes every value as text (`<arg_value>42</arg_value>`), and models writing
// JSON still slip (`"limit": "10"`, `"paths": "a.txt"` for an array): a tool that validates its
// input would refuse those calls. Coercion is shallow guesswork only where nothing else could be
// meant — "10" for an integer, "true" for a boolean, a JSON text for an object or array, a
// number or object for a string, one item for an array — and leaves everything else as written
// for the tool to judge.
//
// Also here: reading a whole call written as JSON (`{"name":…,"arguments":{…}}` and the shapes
// models drift into), since that too is "which tool, which arguments".
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/chat.hpp"

namespace zai::tools {

// One tool's parameters schema, read once per request.
class tool_schema {
 public:
  explicit tool_schema(std::string_view parameters_json);

  // Whether the `<arg_value>` of `key` is read as text exactly as written (the schema says the
  // value is a string). Otherwise the value is JSON-typed and read when it is complete.
  bool takes_text(std::string_view key) const;

  // A complete `<arg_value>` that is not text: parsed and typed for `key`. What cannot be read
  // as the declared type stays the string it was written as.
  boost::json::value typed_value(std::string_view key, std::string_view written) const;

  // `arguments` with its members coerced to the declared types where unambiguous.
  void coerce(boost::json::object& arguments) const;

 private:
  const boost::json::object* property(std::string_view key) const;
  boost::json::value schema_;
};

// A call written as one JSON value: the name it gives (empty when none) and its arguments (a
// JSON object, or for custom tools possibly the raw input as a string).
struct json_call {
  std::string name;
  boost::json::value arguments;
};

// Reads `{"name":…,"arguments":{…}}` and its drift: the name under `name`, `tool`,
// `tool_name`, `function` or `function_name`; arguments under `arguments`, `parameters`,
// `args`, `params` or `input`, as an object or as a JSON text of one; OpenAI's
// `{"type":"function","function":{…}}`; or a flat object whose other members are the
// arguments. nullopt when `v` is not call-shaped.
std::optional<json_call> read_json_call(const boost::json::value& v);

// The calls one JSON value holds: a call (as above), an array of calls, or
// `{"tool_calls":[…]}`. Empty unless every one is call-shaped.
std::vector<json_call> read_json_calls(const boost::json::value& v);

// What the beginning of a JSON object still arriving says about being a call, judged on its
// first member so that ordinary JSON (a package.json, a config) is let go early.
struct json_call_head {
  enum class verdict {
    undecided,   // too little has arrived
    not_a_call,  // not an object, or its first key names neither a tool nor arguments
    named,       // the first member names a tool: `name`
    arguments,   // the first member holds arguments: the name comes later
  } is = verdict::undecided;
  std::string name;
};

json_call_head peek_json_call(std::string_view partial);

}  // namespace zai::tools
