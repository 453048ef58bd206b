#include "core/answer.hpp"

namespace zai {

std::string_view finish_reason_name(finish_reason reason) {
  switch (reason) {
    case finish_reason::stop: return "stop";
    case finish_reason::length: return "length";
    case finish_reason::content_filter: return "content_filter";
    case finish_reason::tool_calls: return "tool_calls";
  }
  return "stop";
}

token_usage estimate_usage(std::size_t prompt_bytes, std::size_t completion_bytes) {
  token_usage u;
  u.prompt_tokens = (prompt_bytes + 3) / 4;
  u.completion_tokens = (completion_bytes + 3) / 4;
  u.total_tokens = u.prompt_tokens + u.completion_tokens;
  return u;
}

}  // namespace zai
