#include "core/chat.hpp"

namespace zai {

std::string_view role_name(message_role role) {
  switch (role) {
    case message_role::system: return "system";
    case message_role::developer: return "developer";
    case message_role::user: return "user";
    case message_role::assistant: return "assistant";
    case message_role::tool: return "tool";
  }
  return "user";
}

}  // namespace zai
