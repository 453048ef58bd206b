// The ids a completion needs (four UUIDs for the upstream request, its response and tool-call ids),
// from a pseudo-random generator the edge seeds once from its platform's entropy, so the core
// reads no random source itself.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace zai {

class id_generator {
 public:
  explicit id_generator(std::uint64_t seed) : random_(seed) {}

  std::string uuid();           // RFC 4122 version 4, lower-case 8-4-4-4-12
  // `prefix` and 32 hex digits: "chatcmpl-…", "msg_…", "call_…", as each client surface names them.
  std::string prefixed(std::string_view prefix);
  std::uint64_t bits() { return random_(); }

 private:
  std::mt19937_64 random_;
};

}  // namespace zai
