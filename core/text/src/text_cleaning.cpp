#include "prismer/text/text_cleaning.h"

#include <libxml/HTMLparser.h>
#include <unicode/uchar.h>

#include <cctype>
#include <optional>
#include <unordered_map>

#include "unicode_util.h"

namespace prismer::text {

namespace {

using detail::u32_to_utf8;
using detail::utf8_to_u32;
using U32 = std::u32string;
using U32View = std::u32string_view;

bool is_ascii(U32View s) {
  for (char32_t c : s)
    if (c >= 0x80) return false;
  return true;
}

bool ascii_alnum(char32_t c) { return (c >= U'0' && c <= U'9') || (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z'); }

// ---------------------------------------------------------------------------------------------------------------
// HTML entities

/// A named entity (name without '&' and ';') from libxml2's HTML 4.01 table, with HTML5's values for lang/rang.
std::optional<char32_t> html4_entity(U32View name) {
  if (name.empty() || name.size() > 32) return std::nullopt;
  for (char32_t c : name)
    if (!ascii_alnum(c)) return std::nullopt;  // entity names are ASCII letters and digits
  std::string n;
  for (char32_t c : name) n.push_back(static_cast<char>(c));
  const htmlEntityDesc* d = htmlEntityLookup(reinterpret_cast<const xmlChar*>(n.c_str()));
  if (d == nullptr) return std::nullopt;
  if (n == "lang") return U'\u27E8';  // HTML5 changed these two from U+2329 / U+232A
  if (n == "rang") return U'\u27E9';
  return static_cast<char32_t>(d->value);
}

/// The six upper-case aliases HTML5 defines (with and without ';') for HTML4 names.
bool upper_alias(U32View name) {
  return name == U"AMP" || name == U"COPY" || name == U"GT" || name == U"LT" || name == U"QUOT" || name == U"REG";
}

U32 ascii_lower(U32View s) {
  U32 out(s);
  for (auto& c : out)
    if (c >= U'A' && c <= U'Z') c += 32;
  return out;
}

/// Lookup of `s` in Python's `html.entities.html5` (keys with ';' for all names, without for legacy ones).
std::optional<char32_t> html5_lookup(U32View s) {
  if (!s.empty() && s.back() == U';') {
    const U32View name = s.substr(0, s.size() - 1);
    if (upper_alias(name)) return html4_entity(ascii_lower(name));
    return html4_entity(name);
  }
  // Legacy names without ';': the HTML4 Latin-1 range (<= U+00FF) minus 'apos', plus the upper-case aliases.
  if (upper_alias(s)) return html4_entity(ascii_lower(s));
  const auto v = html4_entity(s);
  if (v && *v <= 0xFF && s != U"apos") return v;
  return std::nullopt;
}

void append_charref(U32& out, unsigned long num) {
  if (num == 0x00) {
    out.push_back(0xFFFD);
  } else if (num == 0x0D) {
    out.push_back(U'\r');
  } else if (num >= 0x80 && num <= 0x9F) {
    out.push_back(detail::cp1252_high(static_cast<unsigned char>(num)));
  } else if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
    out.push_back(0xFFFD);
  } else if ((num >= 0x1 && num <= 0x8) || num == 0xB || (num >= 0xE && num <= 0x1F) || (num >= 0x7F && num <= 0x9F) ||
             detail::is_noncharacter(static_cast<char32_t>(num))) {
    // invalid code points are dropped
  } else {
    out.push_back(static_cast<char32_t>(num));
  }
}

bool charref_excluded(char32_t c) {
  return c == U'\t' || c == U'\n' || c == U'\f' || c == U' ' || c == U'<' || c == U'&' || c == U'#' || c == U';';
}

U32 html_unescape_u32(U32View t) {
  if (t.find(U'&') == U32View::npos) return U32(t);
  U32 out;
  out.reserve(t.size());
  const size_t n = t.size();
  size_t i = 0;
  while (i < n) {
    if (t[i] != U'&') {
      out.push_back(t[i++]);
      continue;
    }
    const size_t j = i + 1;
    if (j < n && t[j] == U'#') {
      size_t k = j + 1;
      bool hex = false;
      if (k < n && (t[k] == U'x' || t[k] == U'X')) {
        // '#[0-9]+' is tried first but cannot match here; then '#[xX][0-9a-fA-F]+'
        size_t m = k + 1;
        while (m < n && t[m] < 0x80 && std::isxdigit(static_cast<int>(t[m]))) ++m;
        if (m > k + 1) {
          hex = true;
          unsigned long num = 0;
          for (size_t q = k + 1; q < m; ++q) {
            const int c = static_cast<int>(t[q]);
            const int d = (c <= '9') ? c - '0' : (c | 0x20) - 'a' + 10;
            num = num > 0x10FFFF ? num : num * 16 + static_cast<unsigned long>(d);
          }
          if (m < n && t[m] == U';') ++m;
          append_charref(out, num);
          i = m;
        }
      } else {
        size_t m = k;
        while (m < n && t[m] >= U'0' && t[m] <= U'9') ++m;
        if (m > k) {
          hex = true;
          unsigned long num = 0;
          for (size_t q = k; q < m; ++q) num = num > 0x10FFFF ? num : num * 10 + (t[q] - U'0');
          if (m < n && t[m] == U';') ++m;
          append_charref(out, num);
          i = m;
        }
      }
      if (!hex) out.push_back(t[i++]);  // '&' stays literal
      continue;
    }
    size_t k = j;
    while (k < n && k - j < 32 && !charref_excluded(t[k])) ++k;
    if (k == j) {
      out.push_back(t[i++]);
      continue;
    }
    U32 s(t.substr(j, k - j));
    if (k < n && t[k] == U';') {
      s.push_back(U';');
      ++k;
    }
    if (const auto v = html5_lookup(s)) {
      out.push_back(*v);
    } else {
      bool found = false;
      for (size_t x = s.size() - 1; x > 1; --x) {
        if (const auto p = html5_lookup(U32View(s).substr(0, x))) {
          out.push_back(*p);
          out.append(s.substr(x));
          found = true;
          break;
        }
      }
      if (!found) {
        out.push_back(U'&');
        out.append(s);
      }
    }
    i = k;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// ftfy subset

/// ftfy's `unescape_html`: `&#?[0-9A-Za-z]{1,24};` references only (semicolon required).
U32 ftfy_unescape_html(U32View t) {
  if (t.find(U'&') == U32View::npos) return U32(t);
  U32 out;
  out.reserve(t.size());
  const size_t n = t.size();
  size_t i = 0;
  while (i < n) {
    if (t[i] != U'&') {
      out.push_back(t[i++]);
      continue;
    }
    size_t k = i + 1;
    const bool numeric = k < n && t[k] == U'#';
    if (numeric) ++k;
    size_t m = k;
    while (m < n && ascii_alnum(t[m])) ++m;
    if (m == k || m - k > 24 || m >= n || t[m] != U';') {
      out.push_back(t[i++]);
      continue;
    }
    const U32View match = t.substr(i, m + 1 - i);
    const U32View name = t.substr(k, m - k);
    bool replaced = false;
    if (!numeric) {
      if (const auto v = html5_lookup(t.substr(k, m + 1 - k))) {
        out.push_back(*v);
        replaced = true;
      } else {
        // ftfy also decodes upper-cased names of lower-case entities, when html.unescape leaves them alone.
        const U32 lower = ascii_lower(name);
        bool has_lower = false;
        for (char32_t c : name) has_lower = has_lower || (c >= U'a' && c <= U'z');
        if (!has_lower && lower != U32(name)) {
          const auto v2 = html5_lookup(lower + U";");
          if (v2 && html_unescape_u32(match) == U32(match)) {
            out += detail::python_upper(U32(1, *v2));
            replaced = true;
          }
        }
      }
    } else {
      const U32 un = html_unescape_u32(match);
      if (un.find(U';') == U32::npos) {
        out += un;
        replaced = true;
      }
    }
    if (!replaced) out.append(match);
    i = m + 1;
  }
  return out;
}

/// The byte a character stands for when text was decoded with Latin-1 or (sloppy) Windows-1252; -1 if none.
int mojibake_byte(char32_t c) {
  if (c < 0x100) return static_cast<int>(c);
  return detail::cp1252_byte(c);
}

/// Length (2..4) of a complete, valid UTF-8 multi-byte sequence spelled by t[i..] in Latin-1/Windows-1252; 0 if none.
size_t mojibake_sequence(U32View t, size_t i) {
  const int b0 = mojibake_byte(t[i]);
  size_t len = 0;
  int lo = 0x80, hi = 0xBF;
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
    return 0;
  }
  if (i + len > t.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const int b = mojibake_byte(t[i + k]);
    const int l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) return 0;
  }
  return len;
}

bool has_c1(U32View t) {
  for (char32_t c : t)
    if (c >= 0x80 && c <= 0x9F) return true;
  return false;
}

bool has_mojibake_sequence(U32View t) {
  for (size_t i = 0; i < t.size(); ++i)
    if (mojibake_sequence(t, i) > 0) return true;
  return false;
}

/// Stand-in for ftfy's `is_bad` (its weighted statistics are not reproduced). Bad means: a C1 control; or a
/// Latin-1/Windows-1252 rendering of a UTF-8 sequence that is unlikely in real text: a 3- or 4-byte one
/// with a non-punctuation character after its lead ("â€™", "ðŸ˜€"; but not "é’’"), a 2-byte one led by 'Â' or 'Ã' (the encodings of U+0080..U+00FF, "Ã©"), a 2-byte one
/// led by 'Ä'..'Ë' (U+0100..U+02FF, Latin Extended) whose second character is not punctuation ("Å½", "Ä³"),
/// or two 2-byte ones in a row ("Ð¿Ñ€"). An accented capital before punctuation or a symbol ("É”", "AÑO…",
/// "Ü°") is left alone.
bool looks_bad(U32View t) {
  if (has_c1(t)) return true;
  size_t previous_end = static_cast<size_t>(-1);
  for (size_t i = 0; i < t.size(); ++i) {
    const size_t len = mojibake_sequence(t, i);
    if (len == 0) continue;
    if (t[i] == 0xC2 || t[i] == 0xC3 || previous_end == i) return true;
    if (len >= 3) {
      for (size_t k = i + 1; k < i + len; ++k)
        if (!u_ispunct(static_cast<UChar32>(t[k]))) return true;
    }
    if (t[i] >= 0xC4 && t[i] <= 0xCB && !u_ispunct(static_cast<UChar32>(t[i + 1])) && t[i + 1] != 0xA0) return true;
    previous_end = i + len;
  }
  return false;
}

/// Strict UTF-8 decoding of bytes; nullopt when ill-formed.
std::optional<U32> decode_utf8_strict(const std::string& bytes) {
  U32 out = utf8_to_u32(bytes);
  // utf8_to_u32 replaces ill-formed parts with U+FFFD; a U+FFFD that was not in the input means failure.
  size_t fffd_in = 0, fffd_out = 0;
  for (size_t i = 0; i + 2 < bytes.size(); ++i)
    if (bytes.compare(i, 3, "\xEF\xBF\xBD") == 0) ++fffd_in;
  for (char32_t c : out) fffd_out += (c == 0xFFFD);
  if (fffd_in != fffd_out) return std::nullopt;
  return out;
}

/// A character that continues a UTF-8 sequence (byte 0x80..0xBF) and is not one of the Windows-1252 dashes,
/// quotation marks or ellipsis (bytes 0x82 0x84 0x85 0x91-0x94 0x96 0x97), which commonly stand next to real
/// mojibake. A mojibake run is not started right after such a character (ftfy's detector does the same).
bool strict_continuation(char32_t c) {
  const int b = mojibake_byte(c);
  if (b < 0x80 || b > 0xBF) return false;
  if (c < 0x100) return true;
  return !(b == 0x82 || b == 0x84 || b == 0x85 || (b >= 0x91 && b <= 0x94) || b == 0x96 || b == 0x97);
}

U32 fix_c1_controls(U32View t) {
  U32 out(t);
  for (auto& c : out)
    if (c >= 0x80 && c <= 0x9F) c = detail::cp1252_high(static_cast<unsigned char>(c));
  return out;
}

U32 fix_encoding(U32View t);

U32 decode_inconsistent_utf8(U32View t) {
  U32 out;
  out.reserve(t.size());
  size_t i = 0;
  while (i < t.size()) {
    const bool after_continuation = i > 0 && strict_continuation(t[i - 1]);
    size_t len = after_continuation ? 0 : mojibake_sequence(t, i);
    if (len == 0) {
      out.push_back(t[i++]);
      continue;
    }
    size_t j = i;
    while (j < t.size() && (len = mojibake_sequence(t, j)) > 0) j += len;
    const U32View run = t.substr(i, j - i);
    if (run.size() < t.size() && looks_bad(run)) {
      out += fix_encoding(run);
    } else {
      out.append(run);
    }
    i = j;
  }
  return out;
}

U32 fix_encoding_one_step(U32View t) {
  if (t.empty() || is_ascii(t) || !looks_bad(t)) return U32(t);
  bool latin1 = true, cp1252 = true;
  for (char32_t c : t) {
    latin1 = latin1 && c < 0x100;
    cp1252 = cp1252 && detail::cp1252_byte(c) >= 0;
  }
  // UTF-8 that was decoded as Latin-1, then as (sloppy) Windows-1252.
  if (latin1) {
    std::string bytes;
    for (char32_t c : t) bytes.push_back(static_cast<char>(c));
    if (auto fixed = decode_utf8_strict(bytes)) return *fixed;
  }
  if (cp1252) {
    std::string bytes;
    for (char32_t c : t) bytes.push_back(static_cast<char>(detail::cp1252_byte(c)));
    if (auto fixed = decode_utf8_strict(bytes)) return *fixed;
  }
  // Embedded runs of mojibake in otherwise fine text.
  if (has_mojibake_sequence(t)) {
    U32 fixed = decode_inconsistent_utf8(t);
    if (fixed != t) return fixed;
  }
  // Latin-1 text with C1 controls that was meant to be (strict) Windows-1252.
  if (latin1) {
    bool ok = true;
    U32 fixed(t);
    for (auto& c : fixed) {
      if (c >= 0x80 && c <= 0x9F) {
        if (detail::cp1252_undefined(static_cast<unsigned char>(c))) {
          ok = false;
          break;
        }
        c = detail::cp1252_high(static_cast<unsigned char>(c));
      }
    }
    if (ok && fixed != t) return fixed;
  }
  if (has_c1(t)) return fix_c1_controls(t);
  return U32(t);
}

U32 fix_encoding(U32View t) {
  U32 text(t);
  while (true) {
    U32 fixed = fix_encoding_one_step(text);
    if (fixed == text) return text;
    text.swap(fixed);
  }
}

bool is_latin_ligature(char32_t c) {
  return c == 0x132 || c == 0x133 || c == 0x149 || (c >= 0x1C4 && c <= 0x1CC) || (c >= 0x1F1 && c <= 0x1F3) ||
         (c >= 0xFB00 && c <= 0xFB06);
}

const std::unordered_map<char32_t, U32>& ligature_map() {
  static const auto map = [] {
    std::unordered_map<char32_t, U32> m;
    for (char32_t c = 0x100; c <= 0xFB06; ++c)
      if (is_latin_ligature(c)) m.emplace(c, detail::raw_compat_decomposition(c));
    return m;
  }();
  return map;
}

const std::unordered_map<char32_t, U32>& width_map() {
  static const auto map = [] {
    std::unordered_map<char32_t, U32> m;
    m.emplace(0x3000, U" ");
    for (char32_t c = 0xFF01; c < 0xFFF0; ++c) {
      U32 alt = detail::nfkc(U32(1, c));
      if (alt != U32(1, c)) m.emplace(c, std::move(alt));
    }
    return m;
  }();
  return map;
}

U32 translate(U32View t, const std::unordered_map<char32_t, U32>& map, bool (*candidate)(char32_t)) {
  U32 out;
  out.reserve(t.size());
  for (char32_t c : t) {
    if (candidate(c)) {
      const auto it = map.find(c);
      if (it != map.end()) {
        out += it->second;
        continue;
      }
    }
    out.push_back(c);
  }
  return out;
}

bool width_candidate(char32_t c) { return c == 0x3000 || (c >= 0xFF01 && c < 0xFFF0); }

U32 uncurl_quotes(U32View t) {
  U32 out(t);
  for (auto& c : out) {
    if (c == 0x2BC || (c >= 0x2018 && c <= 0x201B)) c = U'\'';
    else if (c >= 0x201C && c <= 0x201F) c = U'"';
  }
  return out;
}

U32 fix_line_breaks(U32View t) {
  U32 out;
  out.reserve(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    const char32_t c = t[i];
    if (c == U'\r' && i + 1 < t.size() && t[i + 1] == U'\n') continue;  // "\r\n" -> "\n"
    if (c == U'\r' || c == 0x2028 || c == 0x2029 || c == 0x85) out.push_back(U'\n');
    else out.push_back(c);
  }
  return out;
}

U32 remove_terminal_escapes(U32View t) {
  // "\x1b[" (\d|;)* [a-zA-Z]
  U32 out;
  out.reserve(t.size());
  size_t i = 0;
  while (i < t.size()) {
    if (t[i] == 0x1B && i + 1 < t.size() && t[i + 1] == U'[') {
      size_t k = i + 2;
      while (k < t.size() && (t[k] == U';' || u_isdigit(static_cast<UChar32>(t[k])))) ++k;
      if (k < t.size() && ((t[k] >= U'a' && t[k] <= U'z') || (t[k] >= U'A' && t[k] <= U'Z'))) {
        i = k + 1;
        continue;
      }
    }
    out.push_back(t[i++]);
  }
  return out;
}

U32 remove_control_chars(U32View t) {
  U32 out;
  out.reserve(t.size());
  for (char32_t c : t) {
    const bool drop = c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F || (c >= 0x206A && c <= 0x206F) ||
                      c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
    if (!drop) out.push_back(c);
  }
  return out;
}

U32 fix_segment(U32View segment, bool unescape) {
  U32 text(segment);
  while (true) {
    const U32 orig = text;
    if (unescape) text = ftfy_unescape_html(text);
    text = fix_encoding(text);
    text = fix_c1_controls(text);
    text = translate(text, ligature_map(), is_latin_ligature);
    text = translate(text, width_map(), width_candidate);
    text = uncurl_quotes(text);
    text = fix_line_breaks(text);
    // fix_surrogates: code points decoded from UTF-8 are never surrogates.
    text = remove_terminal_escapes(text);
    text = remove_control_chars(text);
    text = detail::nfc(text);
    if (text == orig) return text;
  }
}

U32 ftfy_fix_text_u32(U32View t) {
  constexpr size_t kMaxDecodeLength = 1000000;
  bool unescape = true;  // "auto"
  U32 out;
  out.reserve(t.size());
  size_t pos = 0;
  while (pos < t.size()) {
    size_t brk = t.find(U'\n', pos);
    brk = (brk == U32View::npos) ? t.size() : brk + 1;
    if (brk - pos > kMaxDecodeLength) brk = pos + kMaxDecodeLength;
    const U32View segment = t.substr(pos, brk - pos);
    if (unescape && segment.find(U'<') != U32View::npos) unescape = false;  // sticky, as in ftfy
    out += fix_segment(segment, unescape);
    pos = brk;
  }
  return out;
}

}  // namespace

std::string ftfy_fix_text(std::string_view text) { return u32_to_utf8(ftfy_fix_text_u32(utf8_to_u32(text))); }

std::string html_unescape(std::string_view text) {
  if (text.find('&') == std::string_view::npos) return detail::utf8_sanitize(text);
  return u32_to_utf8(html_unescape_u32(utf8_to_u32(text)));
}

std::string python_lower(std::string_view text) { return u32_to_utf8(detail::python_lower(utf8_to_u32(text))); }

std::string clip_clean_text(std::string_view text) {
  U32 t = ftfy_fix_text_u32(utf8_to_u32(text));
  t = html_unescape_u32(html_unescape_u32(t));
  const U32View stripped = detail::python_strip(t);
  U32 collapsed;
  collapsed.reserve(stripped.size());
  for (size_t i = 0; i < stripped.size();) {
    if (detail::regex_isspace(stripped[i])) {
      collapsed.push_back(U' ');
      while (i < stripped.size() && detail::regex_isspace(stripped[i])) ++i;
    } else {
      collapsed.push_back(stripped[i++]);
    }
  }
  return u32_to_utf8(detail::python_lower(detail::python_strip(collapsed)));
}

std::string clean_up_tokenization(std::string_view text) {
  std::string out(text);
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) {
    const std::string f(from), r(to);
    if (out.find(f) == std::string::npos) continue;
    std::string next;
    next.reserve(out.size());
    size_t pos = 0;
    while (true) {
      const size_t hit = out.find(f, pos);
      if (hit == std::string::npos) break;
      next.append(out, pos, hit - pos).append(r);
      pos = hit + f.size();
    }
    next.append(out, pos, std::string::npos);
    out.swap(next);
  }
  return out;
}

}  // namespace prismer::text
