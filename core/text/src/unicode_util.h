// Internal Unicode helpers shared by the tokenizers (not installed; ICU stays behind this header's .cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace prismer::text::detail {

/// Decodes UTF-8 into code points. Ill-formed input follows Python's `bytes.decode('utf-8', 'replace')`:
/// every maximal ill-formed subpart becomes one U+FFFD.
std::u32string utf8_to_u32(std::string_view bytes);

/// Encodes code points as UTF-8 (surrogates / out-of-range values become U+FFFD).
std::string u32_to_utf8(std::u32string_view cps);
void append_utf8(std::string& out, char32_t cp);

/// Python `bytes.decode('utf-8', errors='replace')`, returned as UTF-8 (valid input is returned unchanged).
std::string utf8_sanitize(std::string_view bytes);

/// Python `str.isspace()` for one code point: general category Zs or bidi class WS, B or S.
bool python_isspace(char32_t cp);
/// Python `regex` module `\s`: the Unicode White_Space property.
bool regex_isspace(char32_t cp);

/// Python `str.strip()` / `str.rstrip()` / `str.lstrip()` without arguments.
std::u32string_view python_strip(std::u32string_view s);
std::u32string_view python_rstrip(std::u32string_view s);
std::u32string_view python_lstrip(std::u32string_view s);

/// Python `str.lower()` / `str.upper()` (full case mappings, locale independent).
std::u32string python_lower(std::u32string_view s);
std::u32string python_upper(std::u32string_view s);

/// Unicode NFC.
std::u32string nfc(std::u32string_view s);
/// The raw (one level, unrecursive) NFKC decomposition mapping of a code point, or empty when it has none.
std::u32string raw_compat_decomposition(char32_t cp);
/// Full NFKC of a string.
std::u32string nfkc(std::u32string_view s);

/// True for Unicode noncharacters (U+FDD0..U+FDEF and U+xxFFFE / U+xxFFFF).
bool is_noncharacter(char32_t cp);

/// Windows-1252 byte 0x80..0x9F as decoded by ICU's "windows-1252" converter, which is "sloppy": the five
/// undefined bytes map to the C1 control with the same number.
char32_t cp1252_high(unsigned char byte);
/// True when `byte` (0x80..0x9F) is one of the bytes strict Windows-1252 leaves undefined.
bool cp1252_undefined(unsigned char byte);
/// The Windows-1252 byte of a code point that sloppy Windows-1252 can encode (ASCII, 0xA0..0xFF, the 0x80..0x9F
/// characters); -1 when it cannot.
int cp1252_byte(char32_t cp);

/// Code points outside the ICU set `set_pattern` whose case variants are inside it, written as ICU regex escapes
/// (`\\x{...}`). Python's `regex` with IGNORECASE refuses such a character in the negated class `[^set]`
/// (e.g. U+0345, whose upper case is a Greek letter), so CLIP's pattern adds them to the negated class.
std::u16string case_variant_escapes(const std::u16string& set_pattern);

/// GPT-2's pre-tokenisation pattern in ICU syntax (`\s` of Python's `regex` module is the White_Space property):
/// the RoBERTa tokenizer and the BPE trainer split text the same way.
inline constexpr char16_t kGpt2Pattern[] =
    u"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\p{White_Space}\\p{L}\\p{N}]+"
    u"|\\p{White_Space}+(?!\\P{White_Space})|\\p{White_Space}+";

/// A compiled ICU regular expression used as Python's `regex.findall` over UTF-8 text.
class Regex {
 public:
  /// `pattern` is ICU syntax; `case_insensitive` sets UREGEX_CASE_INSENSITIVE for the whole pattern.
  explicit Regex(const std::u16string& pattern, bool case_insensitive = false);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  /// All non-overlapping matches, left to right, as UTF-8 strings (Python `findall` without groups).
  std::vector<std::string> findall(std::string_view utf8) const;

 private:
  void* pattern_;  // icu::RegexPattern*
};

}  // namespace prismer::text::detail
