// The table behind parse_config and help_text (config.hpp): one row per setting with its
// documentation, how its value is read, and the function that stores it. Internal to the two
// files that implement config.hpp; nothing else includes it.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/config.hpp"

namespace zai::config_table {

// A setter stores `value` into the config or returns why it cannot.
using setter = std::string (*)(config&, std::string_view value, const file_reader&);

enum option_flags : unsigned {
  plain = 0,
  boolean = 1,    // a flag without a value means true; --no-x means false
  secret = 2,     // never echoed in an error message
  multiline = 4,  // may contain newlines (JSON text)
};

struct option {
  option_doc doc;
  unsigned flags;
  setter apply;
};

std::span<const option> options();

}  // namespace zai::config_table
