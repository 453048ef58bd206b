#include "core/models.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <optional>

#include "core/encoding.hpp"

namespace zai {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

bool ends_with_ignoring_case(std::string_view text, std::string_view suffix) {
  return text.size() > suffix.size() && iequals(text.substr(text.size() - suffix.size()), suffix);
}

bool is_pattern(std::string_view alias) { return alias.ends_with('*'); }

// Whether pattern `claude-*` covers `id`; the bare prefix itself ("claude-") is not an id it names.
bool covers(std::string_view pattern, std::string_view id) {
  const std::string_view prefix = pattern.substr(0, pattern.size() - 1);
  return id.size() > prefix.size() && iequals(id.substr(0, prefix.size()), prefix);
}

const model_info* find(const model_table& table, std::string_view id) {
  for (const model_info& m : table.models) {
    if (iequals(m.id, id)) return &m;
  }
  return nullptr;
}

// A requested id split into the listed model and the suffix conventions it carries.
struct model_lookup {
  const model_info* model = nullptr;
  std::string suffix;  // lower-cased, e.g. "-thinking"
  bool thinking = false;
  bool web_search = false;
};

model_lookup lookup(const model_table& table, std::string_view requested) {
  model_lookup out;
  std::string_view base = requested;
  // Listed ids win over the suffix reading, so a ZAI_MODELS entry may itself end in `-search`.
  for (int stripped = 0; find(table, base) == nullptr && stripped < 2; ++stripped) {
    if (ends_with_ignoring_case(base, "-thinking") && !out.thinking) {
      out.thinking = true;
      base.remove_suffix(9);
    } else if (ends_with_ignoring_case(base, "-search") && !out.web_search) {
      out.web_search = true;
      base.remove_suffix(7);
    } else {
      break;
    }
  }
  out.model = find(table, base);
  for (char c : requested.substr(base.size())) out.suffix += lower(c);
  return out;
}

// The alias `requested` names: an exact alias first, then the longest pattern that covers it.
const model_alias* find_alias(const model_table& table, std::string_view requested) {
  const model_alias* best = nullptr;
  for (const model_alias& a : table.aliases) {
    if (!is_pattern(a.name)) {
      if (iequals(a.name, requested)) return &a;
    } else if (covers(a.name, requested) && (!best || a.name.size() > best->name.size())) {
      best = &a;
    }
  }
  return best;
}

// What a requested id names: a listed model (suffixes read), or the model an alias points to.
struct named_model {
  model_lookup target;
  std::string id;  // the public id answers carry
};

std::optional<named_model> name_model(const model_table& table, std::string_view requested) {
  model_lookup found = lookup(table, requested);
  if (found.model != nullptr) return named_model{found, found.model->id + found.suffix};
  const model_alias* alias = find_alias(table, requested);
  if (alias == nullptr) return std::nullopt;
  found = lookup(table, alias->target);
  if (found.model == nullptr) return std::nullopt;  // dangling; parse_config refuses that
  return named_model{found, is_pattern(alias->name) ? std::string(requested) : alias->name};
}

boost::json::object model_object(const model_info& m, std::string_view id) {
  return {{"id", id}, {"object", "model"}, {"created", m.created}, {"owned_by", "z-ai"}};
}

// One ZAI_MODELS member applied to `entry` (already holding the replaced model's values, or
// defaults). Returns an error text, or empty on success.
std::string apply_model_spec(model_info& entry, const boost::json::value& spec) {
  if (const boost::json::string* s = spec.if_string()) {
    if (s->empty()) return "upstream id must not be empty";
    entry.upstream_id = std::string(*s);
    return {};
  }
  const boost::json::object* o = spec.if_object();
  if (o == nullptr) return "expected an upstream id string, an object or null";
  for (const auto& member : *o) {
    const std::string_view key = member.key();
    const boost::json::value& v = member.value();
    if (key == "upstream") {
      const boost::json::string* s = v.if_string();
      if (s == nullptr || s->empty()) return "\"upstream\" must be a non-empty string";
      entry.upstream_id = std::string(*s);
    } else if (key == "thinking" || key == "web_search") {
      const bool* b = v.if_bool();
      if (b == nullptr) return "\"" + std::string(key) + "\" must be true or false";
      (key == "thinking" ? entry.thinking : entry.web_search) = *b;
    } else if (key == "created") {
      const std::int64_t* i = v.if_int64();
      if (i == nullptr || *i < 0) return "\"created\" must be a non-negative integer";
      entry.created = *i;
    } else {
      return "unknown field \"" + one_line_excerpt(key, 60) +
             "\" (known: upstream, thinking, web_search, created)";
    }
  }
  return {};
}

// One MODEL_ALIASES member checked against `table`. Returns an error text, or empty when fine.
std::string check_alias(const model_table& table, std::string_view name,
                        const boost::json::value& target) {
  if (name.empty()) return "alias names must not be empty";
  const std::string quoted = "alias \"" + one_line_excerpt(name, 60) + "\": ";
  const std::size_t star = name.find('*');
  if (star != std::string_view::npos && star + 1 != name.size()) {
    return quoted + "'*' may only end a pattern";
  }
  if (!is_pattern(name) && lookup(table, name).model != nullptr) {
    return quoted + "is a listed model id, which an alias cannot rename";
  }
  if (target.is_null()) return {};
  const boost::json::string* id = target.if_string();
  if (id == nullptr || id->empty()) return quoted + "expected a public model id or null";
  if (lookup(table, *id).model == nullptr) {
    return quoted + "\"" + one_line_excerpt(*id, 60) + "\" is not a listed model";
  }
  return {};
}

void put_alias(model_table& table, std::string_view name, const boost::json::value& target) {
  auto existing = std::find_if(table.aliases.begin(), table.aliases.end(),
                               [&](const model_alias& a) { return iequals(a.name, name); });
  if (target.is_null()) {
    if (existing != table.aliases.end()) table.aliases.erase(existing);
    return;
  }
  const std::string id(target.get_string());
  if (is_pattern(name)) {
    // One entry moves a family: the listed aliases the pattern covers follow it.
    for (model_alias& a : table.aliases) {
      if (!is_pattern(a.name) && covers(name, a.name)) a.target = id;
    }
  }
  if (existing != table.aliases.end()) {
    existing->target = id;
  } else {
    table.aliases.push_back({std::string(name), id});
  }
}

}  // namespace

model_table builtin_models() {
  // thinking: the web UI sends enable_thinking=true for the 2026 models; the 2025 hybrids
  // (4.5 / 4.6) were served without it by earlier proxies unless `-thinking` was asked for.
  // Aliases: every Claude name goes to glm-4.7, the one model guest tokens may use; the named
  // ones are what Claude Code's model picker lists (its current and previous generations), the
  // pattern serves whatever id a newer Claude Code asks for.
  return {{
      {"glm-4.7", "glm-4.7", true, false, 1766448000},  // the guest model since 2026-05
      {"glm-4.6", "GLM-4-6-API-V1", false, false, 1759190400},
      {"glm-4.5", "0727-360B-API", false, false, 1753660800},
      {"glm-4.5-air", "0727-106B-API", false, false, 1753660800},
      {"glm-4.5v", "glm-4.5v", true, false, 1754870400},
      {"glm-4.6v", "glm-4.6v", true, false, 1765152000},
      {"glm-5", "glm-5", true, false, 1770768000},
      {"glm-5.1", "GLM-5.1", true, false, 1775952000},
      {"glm-5-turbo", "GLM-5-Turbo", true, false, 1781049600},
      {"glm-5v-turbo", "GLM-5v-Turbo", true, false, 1781049600},
      {"glm-5.2", "glm-5.2", true, false, 1782345600},
      {"glm-5.3", "glm-5.3", true, false, 1787184000},
      {"glm-5.3-flash", "glm-5.3-flash", true, false, 1787184000},
  },
  {
      {"claude-opus-5-5", "glm-4.7"},
      {"claude-sonnet-5-5", "glm-4.7"},
      {"claude-haiku-5-5", "glm-4.7"},
      {"claude-opus-5", "glm-4.7"},
      {"claude-sonnet-5", "glm-4.7"},
      {"claude-opus-4-6", "glm-4.7"},
      {"claude-sonnet-4-6", "glm-4.7"},
      {"claude-opus-4-5", "glm-4.7"},
      {"claude-sonnet-4-5", "glm-4.7"},
      {"claude-haiku-4-5", "glm-4.7"},
      {"claude-3-5-sonnet-latest", "glm-4.7"},
      {"claude-3-5-haiku-latest", "glm-4.7"},
      {"claude-*", "glm-4.7"},
  }};
}

result<model_table, std::string> merge_models_json(const model_table& base, std::string_view json) {
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(json, ec);
  if (ec) return "not valid JSON (" + ec.message() + ")";
  const boost::json::object* object = parsed.if_object();
  if (object == nullptr)
    return std::string("expected a JSON object {\"public-id\": \"upstream-id\"}");

  model_table out = base;
  for (const auto& member : *object) {
    const std::string id(member.key());
    if (id.empty()) return std::string("model ids must not be empty");
    auto existing = std::find_if(out.models.begin(), out.models.end(),
                                 [&](const model_info& m) { return iequals(m.id, id); });
    if (member.value().is_null()) {
      if (existing != out.models.end()) out.models.erase(existing);
      continue;
    }
    model_info entry =
        existing != out.models.end() ? *existing : model_info{id, id, false, false, 0};
    entry.id = id;
    if (std::string why = apply_model_spec(entry, member.value()); !why.empty()) {
      return "model \"" + one_line_excerpt(id, 60) + "\": " + why;
    }
    if (existing != out.models.end()) {
      *existing = std::move(entry);
    } else {
      out.models.push_back(std::move(entry));
    }
  }
  return out;
}

result<model_table, std::string> merge_aliases_json(const model_table& base,
                                                    std::string_view json) {
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(json, ec);
  if (ec) return "not valid JSON (" + ec.message() + ")";
  const boost::json::object* object = parsed.if_object();
  if (object == nullptr) return std::string("expected a JSON object {\"alias\": \"public-id\"}");

  std::vector<const boost::json::key_value_pair*> order;
  for (const auto& member : *object) {
    if (std::string why = check_alias(base, member.key(), member.value()); !why.empty()) {
      return why;
    }
    order.push_back(&member);
  }
  // Patterns first, shorter before longer, so that a narrower pattern and every named alias win
  // over a wider pattern whatever order the object lists them in.
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    const auto rank = [](std::string_view n) {
      return is_pattern(n) ? n.size() : std::string_view::npos;
    };
    return rank(a->key()) < rank(b->key());
  });
  model_table out = base;
  for (const auto* member : order) put_alias(out, member->key(), member->value());
  return out;
}

std::string dangling_alias(const model_table& table) {
  for (const model_alias& a : table.aliases) {
    if (lookup(table, a.target).model == nullptr) {
      return "alias \"" + one_line_excerpt(a.name, 60) + "\" points to \"" +
             one_line_excerpt(a.target, 60) + "\", which is not a listed model; re-point or " +
             "remove it in MODEL_ALIASES";
    }
  }
  return {};
}

result<resolved_model> resolve_model(const model_table& table, std::string_view requested) {
  const std::optional<named_model> named = name_model(table, requested);
  if (!named) return model_not_found_error(requested);
  const model_lookup& found = named->target;
  resolved_model out{named->id, found.model->upstream_id, found.model->thinking || found.thinking,
                     found.model->web_search || found.web_search};
  return out;
}

std::string models_list_json(const model_table& table) {
  boost::json::array data;
  data.reserve(table.models.size() + table.aliases.size());
  for (const model_info& m : table.models) data.push_back(model_object(m, m.id));
  for (const model_alias& a : table.aliases) {
    const model_info* target = lookup(table, a.target).model;
    if (!is_pattern(a.name) && target != nullptr) data.push_back(model_object(*target, a.name));
  }
  return boost::json::serialize(boost::json::object{{"object", "list"}, {"data", std::move(data)}});
}

result<std::string> model_object_json(const model_table& table, std::string_view id) {
  const std::optional<named_model> named = name_model(table, id);
  if (!named) return model_not_found_error(id);
  return boost::json::serialize(model_object(*named->target.model, named->id));
}

api_error model_not_found_error(std::string_view id) {
  // OpenAI's own wording, with `param` null as OpenAI sends it.
  return make_error(errc::model_not_found, "The model `" + std::string(id) +
                                               "` does not exist or you do not have access to it.");
}

}  // namespace zai
