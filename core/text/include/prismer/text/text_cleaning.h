/// @file
/// Text clean-up used before tokenisation: a documented subset of ftfy 6.1.1 `fix_text`, Python's
/// `html.unescape`, CLIP's `basic_clean` + `whitespace_clean` + lower-casing, and HF's
/// `clean_up_tokenization`. All strings are UTF-8; ill-formed UTF-8 input is read as Python's
/// `bytes.decode('utf-8', 'replace')` would (one U+FFFD per maximal ill-formed subpart).
#pragma once

#include <string>
#include <string_view>

namespace prismer::text {

/// ftfy 6.1.1 `fix_text(text)` with its default configuration, as far as implemented here:
/// line-wise segments; HTML entity unescaping ("auto": off from the first segment that contains '<'),
/// including ftfy's upper-case entity names (`&EACUTE;`); mojibake repair of UTF-8 that was decoded as
/// Latin-1 or Windows-1252 (whole text, or embedded runs), Latin-1/Windows-1252 C1 confusion;
/// C1 controls -> Windows-1252; Latin ligatures; full/half-width forms and U+3000; curly quotes;
/// line breaks; ANSI terminal escapes; control characters; NFC; repeated until stable.
/// Not implemented: ftfy's statistical "badness" heuristic, replaced by a conservative test (the text has a
/// C1 control, or a Latin-1/Windows-1252 rendering of a UTF-8 multi-byte sequence that is 3-4 bytes long
/// and not all punctuation after its lead, or is led by 'Â'/'Ã', or is a Latin Extended letter ('Ä'..'Ë'
/// lead) not followed by punctuation, or stands right after another such sequence); `restore_byte_a0`;
/// `replace_lossy_sequences`; the `utf-8-variants` codec (CESU-8 / Java NUL); mojibake through other
/// single-byte code pages (Windows-1250/1251/1253/1254, ISO-8859-2, MacRoman, CP437). On text without
/// mojibake the result equals ftfy's; on mojibake the two can differ where ftfy's statistics decide otherwise.
std::string ftfy_fix_text(std::string_view text);

/// Python 3.11 `html.unescape`: numeric references (with the HTML5 replacement rules for invalid numbers)
/// and named references with the HTML5 semicolon-less legacy names and longest-prefix matching.
/// Named entities come from libxml2's HTML 4.01 table (+ `apos`, the HTML5 values of `lang`/`rang`, and the
/// upper-case aliases AMP COPY GT LT QUOT REG); HTML5-only names such as `&check;` stay as they are.
std::string html_unescape(std::string_view text);

/// Python `str.lower()` (full Unicode lower-case mapping, locale independent).
std::string python_lower(std::string_view text);

/// CLIP `whitespace_clean(basic_clean(text)).lower()`: ftfy_fix_text, html_unescape twice, strip, collapse
/// runs of Unicode White_Space to one space, strip, lower-case.
std::string clip_clean_text(std::string_view text);

/// HF `PreTrainedTokenizerBase.clean_up_tokenization`: removes the space before . ? ! , and the English
/// contractions (" ' ", " n't", " 'm", " 's", " 've", " 're"), as successive `str.replace` calls.
std::string clean_up_tokenization(std::string_view text);

}  // namespace prismer::text
