// Drives one completion flow (src/core/flow/completion_flow.hpp) over real sockets: the flow
// decides every step, this coroutine performs it — waits for a token, fetches the captcha and
// the front page, sends the upstream request, reads the body, writes the client's response —
// and reports back. It also watches the client (a departed one closes the upstream at once),
// writes keep-alives when the flow has nothing to say, and answers the shutdown cut.
#pragma once

#include <memory>

#include "core/flow/completion_flow.hpp"
#include "server/worker.hpp"

namespace zai::server {

// Returns whether the client's connection may carry another request. The flow is owned here,
// in this coroutine's frame, for as long as the completion runs.
awaitable<bool> serve_completion(worker& loop, exchange& ex, std::unique_ptr<completion_flow> flow);

}  // namespace zai::server
