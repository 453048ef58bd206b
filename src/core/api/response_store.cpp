#include "core/api/response_store.hpp"

namespace zai {

response_store_options responses_store_options(const config& cfg) {
  response_store_options o;
  o.max_count = cfg.responses_store_max;
  o.max_age_ms = static_cast<double>(cfg.responses_store_max_age_seconds) * 1000;
  o.max_bytes = cfg.responses_store_max_bytes;
  return o;
}

response_store::response_store(response_store_options options) : options_(options) {}

std::size_t response_store::size_of(const stored_response& r) {
  // The fixed costs stand for the containers' own memory, so that many tiny entries still count.
  constexpr std::size_t per_entry = 256;
  constexpr std::size_t per_message = 128;
  std::size_t n = per_entry + r.id.size() + r.body.size();
  for (const chat_message& m : r.conversation) {
    n += per_message + m.text.size() + m.name.size() + m.tool_call_id.size() + m.tool_name.size();
    for (const tool_call& c : m.tool_calls) {
      n += per_message + c.id.size() + c.name.size() + c.arguments.size();
    }
  }
  return n;
}

void response_store::put(stored_response r, double now_ms) {
  if (!enabled()) return;
  drop_expired(now_ms);
  erase(r.id);
  const std::size_t bytes = size_of(r);
  if (bytes > options_.max_bytes) return;
  while (!entries_.empty() &&
         (entries_.size() >= options_.max_count || bytes_ + bytes > options_.max_bytes)) {
    drop(entries_.begin());
  }
  std::string id = r.id;
  entries_.push_back(entry{std::move(r), now_ms, bytes});
  by_id_[std::move(id)] = std::prev(entries_.end());
  bytes_ += bytes;
}

const stored_response* response_store::find(std::string_view id, double now_ms) {
  drop_expired(now_ms);
  const auto it = by_id_.find(std::string(id));
  return it == by_id_.end() ? nullptr : &it->second->response;
}

bool response_store::erase(std::string_view id) {
  const auto it = by_id_.find(std::string(id));
  if (it == by_id_.end()) return false;
  drop(it->second);
  return true;
}

void response_store::drop_expired(double now_ms) {
  // Entries are in the order they were stored, so the expired ones are at the front.
  while (!entries_.empty() && now_ms - entries_.front().stored_ms > options_.max_age_ms) {
    drop(entries_.begin());
  }
}

void response_store::drop(order::iterator it) {
  bytes_ -= it->bytes;
  by_id_.erase(it->response.id);
  entries_.erase(it);
}

}  // namespace zai
