// Start-up configuration on arbitrary environments and command lines: `parse_config`, and
// ZAI_MODELS JSON merged over the built-in model table.
//
// Input: when it starts with '{' it is a ZAI_MODELS value as a whole. Otherwise it is records,
// one per line (a line ending in a backslash continues on the next, keeping the newline, so
// values can hold newlines):
//   NAME=value       an environment variable
//   @path=contents   a file the ZAI_MODELS file reader can return
//   anything else    the next command-line argument (--flag, --flag=value, a stray word)
// What must hold:
//   - parsing is deterministic;
//   - a refusal is one line without control characters (start-up prints it as is), valid UTF-8
//     when every input is, and never shows the value of a secret setting (API_KEY,
//     ZAI_SIGNING_SECRET): with those values' letters and digits changed, it stays the same;
//   - an accepted model table has no two ids equal ignoring case, every listed id resolves to
//     itself, and /v1/models renders as valid JSON.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/models.hpp"
#include "core/stream/utf16.hpp"
#include "fuzz_support.hpp"

namespace zai::fuzz {
namespace {

struct setting_input {
  std::map<std::string, std::string, std::less<>> env;
  std::map<std::string, std::string, std::less<>> files;
  std::vector<std::string> args;
};

std::vector<std::string> records_of(std::string_view input) {
  std::vector<std::string> records;
  std::string current;
  while (!input.empty()) {
    const std::size_t end = input.find('\n');
    std::string_view line = input.substr(0, end);
    input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
    if (line.ends_with('\\') && end != std::string_view::npos) {
      line.remove_suffix(1);
      current.append(line).push_back('\n');
      continue;
    }
    current.append(line);
    records.push_back(std::move(current));
    current.clear();
  }
  if (!current.empty()) records.push_back(std::move(current));
  return records;
}

setting_input settings_of(std::string_view input) {
  setting_input in;
  if (input.starts_with('{')) {
    in.env["ZAI_MODELS"] = std::string(input);
    return in;
  }
  for (std::string& r : records_of(input)) {
    const std::size_t equals = r.find('=');
    const bool named = equals != std::string::npos && equals > 0 && !r.starts_with('-');
    if (named && r.starts_with('@')) {
      in.files[r.substr(1, equals - 1)] = r.substr(equals + 1);
    } else if (named) {
      in.env[r.substr(0, equals)] = r.substr(equals + 1);
    } else {
      in.args.push_back(std::move(r));
    }
  }
  return in;
}

result<config, std::string> parse(const setting_input& in) {
  const env_lookup env = [&in](std::string_view name) -> std::optional<std::string> {
    const auto it = in.env.find(name);
    if (it == in.env.end()) return std::nullopt;
    return it->second;
  };
  const file_reader read_file = [&in](std::string_view path) -> std::optional<std::string> {
    const auto it = in.files.find(path);
    if (it == in.files.end()) return std::nullopt;
    return it->second;
  };
  const std::vector<std::string_view> args(in.args.begin(), in.args.end());
  return parse_config(env, args, read_file);
}

// A value exactly as valid as `value` but different: letters and digits rotate (a→b, z→a,
// 9→0); separators, spaces and control characters, which decide validity, stay.
std::string rotated(std::string_view value) {
  std::string out(value);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = c == 'z' ? 'a' : char(c + 1);
    if (c >= 'A' && c <= 'Z') c = c == 'Z' ? 'A' : char(c + 1);
    if (c >= '0' && c <= '9') c = c == '9' ? '0' : char(c + 1);
  }
  return out;
}

// The same settings with every value given to a secret setting (API_KEY, ZAI_SIGNING_SECRET,
// from the environment or a flag) rotated. A refusal that shows no secret is the same for both.
setting_input with_other_secrets(setting_input in) {
  for (const std::string_view name : {"API_KEY", "ZAI_SIGNING_SECRET"}) {
    if (const auto it = in.env.find(name); it != in.env.end()) it->second = rotated(it->second);
    const std::string flag = flag_name(name);
    for (std::size_t a = 0; a < in.args.size(); ++a) {
      std::string& arg = in.args[a];
      if (arg == flag && a + 1 < in.args.size() && !in.args[a + 1].starts_with("--")) {
        in.args[a + 1] = rotated(in.args[a + 1]);
        ++a;
      } else if (arg.starts_with(flag + "=")) {
        arg = flag + "=" + rotated(std::string_view(arg).substr(flag.size() + 1));
      }
    }
  }
  return in;
}

bool all_valid_utf8(const setting_input& in) {
  for (const auto& [name, value] : in.env) {
    if (!is_valid_utf8(name) || !is_valid_utf8(value)) return false;
  }
  for (const auto& [path, text] : in.files) {
    if (!is_valid_utf8(text)) return false;
  }
  return std::all_of(in.args.begin(), in.args.end(),
                     [](const std::string& a) { return is_valid_utf8(a); });
}

void check_refusal(const std::string& why, const setting_input& in) {
  require(!why.empty(), "a refusal says why");
  for (const char c : why) {
    const auto u = static_cast<unsigned char>(c);
    require(u >= 0x20 && u != 0x7F, "a refusal is one line without control characters", why);
  }
  // Shortened quotes keep whole characters (the Worker shows this text in a JSON error).
  if (all_valid_utf8(in)) require(is_valid_utf8(why), "a refusal from UTF-8 is UTF-8", why);
}

bool iequal(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

void check_models(const model_table& table) {
  for (std::size_t i = 0; i < table.models.size(); ++i) {
    const model_info& m = table.models[i];
    require(!m.id.empty() && !m.upstream_id.empty(), "model ids are not empty", m.id);
    for (std::size_t j = i + 1; j < table.models.size(); ++j) {
      require(!iequal(m.id, table.models[j].id), "model ids differ ignoring case", m.id);
    }
    const result<resolved_model> r = resolve_model(table, m.id);
    require(r.has_value() && r->id == m.id && r->upstream_id == m.upstream_id,
            "every listed model resolves to itself", m.id);
  }
  require_json(models_list_json(table), "/v1/models is valid JSON");
}

}  // namespace
}  // namespace zai::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace zai;
  using namespace zai::fuzz;
  const setting_input in = settings_of(as_text(data, size));

  // The model map alone, as ZAI_MODELS is documented: merged over the built-in table.
  if (const auto it = in.env.find("ZAI_MODELS"); it != in.env.end()) {
    const result<model_table, std::string> merged = merge_models_json(builtin_models(), it->second);
    if (merged.has_value()) check_models(*merged);
    if (merged.has_error()) check_refusal(merged.error(), in);
  }

  const result<config, std::string> first = parse(in);
  const result<config, std::string> again = parse(in);
  require(first.has_value() == again.has_value(), "parsing is deterministic");
  if (first.has_error()) {
    require(first.error() == again.error(), "parsing is deterministic", first.error());
    check_refusal(first.error(), in);
    const result<config, std::string> other = parse(with_other_secrets(in));
    require(other.has_error() && other.error() == first.error(), "a refusal never shows a secret",
            first.error());
    return 0;
  }
  require(*first == *again, "parsing is deterministic");
  check_models(first->models);
  return 0;
}
