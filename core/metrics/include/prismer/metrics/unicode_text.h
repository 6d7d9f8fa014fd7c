/// \file unicode_text.h
/// Minimal UTF-8 and Unicode helpers shared by the PTB tokenizer and the VQA normaliser.
/// They reproduce the behaviour of Java's String.toLowerCase and Python 3's str.lower/split/strip
/// for the scripts that appear in captions (Latin, Greek, Cyrillic, fullwidth forms); other
/// code points are left unchanged.
#pragma once

#include <string>
#include <vector>

namespace prismer::metrics::unicode {

/// Decodes UTF-8 into code points; each invalid byte becomes U+FFFD.
std::u32string decode_utf8(const std::string& text);

/// Encodes code points as UTF-8.
std::string encode_utf8(const std::u32string& text);

/// Appends one code point, UTF-8 encoded, to `out`.
void append_utf8(std::string& out, char32_t cp);

/// Simple (1:1) lower-case mapping of one code point (Unicode simple case folding subset).
char32_t to_lower(char32_t cp);

/// Lower-cases UTF-8 text code point by code point (U+0130 becomes "i" + U+0307 like Java/Python).
std::string to_lower_utf8(const std::string& text);

/// True for the code points Python 3's str.split()/str.strip() treat as whitespace.
bool is_python_space(char32_t cp);

/// True for the Unicode decimal digits (general category Nd) in the common blocks
/// (what Python 3's `\d` matches on str patterns, for those blocks).
bool is_unicode_decimal_digit(char32_t cp);

/// Python 3 `str.split()` (no argument): splits on runs of Unicode whitespace, drops empty pieces.
std::vector<std::string> python_split(const std::string& text);

/// Python 3 `str.strip()` (no argument): removes leading/trailing Unicode whitespace.
std::string python_strip(const std::string& text);

}  // namespace prismer::metrics::unicode
