/// @file
/// CLIP's BPE tokenizer (openai/CLIP `SimpleTokenizer` and `clip.tokenize`), torch-free. Strings are UTF-8.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace prismer::text {

/// openai/CLIP `SimpleTokenizer` + `clip.tokenize`: text cleaned by clip_clean_text() (ftfy subset, HTML
/// unescape, whitespace collapse, lower-case), split by CLIP's regex (`<|startoftext|>`, `<|endoftext|>`,
/// contractions, letter runs, single digits, other-symbol runs), byte-level BPE with `</w>` word ends.
/// Thread-safe: all methods are const and the BPE cache is locked.
class ClipTokenizer {
 public:
  static constexpr int kDefaultContextLength = 77;

  /// Loads the gzipped merges file (`bpe_simple_vocab_16e6.txt.gz`): line 0 is a header, lines
  /// [1, 49152-256-2+1) are merges; vocab = 256 byte characters, the same + `</w>`, the merged strings,
  /// `<|startoftext|>`, `<|endoftext|>` (49408 ids). Throws std::runtime_error when it cannot be read.
  explicit ClipTokenizer(const std::filesystem::path& bpe_gz);
  ~ClipTokenizer();
  ClipTokenizer(ClipTokenizer&&) noexcept;
  ClipTokenizer& operator=(ClipTokenizer&&) noexcept;

  /// `SimpleTokenizer.encode(text)`: ids without start/end tokens.
  std::vector<int32_t> encode(std::string_view text) const;
  /// `SimpleTokenizer.decode(ids)`: byte-level text with `</w>` turned into spaces (errors='replace').
  /// Throws std::out_of_range for an id outside the vocabulary.
  std::string decode(const std::vector<int32_t>& ids) const;

  /// `clip.tokenize(texts, context_length, truncate)`: one row of `context_length` int32 ids per text,
  /// `[sot] + encode(text) + [eot]` then zeros. A row that does not fit throws std::runtime_error
  /// ("Input <text> is too long for context length <n>") unless `truncate`, which cuts it to
  /// `context_length` and sets the last id to eot.
  std::vector<std::vector<int32_t>> tokenize(const std::vector<std::string>& texts,
                                             int context_length = kDefaultContextLength, bool truncate = false) const;
  /// `clip.tokenize(text)` for one string: its single row.
  std::vector<int32_t> tokenize(std::string_view text, int context_length = kDefaultContextLength,
                                bool truncate = false) const;

  /// The cleaned text the regex runs on (see clip_clean_text()).
  static std::string clean_text(std::string_view text);
  /// Regex pieces of an already cleaned text (`re.findall(self.pat, cleaned)`).
  std::vector<std::string> pre_tokenize(std::string_view cleaned) const;
  /// BPE token strings of a text (cleaning included), e.g. "stop</w>".
  std::vector<std::string> bpe_tokens(std::string_view text) const;

  /// Id of a vocabulary string (e.g. "stop</w>"), or -1 when absent.
  int32_t token_to_id(std::string_view token) const;
  /// Vocabulary string of an id; throws std::out_of_range.
  const std::string& id_to_token(int32_t id) const;
  int32_t sot_token_id() const;  ///< `<|startoftext|>` (49406).
  int32_t eot_token_id() const;  ///< `<|endoftext|>` (49407).
  int32_t vocab_size() const;    ///< 49408.

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace prismer::text
