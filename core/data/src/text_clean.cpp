// pre_caption / pre_question of the original dataset/utils.py. Case mapping through ICU's full (root
// locale) mappings, which follow the same Unicode SpecialCasing rules as CPython's str methods.
#include "prismer/data/text_clean.h"

#include <unicode/uchar.h>
#include <unicode/ucasemap.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include <string>
#include <vector>

namespace prismer::data {

namespace {

std::u32string decode_utf8(const std::string& s) {
  std::u32string out;
  out.reserve(s.size());
  std::size_t i = 0;
  const std::size_t n = s.size();
  auto fail = [&](std::size_t pos, const char* why) {
    throw TextDecodeError("'utf-8' codec can't decode byte 0x" +
                          std::string(1, "0123456789abcdef"[static_cast<unsigned char>(s[pos]) >> 4]) +
                          std::string(1, "0123456789abcdef"[static_cast<unsigned char>(s[pos]) & 15]) +
                          " in position " + std::to_string(pos) + ": " + why);
  };
  while (i < n) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    int len;
    char32_t cp;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2, cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3, cp = b & 0x0F;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;  // no surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4, cp = b & 0x07;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      fail(i, "invalid start byte");
    }
    for (int k = 1; k < len; ++k) {
      if (i + k >= n) fail(i, "unexpected end of data");
      const unsigned char c = static_cast<unsigned char>(s[i + k]);
      if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) fail(i, "invalid continuation byte");
      cp = (cp << 6) | (c & 0x3F);
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

std::string encode_utf8(const std::u32string& s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t cp : s) {
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
  return out;
}

std::u16string to_utf16(const std::u32string& s) {
  std::u16string out;
  for (char32_t cp : s) {
    if (cp < 0x10000) {
      out.push_back(static_cast<char16_t>(cp));
    } else {
      out.push_back(static_cast<char16_t>(U16_LEAD(cp)));
      out.push_back(static_cast<char16_t>(U16_TRAIL(cp)));
    }
  }
  return out;
}

std::u32string to_utf32(const std::u16string& s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    UChar32 c;
    U16_NEXT(s.data(), i, s.size(), c);
    out.push_back(static_cast<char32_t>(c));
  }
  return out;
}

enum class CaseOp { lower, capitalize };

std::u32string map_case(const std::u32string& text, CaseOp op) {
  if (text.empty()) return text;
  const std::u16string src = to_utf16(text);
  std::u16string dst(src.size() * 3 + 8, u'\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    UErrorCode status = U_ZERO_ERROR;
    int32_t len;
    if (op == CaseOp::lower) {
      len = u_strToLower(reinterpret_cast<UChar*>(dst.data()), static_cast<int32_t>(dst.size()),
                         reinterpret_cast<const UChar*>(src.data()), static_cast<int32_t>(src.size()), "", &status);
    } else {
      // The whole string as one "word", titlecasing exactly its first code point (no adjustment to the first
      // cased letter) and lowercasing the rest with the string as context: Python's capitalize().
      UCaseMap* csm = ucasemap_open("", U_TITLECASE_WHOLE_STRING | U_TITLECASE_NO_BREAK_ADJUSTMENT, &status);
      if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU ucasemap_open failed: ") + u_errorName(status));
      len = ucasemap_toTitle(csm, reinterpret_cast<UChar*>(dst.data()), static_cast<int32_t>(dst.size()),
                             reinterpret_cast<const UChar*>(src.data()), static_cast<int32_t>(src.size()), &status);
      ucasemap_close(csm);
    }
    if (status == U_BUFFER_OVERFLOW_ERROR) {
      dst.assign(static_cast<std::size_t>(len) + 1, u'\0');
      continue;
    }
    if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU case mapping failed: ") + u_errorName(status));
    dst.resize(static_cast<std::size_t>(len));
    return to_utf32(dst);
  }
  throw std::runtime_error("ICU case mapping failed: buffer");
}

bool is_special(char32_t c) {
  switch (c) {
    case U'.': case U'!': case U'"': case U'(': case U')': case U'*': case U'#': case U':': case U';': case U'~':
      return true;
    default:
      return false;
  }
}

/// capitalize() + the special-character substitution shared by both functions.
std::u32string capitalize_and_remove_specials(const std::string& text) {
  std::u32string s = map_case(decode_utf8(text), CaseOp::capitalize);
  for (char32_t& c : s)
    if (is_special(c)) c = U' ';
  return s;
}

/// split(' ') then ' '.join(first max_words) when there are more pieces.
std::u32string truncate_words(const std::u32string& s, int max_words) {
  std::size_t pieces = 1;
  for (char32_t c : s) pieces += c == U' ';
  if (max_words < 0 || pieces <= static_cast<std::size_t>(max_words)) return s;
  // Python: ' '.join(words[:max_words]); for max_words == 0 that is ''.
  if (max_words == 0) return {};
  std::size_t seen = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == U' ' && ++seen == static_cast<std::size_t>(max_words)) return s.substr(0, i);
  }
  return s;
}

}  // namespace

bool python_isspace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

std::string python_capitalize(const std::string& text) { return encode_utf8(map_case(decode_utf8(text), CaseOp::capitalize)); }

std::string python_lower(const std::string& text) { return encode_utf8(map_case(decode_utf8(text), CaseOp::lower)); }

std::string pre_caption(const std::string& caption, int max_words) {
  const std::u32string s = capitalize_and_remove_specials(caption);
  // re.sub(r"\s{2,}", ' ', s)
  std::u32string t;
  t.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (!python_isspace(s[i])) {
      t.push_back(s[i++]);
      continue;
    }
    std::size_t j = i;
    while (j < s.size() && python_isspace(s[j])) ++j;
    if (j - i >= 2) t.push_back(U' ');
    else t.push_back(s[i]);
    i = j;
  }
  // rstrip('\n'), strip(' ')
  while (!t.empty() && t.back() == U'\n') t.pop_back();
  std::size_t b = 0, e = t.size();
  while (b < e && t[b] == U' ') ++b;
  while (e > b && t[e - 1] == U' ') --e;
  return encode_utf8(truncate_words(t.substr(b, e - b), max_words));
}

std::string pre_question(const std::string& question, int max_words) {
  const std::u32string s = capitalize_and_remove_specials(question);
  std::size_t b = 0, e = s.size();
  while (b < e && python_isspace(s[b])) ++b;
  while (e > b && python_isspace(s[e - 1])) --e;
  std::u32string t = truncate_words(s.substr(b, e - b), max_words);
  if (t.empty()) throw std::out_of_range("string index out of range");
  if (t.back() != U'?') t.push_back(U'?');
  return encode_utf8(t);
}

std::string first_line_of_file(const std::string& file_bytes) {
  const std::u32string s = decode_utf8(file_bytes);
  if (s.empty()) throw std::out_of_range("list index out of range");
  std::u32string line;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == U'\n' || s[i] == U'\r') {
      line.push_back(U'\n');
      break;
    }
    line.push_back(s[i]);
  }
  return encode_utf8(line);
}

}  // namespace prismer::data
