// Caption / question clean-up exactly as the original dataset/utils.py (Python 3.11 `str` and `re` semantics).
#pragma once

#include <stdexcept>
#include <string>

namespace prismer::data {

/// What Python raises as UnicodeDecodeError: the bytes are not strict UTF-8.
class TextDecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Python `str.capitalize()` (3.8+): the first code point to full titlecase, every other one to full
/// lowercase (final sigma in context). UTF-8 in and out; invalid UTF-8 throws TextDecodeError.
std::string python_capitalize(const std::string& text);
/// Python `str.lower()`: full lowercase mapping (final sigma, `İ` -> `i̇`).
std::string python_lower(const std::string& text);
/// Python `str.isspace()` for one code point (identical to the code points `re`'s `\s` matches).
bool python_isspace(char32_t cp);

/// `pre_caption(caption, max_words)`: capitalize; each of `.!"()*#:;~` -> space; runs of >= 2 whitespace
/// code points -> one space; rstrip('\n'); strip(' '); keep the first `max_words` of split(' ').
std::string pre_caption(const std::string& caption, int max_words = 50);

/// `pre_question(question, max_words)`: capitalize; specials -> space; strip() (all whitespace, inner runs
/// kept); keep the first `max_words` of split(' ') (empty pieces count); append '?' unless it ends with one.
/// An empty result throws std::out_of_range("string index out of range"), as the original's IndexError.
std::string pre_question(const std::string& question, int max_words = 50);

/// The first line of a web caption file as `open(path).readlines()[0]` reads it (strict UTF-8, universal
/// newlines: "\r\n" and "\r" become "\n", the line keeps its "\n", a BOM is kept). Invalid UTF-8 throws
/// TextDecodeError; an empty file throws std::out_of_range("list index out of range").
std::string first_line_of_file(const std::string& file_bytes);

}  // namespace prismer::data
