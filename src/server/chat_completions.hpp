// POST /v1/chat/completions: lease a guest token, send the signed upstream request, and relay
// the translated stream (or collect it into one completion). Upstream errors are detected
// before the client's status line whenever they arrive before the first text, so the client
// gets the real status; retries happen only then, on another token, within a small budget.
#pragma once

#include "core/models.hpp"
#include "core/api/openai_chat_request.hpp"
#include "server/app.hpp"

namespace zai::server {

awaitable<bool> serve_chat_completion(app& a, exchange& ex, const chat_request& request,
                                      const resolved_model& model);

}  // namespace zai::server
