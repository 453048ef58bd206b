#include "server/log.hpp"

#include <chrono>
#include <cstdio>
#include <string>

#include "core/config.hpp"
#include "core/json_text.hpp"

namespace zai::server {
namespace {

log_level threshold = log_level::info;

log_level parse_level(std::string_view level) {
  if (level == "debug") return log_level::debug;
  if (level == "warn") return log_level::warn;
  if (level == "error") return log_level::error;
  return log_level::info;
}

}  // namespace

void set_log_level(log_level level) { threshold = level; }
bool log_enabled(log_level level) { return level >= threshold; }

void log_event(std::string_view level, std::string_view event,
               std::initializer_list<log_field> fields) {
  if (!log_enabled(parse_level(level))) return;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  std::string line = "{\"ts\":";
  append_json_uint(line, static_cast<std::uint64_t>(ms));
  line += ",\"level\":";
  append_json_string(line, level);
  line += ",\"event\":";
  append_json_string(line, event);
  for (const auto& [key, value] : fields) {
    line += ',';
    append_json_string(line, key);
    line += ':';
    append_json_string(line, value);
  }
  line += "}\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace zai::server
