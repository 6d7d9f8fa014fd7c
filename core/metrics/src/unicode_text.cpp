// UTF-8 decoding/encoding and the few Unicode properties the metrics need.
#include "prismer/metrics/unicode_text.h"

namespace prismer::metrics::unicode {

std::u32string decode_utf8(const std::string& text) {
  std::u32string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    char32_t cp = 0;
    std::size_t len = 0;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F;
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F;
      len = 3;
    } else if ((c & 0xF8) == 0xF0) {
      cp = c & 0x07;
      len = 4;
    } else {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    if (i + len > n) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    bool ok = true;
    for (std::size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    const bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (!ok || overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string encode_utf8(const std::u32string& text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_utf8(out, cp);
  return out;
}

char32_t to_lower(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  // Latin-1 Supplement.
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  // Latin Extended-A: pairs (upper even, lower odd) with a few exceptions.
  if (c >= 0x0100 && c <= 0x012F) return (c % 2 == 0) ? c + 1 : c;
  if (c >= 0x0132 && c <= 0x0137) return (c % 2 == 0) ? c + 1 : c;
  if (c >= 0x0139 && c <= 0x0148) return (c % 2 == 1) ? c + 1 : c;
  if (c >= 0x014A && c <= 0x0177) return (c % 2 == 0) ? c + 1 : c;
  if (c == 0x0178) return 0x00FF;
  if (c >= 0x0179 && c <= 0x017E) return (c % 2 == 1) ? c + 1 : c;
  // Greek.
  if (c == 0x0386) return 0x03AC;
  if (c >= 0x0388 && c <= 0x038A) return c + 37;
  if (c == 0x038C) return 0x03CC;
  if (c == 0x038E || c == 0x038F) return c + 63;
  if (c >= 0x0391 && c <= 0x03AB && c != 0x03A2) return c + 32;
  // Cyrillic.
  if (c >= 0x0400 && c <= 0x040F) return c + 80;
  if (c >= 0x0410 && c <= 0x042F) return c + 32;
  if (c >= 0x0460 && c <= 0x0481) return (c % 2 == 0) ? c + 1 : c;
  if (c >= 0x048A && c <= 0x04BF) return (c % 2 == 0) ? c + 1 : c;
  if (c == 0x04C0) return 0x04CF;
  if (c >= 0x04C1 && c <= 0x04CE) return (c % 2 == 1) ? c + 1 : c;
  if (c >= 0x04D0 && c <= 0x052F) return (c % 2 == 0) ? c + 1 : c;
  // Armenian.
  if (c >= 0x0531 && c <= 0x0556) return c + 48;
  // Latin Extended Additional.
  if (c >= 0x1E00 && c <= 0x1E95) return (c % 2 == 0) ? c + 1 : c;
  if (c == 0x1E9E) return 0x00DF;
  if (c >= 0x1EA0 && c <= 0x1EFF) return (c % 2 == 0) ? c + 1 : c;
  // Fullwidth Latin.
  if (c >= 0xFF21 && c <= 0xFF3A) return c + 32;
  return c;
}

std::string to_lower_utf8(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : decode_utf8(text)) {
    if (cp == 0x0130) {  // LATIN CAPITAL LETTER I WITH DOT ABOVE -> "i" + COMBINING DOT ABOVE
      out.push_back('i');
      append_utf8(out, 0x0307);
    } else {
      append_utf8(out, to_lower(cp));
    }
  }
  return out;
}

bool is_python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

bool is_unicode_decimal_digit(char32_t c) {
  if (c >= '0' && c <= '9') return true;
  if (c < 0x0660) return false;
  // First code point of each block of ten Nd digits (the common scripts of the BMP and a few beyond).
  static const char32_t kZeros[] = {
      0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
      0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0,
      0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0,
      0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450,
      0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x16A60, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2,
      0x1D7EC, 0x1D7F6, 0x1E950};
  for (char32_t z : kZeros) {
    if (c >= z && c < z + 10) return true;
  }
  return false;
}

std::vector<std::string> python_split(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  for (char32_t cp : decode_utf8(text)) {
    if (is_python_space(cp)) {
      if (in_word) out.push_back(cur);
      cur.clear();
      in_word = false;
    } else {
      append_utf8(cur, cp);
      in_word = true;
    }
  }
  if (in_word) out.push_back(cur);
  return out;
}

std::string python_strip(const std::string& text) {
  const std::u32string cps = decode_utf8(text);
  std::size_t b = 0;
  std::size_t e = cps.size();
  while (b < e && is_python_space(cps[b])) ++b;
  while (e > b && is_python_space(cps[e - 1])) --e;
  return encode_utf8(cps.substr(b, e - b));
}

}  // namespace prismer::metrics::unicode
