// UTF-8 as input is checked against it: where a byte sequence stops being valid, how long a character
// is, and the column a person counts (characters, not bytes).
#pragma once

#include <cstddef>
#include <string_view>

namespace sluice {

// The length in bytes of the well-formed UTF-8 character at `s[at]` (1 to 4), or 0 when the bytes there
// are not one (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, cut short).
size_t utf8CharLength(std::string_view s, size_t at);

// The offset of the first byte that does not start a well-formed character, or npos when `s` is valid.
size_t invalidUtf8Offset(std::string_view s);

// The 1-based column of byte `offset` in `s`, counting characters: the bytes of a multibyte character
// count once, an invalid byte counts as one.
int utf8Column(std::string_view s, size_t offset);

// The longest prefix of `s` of at most `maxBytes` that does not cut a character in two (for shortening
// text in a message).
std::string_view utf8Prefix(std::string_view s, size_t maxBytes);

}  // namespace sluice
