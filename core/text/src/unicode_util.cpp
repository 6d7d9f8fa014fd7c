#include "unicode_util.h"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/regex.h>
#include <unicode/uchar.h>
#include <unicode/ucnv.h>
#include <unicode/uniset.h>
#include <unicode/unistr.h>

#include <array>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <unordered_map>

namespace prismer::text::detail {

namespace {

icu::UnicodeString to_icu(std::u32string_view s) {
  return icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(s.data()), static_cast<int32_t>(s.size()));
}

std::u32string from_icu(const icu::UnicodeString& s) {
  std::u32string out;
  out.reserve(static_cast<size_t>(s.length()));
  for (int32_t i = 0; i < s.length();) {
    const UChar32 c = s.char32At(i);
    out.push_back(static_cast<char32_t>(c));
    i += U16_LENGTH(c);
  }
  return out;
}

void check(UErrorCode status, const char* what) {
  if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU error in ") + what + ": " + u_errorName(status));
}

// Windows-1252 0x80..0x9F, taken from ICU's converter once.
struct Cp1252 {
  std::array<char32_t, 32> high{};
  std::array<bool, 32> undefined{};
  std::unordered_map<char32_t, int> reverse;  // code point -> byte 0x80..0x9F (non-identity entries only)

  Cp1252() {
    UErrorCode status = U_ZERO_ERROR;
    UConverter* conv = ucnv_open("windows-1252", &status);
    check(status, "ucnv_open(windows-1252)");
    for (int b = 0x80; b < 0xA0; ++b) {
      const char in[1] = {static_cast<char>(b)};
      UChar out[4];
      UErrorCode e = U_ZERO_ERROR;
      const int32_t n = ucnv_toUChars(conv, out, 4, in, 1, &e);
      char32_t cp = static_cast<char32_t>(b);
      if (U_SUCCESS(e) && n == 1 && out[0] != 0xFFFD && out[0] != 0x1A) cp = out[0];
      high[static_cast<size_t>(b - 0x80)] = cp;
      // ICU's table maps the bytes that strict Windows-1252 leaves undefined to the same-numbered C1 control.
      undefined[static_cast<size_t>(b - 0x80)] = (cp == static_cast<char32_t>(b));
      if (cp != static_cast<char32_t>(b)) reverse.emplace(cp, b);
    }
    ucnv_close(conv);
  }
};

const Cp1252& cp1252() {
  static const Cp1252 table;
  return table;
}

}  // namespace

void append_utf8(std::string& out, char32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
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

std::u32string utf8_to_u32(std::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  const size_t n = bytes.size();
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<unsigned char>(bytes[k]); };
  while (i < n) {
    const unsigned char b0 = at(i);
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      out.push_back(0xFFFD);  // invalid start byte
      ++i;
      continue;
    }
    char32_t cp = b0 & (0xFF >> (len + 1));
    size_t j = i + 1;
    bool ok = true;
    for (size_t k = 1; k < len; ++k, ++j) {
      if (j >= n) {
        ok = false;
        break;
      }
      const unsigned char b = at(j);
      const unsigned char l = (k == 1) ? lo : 0x80, h = (k == 1) ? hi : 0xBF;
      if (b < l || b > h) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (b & 0x3F);
    }
    if (ok) {
      out.push_back(cp);
      i = j;
    } else {
      out.push_back(0xFFFD);  // one replacement for the maximal ill-formed subpart
      i = j;
    }
  }
  return out;
}

std::string u32_to_utf8(std::u32string_view cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t c : cps) append_utf8(out, c);
  return out;
}

std::string utf8_sanitize(std::string_view bytes) {
  bool ascii = true;
  for (char c : bytes) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return std::string(bytes);
  return u32_to_utf8(utf8_to_u32(bytes));
}

bool python_isspace(char32_t cp) {
  const auto c = static_cast<UChar32>(cp);
  if (u_charType(c) == U_SPACE_SEPARATOR) return true;
  const UCharDirection d = u_charDirection(c);
  return d == U_WHITE_SPACE_NEUTRAL || d == U_BLOCK_SEPARATOR || d == U_SEGMENT_SEPARATOR;
}

bool regex_isspace(char32_t cp) { return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_WHITE_SPACE) != 0; }

std::u32string_view python_lstrip(std::u32string_view s) {
  size_t b = 0;
  while (b < s.size() && python_isspace(s[b])) ++b;
  return s.substr(b);
}

std::u32string_view python_rstrip(std::u32string_view s) {
  size_t e = s.size();
  while (e > 0 && python_isspace(s[e - 1])) --e;
  return s.substr(0, e);
}

std::u32string_view python_strip(std::u32string_view s) { return python_rstrip(python_lstrip(s)); }

std::u32string python_lower(std::u32string_view s) {
  bool ascii = true;
  for (char32_t c : s) ascii = ascii && c < 0x80;
  if (ascii) {
    std::u32string out(s);
    for (auto& c : out)
      if (c >= U'A' && c <= U'Z') c += 32;
    return out;
  }
  icu::UnicodeString u = to_icu(s);
  u.toLower(icu::Locale::getRoot());
  return from_icu(u);
}

std::u32string python_upper(std::u32string_view s) {
  icu::UnicodeString u = to_icu(s);
  u.toUpper(icu::Locale::getRoot());
  return from_icu(u);
}

std::u32string nfc(std::u32string_view s) {
  bool ascii = true;
  for (char32_t c : s) ascii = ascii && c < 0x80;
  if (ascii) return std::u32string(s);
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(status);
  check(status, "getNFCInstance");
  icu::UnicodeString out = n->normalize(to_icu(s), status);
  check(status, "NFC");
  return from_icu(out);
}

std::u32string nfkc(std::u32string_view s) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFKCInstance(status);
  check(status, "getNFKCInstance");
  icu::UnicodeString out = n->normalize(to_icu(s), status);
  check(status, "NFKC");
  return from_icu(out);
}

std::u32string raw_compat_decomposition(char32_t cp) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFKCInstance(status);
  check(status, "getNFKCInstance");
  icu::UnicodeString out;
  if (!n->getRawDecomposition(static_cast<UChar32>(cp), out)) return {};
  return from_icu(out);
}

bool is_noncharacter(char32_t cp) {
  return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_NONCHARACTER_CODE_POINT) != 0;
}

char32_t cp1252_high(unsigned char byte) { return cp1252().high[static_cast<size_t>(byte - 0x80)]; }

bool cp1252_undefined(unsigned char byte) { return cp1252().undefined[static_cast<size_t>(byte - 0x80)]; }

int cp1252_byte(char32_t cp) {
  if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF)) return static_cast<int>(cp);
  if (cp >= 0x80 && cp < 0xA0) return cp1252_undefined(static_cast<unsigned char>(cp)) ? static_cast<int>(cp) : -1;
  const auto& rev = cp1252().reverse;
  const auto it = rev.find(cp);
  return it == rev.end() ? -1 : it->second;
}

std::u16string case_variant_escapes(const std::u16string& set_pattern) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::UnicodeString pat(set_pattern.data(), static_cast<int32_t>(set_pattern.size()));
  const icu::UnicodeSet base(pat, status);
  check(status, "UnicodeSet");
  icu::UnicodeSet closed(base);
  closed.closeOver(USET_CASE_INSENSITIVE);
  closed.removeAllStrings();
  closed.removeAll(base);
  std::u16string out;
  char buf[16];
  for (int32_t r = 0; r < closed.getRangeCount(); ++r) {
    for (UChar32 c = closed.getRangeStart(r); c <= closed.getRangeEnd(r); ++c) {
      std::snprintf(buf, sizeof buf, "\\x{%X}", static_cast<unsigned>(c));
      for (const char* p = buf; *p != '\0'; ++p) out.push_back(static_cast<char16_t>(*p));
    }
  }
  return out;
}

Regex::Regex(const std::u16string& pattern, bool case_insensitive) : pattern_(nullptr) {
  UErrorCode status = U_ZERO_ERROR;
  UParseError pe;
  const icu::UnicodeString pat(pattern.data(), static_cast<int32_t>(pattern.size()));
  icu::RegexPattern* p = icu::RegexPattern::compile(pat, case_insensitive ? UREGEX_CASE_INSENSITIVE : 0, pe, status);
  check(status, "RegexPattern::compile");
  pattern_ = p;
}

Regex::~Regex() { delete static_cast<icu::RegexPattern*>(pattern_); }

std::vector<std::string> Regex::findall(std::string_view utf8) const {
  std::vector<std::string> out;
  if (utf8.empty()) return out;
  const icu::UnicodeString input = icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::RegexMatcher> m(static_cast<icu::RegexPattern*>(pattern_)->matcher(input, status));
  check(status, "RegexPattern::matcher");
  while (m->find(status)) {
    check(status, "RegexMatcher::find");
    const int32_t s = m->start(status);
    const int32_t e = m->end(status);
    std::string piece;
    input.tempSubStringBetween(s, e).toUTF8String(piece);
    out.push_back(std::move(piece));
  }
  check(status, "RegexMatcher::find");
  return out;
}

}  // namespace prismer::text::detail
