// Which Z.AI model a public model id means. Clients ask for `glm-4.7`; the upstream wants its own
// id (`glm-4.7`, `GLM-4-6-API-V1`, `0727-360B-API`, …, reference §3.5) plus feature defaults such
// as whether thinking is on. The built-in table can be extended or overridden at start-up with
// ZAI_MODELS so that a new upstream model needs no rebuild. Aliases give listed models the names
// other clients ask for: Claude Code asks for `claude-…` ids and its model picker keeps only ids
// containing "claude", so the built-in aliases map the Claude family names (and any other
// `claude-*` id) to the guest model; MODEL_ALIASES changes them. Also renders `GET /v1/models` and
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

// Another name for a listed model. A `name` ending in '*' is a pattern for every id that starts
// with what comes before it (`claude-*`); patterns resolve but are not listed.
struct model_alias {
  std::string name;
  std::string target;  // a public id the table lists (suffixes allowed: `glm-4.7-thinking`)

  bool operator==(const model_alias&) const = default;
};

struct model_table {
  std::vector<model_info> models;
  std::vector<model_alias> aliases;

  bool operator==(const model_table&) const = default;
};

// The built-in models and the built-in aliases.
model_table builtin_models();

// ZAI_MODELS: a JSON object merged over `base` (normally builtin_models()). Each member is
//   "public-id": "upstream-id"                                    add or re-point a model
//   "public-id": {"upstream":"id","thinking":bool,"web_search":bool,"created":int}
//                                   (every field optional; `upstream` defaults to the public id,
//                                    others to the entry being replaced or false/0)
//   "public-id": null                                             remove a built-in model
// Errors are one line naming the offending member, for the config error message.
result<model_table, std::string> merge_models_json(const model_table& base, std::string_view json);

// MODEL_ALIASES: a JSON object merged over `base.aliases`. Each member is
//   "alias": "public-id"    add or re-point an alias; a pattern ("claude-opus-*") also re-points
//                           every listed alias it covers, so one entry moves a whole family
//   "alias": null           remove an alias (`"claude-*": null` ends the catch-all)
// The target must resolve in `base` (so ZAI_MODELS applies first); a listed model id cannot be an
// alias. Errors are one line naming the offending member.
result<model_table, std::string> merge_aliases_json(const model_table& base, std::string_view json);

// Empty when every alias's target resolves; otherwise one line naming the first that does not
// (ZAI_MODELS removed the model a built-in alias points to).
std::string dangling_alias(const model_table& table);

// A public id as the request asked for it, resolved. Lookup ignores ASCII case. Two suffix
// conventions of earlier proxies are honoured on any listed id: `-thinking` forces thinking on,
// `-search` turns web search on (`glm-4.7-thinking`, `glm-4.7-search`, `glm-4.7-thinking-search`).
// Listed ids win over aliases, an exact alias over a pattern, a longer pattern over a shorter.
struct resolved_model {
  // The public id as listed (canonical case, suffixes kept); for an alias, the alias as listed,
  // or for a pattern the id as the client sent it: answers name the model the client asked for.
  std::string id;
  std::string upstream_id;
  bool thinking = false;  // default thinking, after suffixes; a request toggle overrides it
  bool web_search = false;
};

// errc::model_not_found (OpenAI's 404 `model_not_found`) when the id is unknown.
result<resolved_model> resolve_model(const model_table& table, std::string_view requested);

// `{"object":"list","data":[{"id","object":"model","created","owned_by":"z-ai"},…]}`: the models,
// then the aliases that are not patterns (each with its target's `created`).
std::string models_list_json(const model_table& table);
// The single object for GET /v1/models/{id} (suffixes and aliases accepted), or model_not_found.
result<std::string> model_object_json(const model_table& table, std::string_view id);

api_error model_not_found_error(std::string_view id);

}  // namespace zai
