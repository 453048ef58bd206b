// Structured logs: one JSON object per line on stderr. Callers pass only what is safe to log —
// never a client key or a guest token.
#pragma once

#include <initializer_list>
#include <string_view>
#include <utility>

namespace zai {
enum class log_level;  // defined with the configuration (LOG_LEVEL)
}

namespace zai::server {

void set_log_level(log_level level);
bool log_enabled(log_level level);

using log_field = std::pair<std::string_view, std::string_view>;
void log_event(std::string_view level, std::string_view event,
               std::initializer_list<log_field> fields);

}  // namespace zai::server
