// Byte encodings the Z.AI protocol needs: Base64 (signing), Base64url (JWT payloads), lowercase
// hex (signatures), application/x-www-form-urlencoded (the signed query string), and the check
// that keeps header values free of CR/LF (and quoted values out of one-line messages).
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace zai {

std::string base64_encode(std::string_view bytes);

// Accepts both the standard and the URL-safe alphabet, with or without '=' padding.
// Returns nullopt on any other character or an impossible length.
std::optional<std::string> base64_decode(std::string_view text);

std::string hex_lower(std::span<const unsigned char> bytes);

// The value of one hexadecimal digit (either case), or -1.
int hex_digit_value(char c);

// An RFC 4122 version-4 UUID (8-4-4-4-12 lower-case hex) from 16 random bytes.
std::string uuid_v4(std::array<unsigned char, 16> random_bytes);

// Form encoding as the browser's URLSearchParams does it: unreserved bytes stay, space becomes
// '+', everything else is %XX with upper-case hex.
std::string form_urlencode(std::string_view text);
void append_form_urlencoded(std::string& out, std::string_view text);

// ASCII control characters (0x00–0x1F and DEL), which no setting or URL may contain.
bool is_control(char c);

// `text` with ASCII A–Z lowered (header names, URL schemes and hosts, setting values).
std::string ascii_lower(std::string_view text);

// True when `value` may be sent as an HTTP header value: no control characters (HTAB allowed),
// so no CR/LF that could end the header or smuggle another one.
bool is_header_safe(std::string_view value);

// `text` as it may be quoted inside a one-line message (a start-up error): every control
// character, newlines included, becomes '?', and text longer than `max_bytes` is cut at a
// character boundary and marked with "...".
std::string one_line_excerpt(std::string_view text, std::size_t max_bytes);

}  // namespace zai
