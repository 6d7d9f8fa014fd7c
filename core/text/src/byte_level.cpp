#include "prismer/text/byte_level.h"

#include <array>
#include <vector>

#include "unicode_util.h"

namespace prismer::text {

namespace {

struct ByteTables {
  std::array<std::string, 256> encoder;
  std::array<int, 512> decoder{};  // code point (< 512) -> byte, -1 when unmapped

  ByteTables() {
    decoder.fill(-1);
    std::array<bool, 256> printable{};
    for (int b = '!'; b <= '~'; ++b) printable[static_cast<size_t>(b)] = true;
    for (int b = 0xA1; b <= 0xAC; ++b) printable[static_cast<size_t>(b)] = true;
    for (int b = 0xAE; b <= 0xFF; ++b) printable[static_cast<size_t>(b)] = true;
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const char32_t cp = printable[static_cast<size_t>(b)] ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
      detail::append_utf8(encoder[static_cast<size_t>(b)], cp);
      decoder[cp] = b;
    }
  }
};

const ByteTables& tables() {
  static const ByteTables t;
  return t;
}

}  // namespace

const std::string& byte_to_unicode(unsigned char byte) { return tables().encoder[byte]; }

std::string bytes_to_byte_level(std::string_view bytes) {
  const auto& enc = tables().encoder;
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += enc[static_cast<unsigned char>(c)];
  return out;
}

std::string byte_level_to_bytes(std::string_view byte_level) {
  const auto& dec = tables().decoder;
  std::string out;
  out.reserve(byte_level.size());
  for (char32_t cp : detail::utf8_to_u32(byte_level)) {
    if (cp < dec.size() && dec[cp] >= 0) {
      out.push_back(static_cast<char>(dec[cp]));
    } else {
      detail::append_utf8(out, cp);
    }
  }
  return out;
}

}  // namespace prismer::text
