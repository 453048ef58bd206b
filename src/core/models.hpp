// Which Z.AI model a public model id means. Clients ask for `glm-4.7`; the upstream wants its own
// id (`glm-4.7`, `GLM-4-6-API-V1`, `0727-360B-API`, …, reference §3.5) plus feature defaults such
// as whether thinking is on. The built-in table can be extended or overridden at start-up with
// ZAI_MODELS so that a new upstream model needs no rebuild. Also renders `GET /v1/models` and
// `GET /v1/models/{id}`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace zai {

struct model_info {
  std::string id;            // public id, as listed by /v1/models
  std::string upstream_id;   // body field `model` sent to Z.AI
  bool thinking = false;     // features.enable_thinking when the request does not say
  bool web_search = false;   // features.web_search / auto_web_search
  std::int64_t created = 0;  // Unix seconds shown in /v1/models (roughly the model's release)

  bool operator==(const model_info&) const = default;
};

struct model_table {
  std::vector<model_info> models;

  bool operator==(const model_table&) const = default;
};

model_table builtin_models();

// ZAI_MODELS: a JSON object merged over `base` (normally builtin_models()). Each member is
//   "public-id": "upstream-id"                                    add or re-point a model
//   "public-id": {"upstream":"id","thinking":bool,"web_search":bool,"created":int}
//                                   (every field optional; `upstream` defaults to the public id,
//                                    others to the entry being replaced or false/0)
//   "public-id": null                                             remove a built-in model
// Errors are one line naming the offending member, for the config error message.
result<model_table, std::string> merge_models_json(const model_table& base, std::string_view json);

// A public id as the request asked for it, resolved. Lookup ignores ASCII case. Two suffix
// conventions of earlier proxies are honoured on any listed id: `-thinking` forces thinking on,
// `-search` turns web search on (`glm-4.7-thinking`, `glm-4.7-search`, `glm-4.7-thinking-search`).
struct resolved_model {
  std::string id;  // the public id as listed (canonical case, suffixes kept)
  std::string upstream_id;
  bool thinking = false;  // default thinking, after suffixes; a request toggle overrides it
  bool web_search = false;
};

// errc::model_not_found (OpenAI's 404 `model_not_found`) when the id is unknown.
result<resolved_model> resolve_model(const model_table& table, std::string_view requested);

// `{"object":"list","data":[{"id","object":"model","created","owned_by":"z-ai"},…]}`
std::string models_list_json(const model_table& table);
// The single object for GET /v1/models/{id} (suffixes accepted), or model_not_found.
result<std::string> model_object_json(const model_table& table, std::string_view id);

api_error model_not_found_error(std::string_view id);

}  // namespace zai
