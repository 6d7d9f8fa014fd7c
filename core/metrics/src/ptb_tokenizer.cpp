// Native re-implementation of the Stanford PTBTokenizer (CoreNLP 3.4.1, PTB3 escaping defaults,
// -preserveLines -lowerCase) as used by pycocoevalcap, plus the toolkit's punctuation filter.
//
// The lexer works like the JFlex scanner it reproduces: at each position every rule is tried, the
// longest match wins (trailing context counts towards the length, as in JFlex), and ties go to the
// earlier rule. The rules are written from the behaviour of PTBLexer.flex 3.4.1:
//   WORD, WORD/REDAUX ('s 're 've 'll 'm 'd), SWORD/SREDAUX (ca|n't), APOWORD (o'clock, 'n', '90s...),
//   numbers (signed, with . : , separators), dates, fractions, hyphenated THINGs, slash THING3,
//   abbreviations and acronyms that keep their period (p.m., etc., Mr.), "cannot" -> can not,
//   PTB3 normalisations: ( ) { } [ ] -> -LRB- -RRB- -LCB- -RCB- -LSB- -RSB-, LaTeX quotes (`` '' ` '),
//   dashes (U+2013/U+2014/U+2015, --- ) -> --, ellipses (..., U+2026) -> ..., currency (£ -> #,
//   ¢ -> cents, € ¥ ... -> $), Unicode fractions (½ -> 1/2), &amp; -> &.
// Characters the lexer has no rule for (emoji, control characters) are deleted, like the Java
// tokenizer's default "untokenizable" handling.
#include "prismer/metrics/ptb_tokenizer.h"

#include "prismer/metrics/unicode_text.h"

#include <algorithm>
#include <cstring>

namespace prismer::metrics {

namespace {

using U32 = std::u32string;

// ---------------------------------------------------------------- character classes

bool is_ascii_letter(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ascii_upper(char32_t c) { return c >= 'A' && c <= 'Z'; }
bool is_ascii_digit(char32_t c) { return c >= '0' && c <= '9'; }
bool is_digit(char32_t c) { return unicode::is_unicode_decimal_digit(c); }

bool in(char32_t c, char32_t lo, char32_t hi) { return c >= lo && c <= hi; }

// Letters as PTBLexer's LETTER macro sees them ([:letter:] plus soft hyphen and combining marks).
bool is_letter(char32_t c) {
  if (c < 0x80) return is_ascii_letter(c);
  if (c == 0xAA || c == 0xB5 || c == 0xBA || c == 0xAD) return true;
  if (c < 0xC0) return false;
  if (c == 0xD7 || c == 0xF7) return false;
  if (is_digit(c)) return false;
  if (c <= 0x036F) return true;
  if (c == 0x037E || c == 0x0387) return false;
  if (c <= 0x03FF) return true;
  if (c == 0x0482) return false;
  if (c <= 0x052F) return true;
  if (in(c, 0x0589, 0x058A)) return false;
  if (in(c, 0x0530, 0x058F)) return true;
  if (c == 0x05BE || c == 0x05C0 || c == 0x05C3 || c == 0x05C6 || c == 0x05F3 || c == 0x05F4) return false;
  if (in(c, 0x0590, 0x05FF)) return true;
  if (in(c, 0x0600, 0x060F) || c == 0x061B || in(c, 0x061E, 0x061F) || in(c, 0x066A, 0x066D) || c == 0x06D4 ||
      c == 0x06DD || c == 0x06DE || c == 0x06E9)
    return false;
  if (in(c, 0x0600, 0x06FF)) return true;
  if (in(c, 0x0700, 0x070D)) return false;
  if (in(c, 0x0700, 0x08FF)) return true;
  if (c == 0x0964 || c == 0x0965 || c == 0x0970 || c == 0x0E3F || c == 0x0E4F || c == 0x0E5A || c == 0x0E5B)
    return false;
  if (in(c, 0x0900, 0x1FFF)) return c != 0x1FBD && !in(c, 0x1FEF, 0x1FEF);
  if (in(c, 0x200C, 0x200D) || c == 0x2060) return true;
  if (in(c, 0x2000, 0x2BFF)) return false;
  if (in(c, 0x2C00, 0x2DFF)) return true;
  if (in(c, 0x2E00, 0x2E7F)) return false;
  if (in(c, 0x2E80, 0x2FFF)) return true;
  if (in(c, 0x3000, 0x3004) || in(c, 0x3008, 0x3020) || c == 0x3030 || c == 0x303D || c == 0x30FB) return false;
  if (in(c, 0x3005, 0xA4CF)) return true;
  if (in(c, 0xA4D0, 0xD7FF)) return true;
  if (in(c, 0xF900, 0xFDFF)) return true;
  if (in(c, 0xFE10, 0xFE6F)) return false;
  if (in(c, 0xFE70, 0xFEFE)) return true;
  if (in(c, 0xFF01, 0xFF20) || in(c, 0xFF3B, 0xFF40) || in(c, 0xFF5B, 0xFF65)) return false;
  if (in(c, 0xFF21, 0xFFDC)) return true;
  if (in(c, 0x10000, 0x1EFFF)) return true;  // historic scripts, CJK-adjacent and math letters
  if (in(c, 0x20000, 0x3FFFF)) return true;  // CJK extensions
  return false;
}

bool is_alnum(char32_t c) { return is_letter(c) || is_digit(c); }

// SPACE and the newline characters (newlines inside a caption are treated as spaces; '\n' separates lines).
bool is_space(char32_t c) {
  return c == ' ' || c == '\t' || c == 0xA0 || in(c, 0x2000, 0x200A) || c == 0x3000 || c == '\r' || c == 0x0B ||
         c == 0x0C || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F;
}
bool is_space_nl(char32_t c) { return is_space(c) || c == '\n'; }

bool is_apos(char32_t c) { return c == '\'' || c == 0x92 || c == 0x2019; }
bool is_apos_etc(char32_t c) { return is_apos(c) || c == '`' || c == 0x91 || c == 0x2018 || c == 0x201B; }
bool is_hyphen(char32_t c) { return c == '-' || c == '_' || c == 0x058A || c == 0x2010 || c == 0x2011; }
bool is_quote_char(char32_t c) {
  return c == '`' || in(c, 0x2018, 0x201F) || c == 0x82 || c == 0x84 || in(c, 0x91, 0x94) || c == 0x2039 ||
         c == 0x203A || c == 0xAB || c == 0xBB;
}
bool is_currency2(char32_t c) {
  return c == 0xA2 || c == 0xA3 || c == 0xA4 || c == 0xA5 || c == 0x80 || c == 0x20A0 || c == 0x20AC || c == 0x060B ||
         c == 0x0E3F || c == 0x20A4 || c == 0xFFE0 || c == 0xFFE1 || c == 0xFFE5 || c == 0xFFE6;
}

char32_t lower_ascii(char32_t c) { return is_ascii_upper(c) ? c + 32 : c; }

// ---------------------------------------------------------------- scanner

struct Scanner {
  const U32& s;
  explicit Scanner(const U32& text) : s(text) {}

  char32_t at(std::size_t i) const { return i < s.size() ? s[i] : 0; }
  bool has(std::size_t i) const { return i < s.size(); }

  // Caseless ASCII literal (JFlex %caseless applies to literals). '^' before a char makes it case-sensitive
  // (used for the [A]-style classes of the abbreviation lists).
  std::size_t lit(std::size_t i, const char* pattern) const {
    std::size_t j = i;
    for (const char* p = pattern; *p != '\0'; ++p) {
      bool exact = false;
      if (*p == '^') {
        exact = true;
        ++p;
      }
      const char32_t want = static_cast<unsigned char>(*p);
      if (!has(j)) return 0;
      const char32_t got = s[j];
      if (exact ? got != want : lower_ascii(got) != lower_ascii(want)) return 0;
      ++j;
    }
    return j - i;
  }

  // Longest literal of a list (0 when none).
  std::size_t longest_lit(std::size_t i, const std::vector<const char*>& list) const {
    std::size_t best = 0;
    for (const char* p : list) best = std::max(best, lit(i, p));
    return best;
  }

  // WORD = LETTER (LETTER|DIGIT)* ([.!?] LETTER (LETTER|DIGIT)*)*
  std::size_t word(std::size_t i) const {
    if (!has(i) || !is_letter(s[i])) return 0;
    std::size_t j = i + 1;
    while (has(j) && is_alnum(s[j])) ++j;
    while (has(j + 1) && (s[j] == '.' || s[j] == '!' || s[j] == '?') && is_letter(s[j + 1])) {
      j += 2;
      while (has(j) && is_alnum(s[j])) ++j;
    }
    return j - i;
  }

  // REDAUX = APOSETCETERA ([msdMSD]|re|ve|ll)
  std::size_t redaux(std::size_t i) const {
    if (!has(i) || !is_apos_etc(s[i])) return 0;
    if (lit(i + 1, "re") || lit(i + 1, "ve") || lit(i + 1, "ll")) return 3;
    const char32_t c = at(i + 1);
    if (c == 'm' || c == 's' || c == 'd' || c == 'M' || c == 'S' || c == 'D') return 2;
    return 0;
  }

  // SREDAUX = n APOSETCETERA t
  std::size_t sredaux(std::size_t i) const {
    if (has(i + 2) && lower_ascii(s[i]) == 'n' && is_apos_etc(s[i + 1]) && lower_ascii(s[i + 2]) == 't') return 3;
    return 0;
  }

  // SWORD/SREDAUX: returns {total length, SWORD length}.
  std::pair<std::size_t, std::size_t> sword_sredaux(std::size_t i) const {
    std::size_t k = i;
    while (has(k) && (is_ascii_letter(s[k]) || s[k] == 0xAD)) ++k;
    if (k == i) return {0, 0};
    // SREDAUX must start at the last 'n' of the run; SWORD = [A-Za-z\u00AD]*[A-MO-Za-mo-z]\u00AD*
    std::size_t p = k;
    while (p > i && s[p - 1] == 0xAD) --p;  // trailing soft hyphens cannot precede SREDAUX's n
    if (p == i) return {0, 0};
    const std::size_t n_pos = k - 1;
    if (lower_ascii(s[n_pos]) != 'n' || sredaux(n_pos) == 0) return {0, 0};
    std::size_t e = n_pos;  // SWORD = s[i, e)
    std::size_t q = e;
    while (q > i && s[q - 1] == 0xAD) --q;
    if (q == i) return {0, 0};
    const char32_t last = s[q - 1];
    if (!is_ascii_letter(last) || lower_ascii(last) == 'n') return {0, 0};
    return {e - i + 3, e - i};
  }

  // APOWORD alternatives (longest).
  std::size_t apoword(std::size_t i) const {
    std::size_t best = 0;
    auto take = [&](std::size_t n) { best = std::max(best, n); };
    const char32_t c0 = at(i);
    if (is_apos(c0)) {
      if (lower_ascii(at(i + 1)) == 'n') take(is_apos(at(i + 2)) ? 3 : 2);          // 'n' / 'n
      if (std::size_t n = lit(i + 1, "em")) take(1 + n);                              // 'em
      if (in(at(i + 1), '2', '9') && at(i + 2) == '0' && lower_ascii(at(i + 3)) == 's') take(4);  // '90s
      if (lit(i + 1, "till")) take(5);                                                // 'till
      else if (lit(i + 1, "til")) take(4);                                            // 'til
      if (lit(i + 1, "cause")) take(6);                                               // 'cause
    }
    if ((c0 == 'l' || c0 == 'L' || c0 == 'd' || c0 == 'D' || c0 == 'j' || c0 == 'J') && is_apos(at(i + 1))) take(2);
    for (const char* w : {"dunkin", "somethin", "ol"}) {
      if (std::size_t n = lit(i, w); n > 0 && is_apos(at(i + n))) take(n + 1);
    }
    // [A-HJ-XZn] APOSETCETERA [:letter:]{2}[:letter:]*
    if ((in(c0, 'A', 'H') || in(c0, 'J', 'X') || c0 == 'Z' || c0 == 'n') && is_apos_etc(at(i + 1)) &&
        is_letter(at(i + 2)) && is_letter(at(i + 3))) {
      std::size_t j = i + 4;
      while (has(j) && is_letter(s[j])) ++j;
      take(j - i);
    }
    // [:letter:][:letter:]*[aeiouyAEIOUY] APOSETCETERA [aeiouA-Z][:letter:]*
    if (is_letter(c0)) {
      std::size_t k = i;
      while (has(k) && is_letter(s[k])) ++k;
      // the vowel before the apostrophe must be the last letter of the run (apostrophe is not a letter)
      const char32_t v = lower_ascii(s[k - 1]);
      const bool vowel = v == 'a' || v == 'e' || v == 'i' || v == 'o' || v == 'u' || v == 'y';
      if (k - i >= 2 && vowel && is_apos_etc(at(k))) {
        const char32_t a = at(k + 1);
        if (a == 'a' || a == 'e' || a == 'i' || a == 'o' || a == 'u' || is_ascii_upper(a)) {
          std::size_t j = k + 2;
          while (has(j) && is_letter(s[j])) ++j;
          take(j - i);
        }
      }
    }
    // cont'd\.? 'twas nor'easter c'mon e'er s'mores ev'ry li'l nat'l O{APOSETCETERA}o
    if (std::size_t n = lit(i, "cont'd")) take(at(i + n) == '.' ? n + 1 : n);
    for (const char* w : {"'twas", "nor'easter", "c'mon", "e'er", "s'mores", "ev'ry", "li'l", "nat'l"}) take(lit(i, w));
    if (lower_ascii(c0) == 'o' && is_apos_etc(at(i + 1)) && lower_ascii(at(i + 2)) == 'o') take(3);
    return best;
  }

  // NUMBER = [-+]? (DIGIT+ | DIGIT*([.:,\u00AD\u066B\u066C]DIGIT+)+)
  std::size_t number(std::size_t i) const {
    std::size_t j = i;
    if (at(j) == '-' || at(j) == '+') ++j;
    const std::size_t start = j;
    while (has(j) && is_digit(s[j])) ++j;
    bool any = j > start;
    for (;;) {
      const char32_t c = at(j);
      if ((c == '.' || c == ':' || c == ',' || c == 0xAD || c == 0x066B || c == 0x066C) && is_digit(at(j + 1))) {
        j += 1;
        while (has(j) && is_digit(s[j])) ++j;
        any = true;
      } else {
        break;
      }
    }
    return any ? j - i : 0;
  }

  std::size_t digits_upto(std::size_t i, std::size_t max_n) const {
    std::size_t n = 0;
    while (n < max_n && has(i + n) && is_digit(s[i + n])) ++n;
    return n;
  }

  // DATE = DIGIT{1,2}[\-\/]DIGIT{1,2}[\-\/]DIGIT{2,4}
  std::size_t date(std::size_t i) const {
    std::size_t best = 0;
    for (std::size_t a = 1; a <= 2; ++a) {
      if (digits_upto(i, a) != a) break;
      std::size_t j = i + a;
      if (at(j) != '-' && at(j) != '/') continue;
      for (std::size_t b = 1; b <= 2; ++b) {
        if (digits_upto(j + 1, b) != b) break;
        const std::size_t k = j + 1 + b;
        if (at(k) != '-' && at(k) != '/') continue;
        const std::size_t c = digits_upto(k + 1, 4);
        if (c >= 2) best = std::max(best, k + 1 + c - i);
      }
    }
    return best;
  }

  // FRAC = (DIGIT{1,4}[- \u00A0])? DIGIT{1,4} (\\?\/|\u2044) DIGIT{1,4}
  std::size_t frac_core(std::size_t i) const {
    std::size_t best = 0;
    for (std::size_t a = 1; a <= 4; ++a) {
      if (digits_upto(i, a) != a) break;
      std::size_t j = i + a;
      if (at(j) == '\\' && at(j + 1) == '/') j += 2;
      else if (at(j) == '/' || at(j) == 0x2044) j += 1;
      else continue;
      const std::size_t b = digits_upto(j, 4);
      if (b > 0) best = std::max(best, j + b - i);
    }
    return best;
  }
  std::size_t frac(std::size_t i) const {
    std::size_t best = frac_core(i);
    for (std::size_t a = 1; a <= 4; ++a) {
      if (digits_upto(i, a) != a) break;
      const char32_t sep = at(i + a);
      if (sep == '-' || sep == ' ' || sep == 0xA0) {
        const std::size_t core = frac_core(i + a + 1);
        if (core > 0) best = std::max(best, a + 1 + core);
      }
    }
    return best;
  }

  // THING = ([dDoOlL]APOSETC(L|D))?(L|D)+ (HYPHEN ([dDoOlL]APOSETC(L|D))?(L|D)+)*
  std::size_t thing_segment(std::size_t i) const {
    std::size_t j = i;
    const char32_t c = at(j);
    if ((c == 'd' || c == 'D' || c == 'o' || c == 'O' || c == 'l' || c == 'L') && is_apos_etc(at(j + 1)) &&
        is_alnum(at(j + 2)))
      j += 2;
    const std::size_t start = j;
    while (has(j) && is_alnum(s[j])) ++j;
    return j > start ? j - i : 0;
  }
  std::size_t thing(std::size_t i) const {
    std::size_t n = thing_segment(i);
    if (n == 0) return 0;
    std::size_t j = i + n;
    while (has(j) && is_hyphen(s[j])) {
      const std::size_t m = thing_segment(j + 1);
      if (m == 0) break;
      j += 1 + m;
    }
    return j - i;
  }

  // ACRO2 = [A-Za-z](\.[A-Za-z])+
  std::size_t acro2(std::size_t i) const {
    if (!is_ascii_letter(at(i))) return 0;
    std::size_t j = i + 1;
    while (at(j) == '.' && is_ascii_letter(at(j + 1))) j += 2;
    return j - i >= 3 ? j - i : 0;
  }

  // HTHING = (L|D)[A-Za-z0-9.,\u00AD]*(-([A-Za-z0-9\u00AD]+|ACRO2\.))+
  std::size_t hthing_groups(std::size_t j) const {  // longest sequence of groups from j (0 if none)
    if (at(j) != '-') return 0;
    std::size_t best = 0;
    std::size_t k = j + 1;
    while (has(k) && (is_ascii_letter(s[k]) || is_ascii_digit(s[k]) || s[k] == 0xAD)) ++k;
    if (k > j + 1) best = std::max(best, k - j + hthing_groups(k));
    if (std::size_t a = acro2(j + 1); a > 0 && at(j + 1 + a) == '.') {
      const std::size_t e = j + 1 + a + 1;
      best = std::max(best, e - j + hthing_groups(e));
    }
    return best;
  }
  std::size_t hthing(std::size_t i) const {
    if (!is_alnum(at(i))) return 0;
    std::size_t j = i + 1;
    while (has(j) && (is_ascii_letter(s[j]) || is_ascii_digit(s[j]) || s[j] == '.' || s[j] == ',' || s[j] == 0xAD)) ++j;
    const std::size_t g = hthing_groups(j);
    return g > 0 ? j + g - i : 0;
  }

  // THING3 = [Alpha Digit]+(-[Alpha]+){0,2}(\\?\/[Alpha Digit]+(-[Alpha]+){0,2}){1,2}
  std::size_t thing3_segment(std::size_t i) const {
    std::size_t j = i;
    while (has(j) && is_alnum(s[j])) ++j;
    if (j == i) return 0;
    for (int h = 0; h < 2; ++h) {
      if (at(j) != '-' || !is_letter(at(j + 1))) break;
      std::size_t k = j + 1;
      while (has(k) && is_letter(s[k])) ++k;
      j = k;
    }
    return j - i;
  }
  std::size_t thing3(std::size_t i) const {
    const std::size_t first = thing3_segment(i);
    if (first == 0) return 0;
    std::size_t j = i + first;
    int slashes = 0;
    while (slashes < 2) {
      std::size_t k = j;
      if (at(k) == '\\' && at(k + 1) == '/') k += 2;
      else if (at(k) == '/') k += 1;
      else break;
      const std::size_t seg = thing3_segment(k);
      if (seg == 0) break;
      j = k + seg;
      ++slashes;
    }
    return slashes > 0 ? j - i : 0;
  }

  // THINGA = [A-Z]+(([+&]|&amp;)[A-Z]+)+
  std::size_t thinga(std::size_t i) const {
    std::size_t j = i;
    while (has(j) && is_ascii_upper(s[j])) ++j;
    if (j == i) return 0;
    int groups = 0;
    for (;;) {
      std::size_t k = j;
      if (at(k) == '+' || at(k) == '&') {
        std::size_t amp = (at(k) == '&') ? lit(k, "&amp;") : 0;
        k += amp > 0 ? amp : 1;
      } else {
        break;
      }
      const std::size_t start = k;
      while (has(k) && is_ascii_upper(s[k])) ++k;
      if (k == start) break;
      j = k;
      ++groups;
    }
    return groups > 0 ? j - i : 0;
  }

  // SGML = <\/?[A-Za-z!?][^>\r\n]*>
  std::size_t sgml(std::size_t i) const {
    if (at(i) != '<') return 0;
    std::size_t j = i + 1;
    if (at(j) == '/') ++j;
    const char32_t c = at(j);
    if (!(is_ascii_letter(c) || c == '!' || c == '?')) return 0;
    ++j;
    while (has(j) && s[j] != '>' && s[j] != '\r' && s[j] != '\n') ++j;
    return at(j) == '>' ? j + 1 - i : 0;
  }

  // SENTEND = SPACENL (SPACENL | [:uppercase:] | SGML)
  bool sentend(std::size_t i) const {
    if (!has(i) || !is_space_nl(s[i])) return false;
    if (!has(i + 1)) return false;
    const char32_t c = s[i + 1];
    return is_space_nl(c) || unicode::to_lower(c) != c || sgml(i + 1) > 0;
  }

  // ACRO = [A-Za-z](\.[A-Za-z])* | (Canada|Sino|Korean|EU|Japan|non)-U\.S | U\.S\.-(U\.K|U\.S\.S\.R)
  std::size_t acro(std::size_t i) const {
    std::size_t best = 0;
    if (is_ascii_letter(at(i))) {
      std::size_t j = i + 1;
      while (at(j) == '.' && is_ascii_letter(at(j + 1))) j += 2;
      best = j - i;
    }
    for (const char* p : {"canada-u.s", "sino-u.s", "korean-u.s", "eu-u.s", "japan-u.s", "non-u.s", "u.s.-u.k",
                          "u.s.-u.s.s.r"})
      best = std::max(best, lit(i, p));
    return best;
  }

  std::size_t abbrev1(std::size_t i) const {
    static const std::vector<const char*> kList = {
        // ABMONTH
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        // ABDAYS
        "mon", "tue", "tues", "wed", "thu", "thurs", "fri",
        // ABSTATE
        "ala", "ariz", "^Az", "^Ark", "calif", "colo", "conn", "ct", "dak", "^Del", "fla", "ga", "^Ill", "ind", "kan",
        "kans", "ky", "^La", "^Mass", "md", "mich", "minn", "^Miss", "mo", "mont", "neb", "nev", "okla", "^Ore", "^Pa",
        "penn", "tenn", "^Tex", "va", "vt", "^Wash", "wis", "wisc", "wyo",
        // ABCOMP
        "inc", "co", "cos", "corp", "pty", "pte", "ptys", "ptes", "ppty", "ppte", "pptys", "pptes", "ltd", "plc", "rt",
        "bancorp", "dept", "bhd", "assn", "univ", "intl", "sys",
        // ABNUM
        "tel", "est", "ext", "sq",
        // ABPTIT
        "jr", "sr", "bros", "ed.d", "ph.d", "blvd", "rd", "esq",
        // ABVARIA
        "etc", "ect", "al", "seq", "bldg", "pls", "wrt", "orig", "incl"};
    std::size_t best = 0;
    for (const char* p : kList) {
      const std::size_t n = lit(i, p);
      if (n > 0 && at(i + n) == '.') best = std::max(best, n + 1);
    }
    return best;
  }

  std::size_t abbrev2(std::size_t i) const {
    static const std::vector<const char*> kList = {
        // ABTITLE
        "mr", "mrs", "ms", "^Miss", "dr", "drs", "prof", "profs", "sen", "sens", "rep", "reps", "atty", "attys", "lt",
        "col", "gen", "messrs", "gov", "govs", "adm", "rev", "maj", "sgt", "cpl", "pvt", "capt", "st", "ste", "ave",
        "pres", "lieut", "hon", "brig", "cmdr", "comdr", "pfc", "spc", "supt", "supts", "det", "mt", "ft", "adj", "adv",
        "asst", "assoc", "ens", "insp", "mlle", "mme", "msgr", "sfc",
        // ABCOMP2
        "invt", "elec", "natl", "mfg", "mtg"};
    std::size_t best = 0;
    for (const char* p : kList) {
      const std::size_t n = lit(i, p);
      if (n > 0 && at(i + n) == '.') best = std::max(best, n + 1);
    }
    if (std::size_t n = acro(i); n > 0 && at(i + n) == '.') best = std::max(best, n + 1);
    return best;
  }

  std::size_t abbrev4(std::size_t i) const {
    std::size_t best = 0;
    for (const char* p : {"vs.", "alex.", "wm.", "jos.", "cie.", "a.k.a.", "cf.", "treas."}) best = std::max(best, lit(i, p));
    return best;
  }

  // LDOTS = \.{3,5} | (\.[ \u00A0]){2,4}\. | [\u0085\u2026]
  std::size_t ldots(std::size_t i) const {
    const char32_t c = at(i);
    if (c == 0x85 || c == 0x2026) return 1;
    if (c != '.') return 0;
    std::size_t best = 0;
    std::size_t n = 0;
    while (n < 5 && at(i + n) == '.') ++n;
    if (n >= 3) best = n;
    std::size_t pairs = 0;
    std::size_t j = i;
    while (pairs < 4 && at(j) == '.' && (at(j + 1) == ' ' || at(j + 1) == 0xA0)) {
      j += 2;
      ++pairs;
      if (pairs >= 2 && at(j) == '.') best = std::max(best, j + 1 - i);
    }
    return best;
  }
};

// LaTeX-style quote normalisation (PTB3 default): ASCII ' becomes ` when probably an opening quote.
std::string latex_quotes(const U32& tok, bool probably_left) {
  std::string out;
  for (std::size_t k = 0; k < tok.size(); ++k) {
    const char32_t c = tok[k];
    if (c == '\'') {
      out += probably_left ? "`" : "'";
    } else if (c == '"') {
      out += probably_left ? "``" : "''";
    } else if (c == 0x82 || c == 0x8B || c == 0x91 || c == 0x2018 || c == 0x201A || c == 0x201B || c == 0x2039) {
      out += "`";
    } else if (c == 0x92 || c == 0x9B || c == 0xB4 || c == 0x2019 || c == 0x203A) {
      out += "'";
    } else if (c == 0x84 || c == 0x93 || c == 0x201C || c == 0x201E || c == 0xAB || c == 0x201F) {
      out += "``";
    } else if (c == 0x94 || c == 0x201D || c == 0xBB) {
      out += "''";
    } else {
      unicode::append_utf8(out, c);
    }
  }
  return out;
}

std::string remove_soft_hyphens(const U32& tok) {
  std::string out;
  for (char32_t c : tok) {
    if (c != 0xAD) unicode::append_utf8(out, c);
  }
  return out;
}

std::string currency(char32_t c) {
  if (c == 0xA2 || c == 0xFFE0) return "cents";
  if (c == 0xA3 || c == 0xFFE1 || c == 0x20A4) return "#";
  return "$";
}

std::string unicode_fraction(char32_t c) {
  switch (c) {
    case 0xBC: return "1/4";
    case 0xBD: return "1/2";
    case 0xBE: return "3/4";
    case 0x2153: return "1/3";
    case 0x2154: return "2/3";
    case 0x2155: return "1/5";
    case 0x2156: return "2/5";
    case 0x2157: return "3/5";
    case 0x2158: return "4/5";
    case 0x2159: return "1/6";
    case 0x215A: return "5/6";
    case 0x215B: return "1/8";
    case 0x215C: return "3/8";
    case 0x215D: return "5/8";
    case 0x215E: return "7/8";
    default: return "";
  }
}

bool is_frac2(char32_t c) { return c == 0xBC || c == 0xBD || c == 0xBE || in(c, 0x2153, 0x215E); }

// Single characters the lexer returns as their own token (sentence punctuation and symbols).
bool is_single_symbol(char32_t c) {
  if (c < 0x80) return c > 0x20 && c < 0x7F && !is_ascii_letter(c) && !is_ascii_digit(c);
  if (in(c, 0xA1, 0xBF)) return true;
  if (c == 0xD7 || c == 0xF7) return true;
  if (c == 0x037E || c == 0x0387 || c == 0x0589 || c == 0x05BE || c == 0x05C0 || c == 0x05C3 || c == 0x05C6 ||
      c == 0x05F3 || c == 0x05F4 || c == 0x0482)
    return true;
  if (in(c, 0x0600, 0x060F) || c == 0x061B || in(c, 0x061E, 0x061F) || in(c, 0x066A, 0x066D) || c == 0x06D4 ||
      c == 0x06DD || c == 0x06DE || c == 0x06E9 || in(c, 0x0700, 0x070D))
    return true;
  if (c == 0x0964 || c == 0x0965 || c == 0x0970 || c == 0x0E3F || c == 0x0E4F || c == 0x0E5A || c == 0x0E5B) return true;
  if (in(c, 0x2010, 0x2027) || in(c, 0x2030, 0x205E) || in(c, 0x2070, 0x209F) || in(c, 0x20A0, 0x20CF) ||
      in(c, 0x2100, 0x2BFF))
    return true;
  if (in(c, 0x2E00, 0x2E7F) || in(c, 0x3001, 0x3004) || in(c, 0x3008, 0x3020) || c == 0x3030 || c == 0x303D ||
      c == 0x30FB)
    return true;
  if (in(c, 0xFE10, 0xFE6F) || in(c, 0xFF01, 0xFF20) || in(c, 0xFF3B, 0xFF40) || in(c, 0xFF5B, 0xFF65)) return true;
  return false;
}

class Lexer {
 public:
  explicit Lexer(const U32& text) : text_(text), sc_(text) {}

  std::vector<std::vector<std::string>> run() {
    std::vector<std::vector<std::string>> lines(1);
    std::size_t i = 0;
    const std::size_t n = text_.size();
    while (i < n) {
      const char32_t c = text_[i];
      if (c == '\n') {
        lines.emplace_back();
        ++i;
        continue;
      }
      if (is_space(c)) {
        ++i;
        continue;
      }
      i = step(i, lines.back());
    }
    for (auto& line : lines) {
      for (auto& tok : line) tok = unicode::to_lower_utf8(tok);
    }
    return lines;
  }

 private:
  const U32& text_;
  Scanner sc_;

  U32 sub(std::size_t i, std::size_t len) const { return text_.substr(i, len); }
  std::string utf8(std::size_t i, std::size_t len) const { return unicode::encode_utf8(sub(i, len)); }

  // Scans one token at i (not whitespace); returns the next position.
  std::size_t step(std::size_t i, std::vector<std::string>& out) {
    const Scanner& s = sc_;
    enum Rule {
      kCannot, kTwas, kSgml, kDash, kAmp, kWordRedaux, kSwordSredaux, kWord, kApoword, kApoword2, kRedaux,
      kSredaux, kDate, kNumber, kFrac, kFrac2, kTbspec, kThing3, kDolsign, kDolsign2, kAbbrev1, kAbbrev2,
      kAbbrev4, kTbspec2, kWordDot, kThing, kHthing, kThinga, kDblquot, kBracket, kHyphens, kLdots, kFnmarks,
      kAsts, kInsentp, kBangs, kPeriod, kQuotes, kSymbol, kRuleCount
    };
    std::size_t len[kRuleCount] = {};
    std::size_t word_len = s.word(i);

    len[kCannot] = s.lit(i, "cannot");
    len[kTwas] = s.lit(i, "'twas");
    len[kSgml] = s.sgml(i);
    {
      const char32_t c = text_[i];
      if (c == 0x2013 || c == 0x2014 || c == 0x2015 || c == 0x96 || c == 0x97) len[kDash] = 1;
    }
    len[kAmp] = s.lit(i, "&amp;");
    if (word_len > 0) {
      if (std::size_t r = s.redaux(i + word_len)) len[kWordRedaux] = word_len + r;
    }
    const auto sw = s.sword_sredaux(i);
    len[kSwordSredaux] = sw.first;
    len[kWord] = word_len;
    len[kApoword] = s.apoword(i);
    if (lower_ascii(text_[i]) == 'y' && is_apos(s.at(i + 1)) && is_letter(s.at(i + 2))) len[kApoword2] = 3;
    if (std::size_t r = s.redaux(i); r > 0 && s.has(i + r) && !is_ascii_letter(s.at(i + r))) len[kRedaux] = r + 1;
    if (std::size_t r = s.sredaux(i); r > 0 && s.has(i + r) && !is_ascii_letter(s.at(i + r))) len[kSredaux] = r + 1;
    len[kDate] = s.date(i);
    len[kNumber] = s.number(i);
    len[kFrac] = s.frac(i);
    if (is_frac2(text_[i])) len[kFrac2] = 1;
    {
      std::size_t best = 0;
      for (const char* p : {"-rrb-", "-lrb-", "-rcb-", "-lcb-", "-rsb-", "-lsb-", "c.d.s", "pro-", "anti-", "s&p-500",
                            "s&amp;p-500", "s&ls", "s&amp;ls"})
        best = std::max(best, s.lit(i, p));
      for (const char* p : {"cap", "c"}) {
        const std::size_t n = s.lit(i, p);
        if (n > 0 && is_apos(s.at(i + n))) {
          const char* rest = (std::strcmp(p, "cap") == 0) ? "n" : "est";
          if (std::size_t m = s.lit(i + n + 1, rest)) best = std::max(best, n + 1 + m);
        }
      }
      len[kTbspec] = best;
    }
    len[kThing3] = s.thing3(i);
    {
      std::size_t j = i;
      while (s.has(j) && is_ascii_upper(text_[j])) ++j;
      if (s.at(j) == '$') len[kDolsign] = j + 1 - i;
      else if (text_[i] == '#') len[kDolsign] = 1;
    }
    if (is_currency2(text_[i])) len[kDolsign2] = 1;
    const std::size_t ab1 = s.abbrev1(i);
    bool ab1_sentend = false;
    if (ab1 > 0) {
      if (s.sentend(i + ab1)) {
        len[kAbbrev1] = ab1 + 2;
        ab1_sentend = true;
      } else if (s.has(i + ab1 + 1)) {
        len[kAbbrev1] = ab1 + 2;
      } else {
        len[kAbbrev1] = ab1;
        ab1_sentend = true;  // at the end of the document the period is returned again
      }
    }
    len[kAbbrev2] = s.abbrev2(i);
    if (std::size_t a = s.abbrev4(i); a > 0 && s.has(i + a) && is_space(s.at(i + a))) len[kAbbrev4] = a + 1;
    if (is_apos(text_[i]) && is_ascii_digit(s.at(i + 1)) && is_ascii_digit(s.at(i + 2)) && s.has(i + 3) &&
        is_space_nl(s.at(i + 3)))
      len[kTbspec2] = 4;
    if (word_len > 0 && s.at(i + word_len) == '.') {
      const char32_t nx = s.at(i + word_len + 1);
      if (nx == ',' || nx == ';' || nx == ':' || nx == 0x3001) len[kWordDot] = word_len + 2;
    }
    len[kThing] = s.thing(i);
    len[kHthing] = s.hthing(i);
    len[kThinga] = s.thinga(i);
    {
      std::size_t q = 0;
      if (text_[i] == '"') q = 1;
      else q = s.lit(i, "&quot;");
      if (q > 0) {
        const char32_t nx = s.at(i + q);
        len[kDblquot] = (is_ascii_letter(nx) || is_ascii_digit(nx) || nx == '$') ? q + 1 : q;
      }
    }
    {
      const char32_t c = text_[i];
      if (c == '(' || c == ')' || c == '{' || c == '}' || c == '[' || c == ']' || c == '<' || c == '>') len[kBracket] = 1;
      len[kBracket] = std::max(len[kBracket], std::max(s.lit(i, "&lt;"), s.lit(i, "&gt;")));
    }
    {
      std::size_t j = i;
      while (s.at(j) == '-') ++j;
      len[kHyphens] = j - i;
    }
    len[kLdots] = s.ldots(i);
    {
      const char32_t c = text_[i];
      if (c == '@' || c == '#' || c == '_') {
        std::size_t j = i;
        while (s.at(j) == c) ++j;
        len[kFnmarks] = j - i;
      }
    }
    if (text_[i] == '*') {
      std::size_t j = i;
      while (s.at(j) == '*') ++j;
      len[kAsts] = j - i;
    } else if (text_[i] == '\\' && s.at(i + 1) == '*') {
      std::size_t j = i;
      int k = 0;
      while (k < 3 && s.at(j) == '\\' && s.at(j + 1) == '*') {
        j += 2;
        ++k;
      }
      len[kAsts] = j - i;
    }
    {
      const char32_t c = text_[i];
      if (c == ',' || c == ';' || c == ':' || c == 0x3001) len[kInsentp] = 1;
      if (c == '?' || c == '!') {
        std::size_t j = i;
        while (s.at(j) == '?' || s.at(j) == '!') ++j;
        len[kBangs] = j - i;
      }
      if (c == '.' || c == 0xBF || c == 0xA1 || c == 0x037E || c == 0x0589 || c == 0x061F || c == 0x06D4 ||
          in(c, 0x0700, 0x0702) || c == 0x07F9 || c == 0x3002)
        len[kPeriod] = 1;
      if (is_apos(c)) {
        len[kQuotes] = 1;
      } else if (is_quote_char(c)) {
        len[kQuotes] = is_quote_char(s.at(i + 1)) ? 2 : 1;
      }
      if (len[kQuotes] > 0 && is_letter(s.at(i + len[kQuotes]))) len[kQuotes] += 1;  // {QUOTES}/[:letter:]
      if (is_single_symbol(c)) len[kSymbol] = 1;
    }

    int rule = -1;
    std::size_t best = 0;
    for (int r = 0; r < kRuleCount; ++r) {
      if (len[r] > best) {
        best = len[r];
        rule = r;
      }
    }
    if (rule < 0) return i + 1;  // untokenizable character: deleted

    const std::size_t L = len[rule];
    switch (rule) {
      case kCannot:
        out.push_back(utf8(i, 3));
        return i + 3;
      case kTwas:
        out.push_back(latex_quotes(sub(i, 2), false));
        return i + 2;
      case kSgml: {
        std::string t;
        for (char32_t c : sub(i, L)) unicode::append_utf8(t, c == ' ' ? char32_t{0xA0} : c);
        out.push_back(t);
        return i + L;
      }
      case kDash:
        out.push_back("--");
        return i + 1;
      case kAmp:
        out.push_back("&");
        return i + L;
      case kWordRedaux:
        out.push_back(remove_soft_hyphens(sub(i, word_len)));
        return i + word_len;
      case kSwordSredaux:
        out.push_back(remove_soft_hyphens(sub(i, sw.second)));
        return i + sw.second;
      case kWord:
      case kThing:
      case kHthing:
        out.push_back(remove_soft_hyphens(sub(i, L)));
        return i + L;
      case kApoword:
        out.push_back(utf8(i, L));
        return i + L;
      case kApoword2:
        out.push_back(utf8(i, 2));
        return i + 2;
      case kRedaux:
      case kSredaux:
        out.push_back(latex_quotes(sub(i, L - 1), false));
        return i + L - 1;
      case kDate:
      case kNumber:
        out.push_back(remove_soft_hyphens(sub(i, L)));
        return i + L;
      case kFrac: {
        std::string t;
        for (char32_t c : sub(i, L)) unicode::append_utf8(t, c == ' ' ? char32_t{0xA0} : c);
        out.push_back(t);
        return i + L;
      }
      case kFrac2:
        out.push_back(unicode_fraction(text_[i]));
        return i + 1;
      case kTbspec:
      case kThing3:
      case kDolsign:
      case kAbbrev2:
        out.push_back(utf8(i, L));
        return i + L;
      case kThinga: {
        std::string t = utf8(i, L);
        std::string r;
        for (std::size_t k = 0; k < t.size();) {
          if (t.compare(k, 5, "&amp;") == 0 || t.compare(k, 5, "&AMP;") == 0) {
            r += '&';
            k += 5;
          } else {
            r += t[k++];
          }
        }
        out.push_back(r);
        return i + L;
      }
      case kDolsign2:
        out.push_back(currency(text_[i]));
        return i + 1;
      case kAbbrev1:
        out.push_back(utf8(i, ab1));
        if (ab1_sentend) out.push_back(".");
        return i + ab1;
      case kAbbrev4:
        out.push_back(utf8(i, L - 1));
        return i + L - 1;
      case kTbspec2:
        out.push_back(latex_quotes(sub(i, 3), false));
        return i + 3;
      case kWordDot:
        out.push_back(remove_soft_hyphens(sub(i, word_len + 1)));
        return i + word_len + 1;
      case kDblquot: {
        const std::size_t q = (text_[i] == '"') ? 1 : 6;
        out.push_back(L > q ? "``" : "''");
        return i + q;
      }
      case kBracket: {
        const char32_t c = text_[i];
        if (L > 1) {
          out.push_back(s.lit(i, "&lt;") ? "<" : ">");
          return i + L;
        }
        switch (c) {
          case '(': out.push_back("-LRB-"); break;
          case ')': out.push_back("-RRB-"); break;
          case '{': out.push_back("-LCB-"); break;
          case '}': out.push_back("-RCB-"); break;
          case '[': out.push_back("-LSB-"); break;
          case ']': out.push_back("-RSB-"); break;
          default: out.push_back(utf8(i, 1)); break;
        }
        return i + 1;
      }
      case kHyphens:
        out.push_back((L >= 3 && L <= 4) ? std::string("--") : utf8(i, L));
        return i + L;
      case kLdots:
        out.push_back("...");
        return i + L;
      case kFnmarks:
      case kAsts:
      case kInsentp:
      case kBangs:
      case kPeriod:
      case kSymbol:
        out.push_back(utf8(i, L));
        return i + L;
      case kQuotes: {
        std::size_t q = is_apos(text_[i]) ? 1 : (is_quote_char(s.at(i + 1)) ? 2 : 1);
        const bool left = L > q;
        out.push_back(latex_quotes(sub(i, q), left));
        return i + q;
      }
      default:
        return i + 1;
    }
  }
};

}  // namespace

const std::vector<std::string>& coco_punctuation_tokens() {
  static const std::vector<std::string> kPunct = {"''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".",
                                                  "?",  "!", ",",  ":", "-",     "--",    "...",   ";"};
  return kPunct;
}

std::vector<std::vector<std::string>> ptb_lex_lines(const std::string& text) {
  const U32 cps = unicode::decode_utf8(text);
  Lexer lexer(cps);
  return lexer.run();
}

std::vector<std::string> ptb_tokenize_batch(const std::vector<std::string>& captions) {
  std::string doc;
  for (std::size_t k = 0; k < captions.size(); ++k) {
    if (k > 0) doc += '\n';
    for (char ch : captions[k]) doc += (ch == '\n') ? ' ' : ch;
  }
  const auto lines = ptb_lex_lines(doc);
  const auto& punct = coco_punctuation_tokens();
  std::vector<std::string> out;
  out.reserve(captions.size());
  for (std::size_t k = 0; k < captions.size(); ++k) {
    std::string joined;
    if (k < lines.size()) {
      for (const auto& tok : lines[k]) {
        if (std::find(punct.begin(), punct.end(), tok) != punct.end()) continue;
        if (!joined.empty()) joined += ' ';
        joined += tok;
      }
    }
    out.push_back(joined);
  }
  return out;
}

std::string ptb_tokenize(const std::string& caption) { return ptb_tokenize_batch({caption}).front(); }

}  // namespace prismer::metrics
