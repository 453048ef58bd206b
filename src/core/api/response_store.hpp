// The responses a client asked the proxy to keep (OpenAI Responses API `store: true`), so that a
// later request can continue one with `previous_response_id` and `GET /v1/responses/{id}` can
// return it. It lives in memory, per process — per isolate in the Worker, so a Worker's
// continuation only finds a response its own isolate served — and forgets: a response older than
// the maximum age is gone, and the oldest go first when the count or the total size would pass
// their caps (RESPONSES_STORE_MAX, _MAX_AGE_SECONDS, _MAX_BYTES).
//
// Each entry is self-contained: the whole conversation that led to it (earlier turns it was
// continued from included) and its answer, as neutral messages ready to replay, plus the response
// object GET returns. Continuing never walks a chain that eviction could have broken; the price,
// a long chain stored once per turn, is what the byte cap bounds.
//
// Bookkeeping only, like the token pool: the caller passes the time in and serialises calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/chat.hpp"
#include "core/config.hpp"

namespace zai {

struct response_store_options {
  std::size_t max_count = 1000;           // 0: nothing is ever stored
  double max_age_ms = 3600.0 * 1000;      // older entries are gone
  std::size_t max_bytes = 16 * 1024 * 1024;
};

response_store_options responses_store_options(const config& cfg);

struct stored_response {
  std::string id;
  std::string body;                        // the response object, as GET returns it
  std::vector<chat_message> conversation;  // input (without `instructions`) then the answer
};

class response_store {
 public:
  explicit response_store(response_store_options options = {});

  // Whether `put` can keep anything at all (max_count > 0).
  bool enabled() const { return options_.max_count > 0; }

  // Keeps `r`, replacing an entry with the same id, then drops the oldest entries until the caps
  // hold. An entry larger than max_bytes on its own is not kept.
  void put(stored_response r, double now_ms);

  // The entry, or nullptr when it was never stored, was evicted or has expired. The pointer is
  // valid until the next put or erase.
  const stored_response* find(std::string_view id, double now_ms);

  bool erase(std::string_view id);

  std::size_t size() const { return entries_.size(); }
  std::size_t bytes() const { return bytes_; }

  // What an entry counts against max_bytes: its text plus a fixed cost per message.
  static std::size_t size_of(const stored_response& r);

 private:
  struct entry {
    stored_response response;
    double stored_ms = 0;
    std::size_t bytes = 0;
  };
  using order = std::list<entry>;  // oldest first

  void drop_expired(double now_ms);
  void drop(order::iterator it);

  response_store_options options_;
  order entries_;
  std::unordered_map<std::string, order::iterator> by_id_;
  std::size_t bytes_ = 0;
};

}  // namespace zai
