/// @file
/// GPT-2's reversible byte <-> printable character mapping (`bytes_to_unicode()` in the reference tokenizers),
/// shared by the RoBERTa and CLIP tokenizers. Strings are UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace prismer::text {

/// The character (as UTF-8) that `bytes_to_unicode()` assigns to `byte`: printable Latin-1 bytes map to
/// themselves, the other 68 bytes to U+0100 + n in byte order (so space -> "Ġ", '\n' -> "Ċ").
const std::string& byte_to_unicode(unsigned char byte);

/// Maps every byte of `bytes` to its byte-level character; the result is UTF-8.
std::string bytes_to_byte_level(std::string_view bytes);

/// The inverse mapping for a UTF-8 byte-level string. Characters outside the mapping (never produced by
/// byte-level BPE, e.g. in a foreign vocabulary entry) are kept as their own UTF-8 bytes. The result is raw
/// bytes and need not be valid UTF-8.
std::string byte_level_to_bytes(std::string_view byte_level);

}  // namespace prismer::text
