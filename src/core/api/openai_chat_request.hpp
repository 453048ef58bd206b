// The client's side of the product: a `POST /v1/chat/completions` body read into the neutral
// `chat_request` (chat.hpp), validated the way OpenAI validates it. Anything wrong is a 400 whose `param`
// names the exact field (`messages[2].content[0].text`), so a client can see what to fix. Fields
// the proxy does not use are ignored, as OpenAI-compatible servers do; fields it cannot honour
// (image inputs, n > 1) are refused rather than silently dropped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/chat.hpp"
#include "core/error.hpp"

namespace zai {

// errc::invalid_json when the body is not JSON (or not UTF-8); errc::invalid_request, with
// `param`, for everything else.
result<chat_request> parse_chat_request(std::string_view body);

}  // namespace zai
