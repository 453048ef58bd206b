#include "core/ids.hpp"

#include <array>

#include "core/encoding.hpp"

namespace zai {

std::string id_generator::uuid() {
  std::array<unsigned char, 16> bytes{};
  for (std::size_t i = 0; i < bytes.size(); i += 8) {
    const std::uint64_t r = random_();
    for (std::size_t j = 0; j < 8; ++j) bytes[i + j] = static_cast<unsigned char>(r >> (8 * j));
  }
  return uuid_v4(bytes);
}

std::string id_generator::prefixed(std::string_view prefix) {
  std::string id = uuid();
  std::erase(id, '-');
  return std::string(prefix) + id;
}

}  // namespace zai
