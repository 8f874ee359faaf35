// UTF-8 well-formedness as RFC 3629 defines it (table 3-7 of the Unicode standard).
#include "base/utf8.h"

namespace sluice {

namespace {

bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

size_t utf8CharLength(std::string_view s, size_t at) {
  if (at >= s.size()) return 0;
  const auto b0 = static_cast<unsigned char>(s[at]);
  if (b0 < 0x80) return 1;
  size_t length = 0;
  unsigned char low = 0x80;  // the range the second byte must fall in
  unsigned char high = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) low = 0xA0;   // no overlong forms
    if (b0 == 0xED) high = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) low = 0x90;   // no overlong forms
    if (b0 == 0xF4) high = 0x8F;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (at + length > s.size()) return 0;
  const auto b1 = static_cast<unsigned char>(s[at + 1]);
  if (b1 < low || b1 > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (!continuation(static_cast<unsigned char>(s[at + i]))) return 0;
  }
  return length;
}

size_t invalidUtf8Offset(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = utf8CharLength(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

int utf8Column(std::string_view s, size_t offset) {
  int column = 1;
  size_t i = 0;
  while (i < offset && i < s.size()) {
    const size_t n = utf8CharLength(s, i);
    i += n == 0 ? 1 : n;
    ++column;
  }
  return column;
}

std::string_view utf8Prefix(std::string_view s, size_t maxBytes) {
  if (s.size() <= maxBytes) return s;
  size_t cut = maxBytes;
  while (cut > 0 && continuation(static_cast<unsigned char>(s[cut]))) --cut;
  return s.substr(0, cut);
}

}  // namespace sluice
