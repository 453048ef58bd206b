// The OpenAI chat completions surface (`POST /v1/chat/completions`): the request parser of
// openai_chat_request.hpp, the chunk and completion writers of openai_chat_response.hpp, and
// OpenAI's error object, behind the surface interface the flow speaks to.
#pragma once

#include "core/api/surface.hpp"

namespace zai {

const surface& openai_chat_surface();

}  // namespace zai
