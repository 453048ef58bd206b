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

}  // namespace zai
