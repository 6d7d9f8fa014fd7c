/// @file
/// RoBERTa byte-level BPE tokenizer with the semantics of HF transformers 4.26.1's slow `RobertaTokenizer`
/// as Prismer builds it (`RobertaTokenizer.from_pretrained('roberta-base')`). Torch-free; strings are UTF-8.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace prismer::text {

/// Padding strategy of a tokenizer call (HF `padding=`).
enum class Padding {
  kNone,       ///< `padding=False`: rows keep their own length.
  kLongest,    ///< `padding='longest'` / `True`: pad every row of the batch to the longest row.
  kMaxLength,  ///< `padding='max_length'`: pad to `max_length` (model_max_length when unset); longer rows stay.
};

/// Keyword arguments of a tokenizer call (`tokenizer(text_or_texts, **kwargs)`).
struct RobertaCallOptions {
  bool add_special_tokens = true;  ///< Wrap each row in `<s>` ... `</s>`.
  Padding padding = Padding::kNone;
  /// `truncation=`: unset = HF default None (which becomes `longest_first` when max_length is given and
  /// padding is off), true = `longest_first` (cuts content tokens from the right, keeps `<s>`/`</s>`), false = off.
  std::optional<bool> truncation;
  std::optional<int64_t> max_length;  ///< `max_length=`; unset = model_max_length where one is needed.
};

/// One encoded text.
struct RobertaEncoding {
  std::vector<int64_t> input_ids;
  std::vector<int64_t> attention_mask;  ///< 1 for tokens, 0 for padding.
};

/// A batch of encoded texts (rows may differ in length unless padded).
struct RobertaBatchEncoding {
  std::vector<std::vector<int64_t>> input_ids;
  std::vector<std::vector<int64_t>> attention_mask;
};

/// The slow HF RoBERTa tokenizer: GPT-2 pre-tokenisation regex, byte-level BPE with a cache, the special
/// tokens `<s> <pad> </s> <unk> <mask>` split out of the text first (`<mask>` strips spaces on its left),
/// truncation / padding / attention masks, and decoding with `errors='replace'` and HF clean-up.
/// Thread-safe: all methods are const and the BPE cache is locked.
class RobertaTokenizer {
 public:
  /// Loads `vocab.json` (token -> id) and `merges.txt` (`#version` line then one "a b" merge per line).
  /// Throws std::runtime_error when a file cannot be read or parsed, or a special token is missing.
  RobertaTokenizer(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt,
                   int64_t model_max_length = 512);
  /// Loads `vocab.json` and `merges.txt` from one folder.
  static RobertaTokenizer from_directory(const std::filesystem::path& dir, int64_t model_max_length = 512);
  ~RobertaTokenizer();
  RobertaTokenizer(RobertaTokenizer&&) noexcept;
  RobertaTokenizer& operator=(RobertaTokenizer&&) noexcept;

  /// `tokenizer.tokenize(text)`: byte-level token strings (special-token literals stay whole), no `<s>`/`</s>`.
  std::vector<std::string> tokenize(std::string_view text) const;
  /// `tokenizer.encode(text, add_special_tokens=...)` without truncation or padding.
  std::vector<int64_t> encode(std::string_view text, bool add_special_tokens = true) const;
  /// `tokenizer(text, **options)`.
  RobertaEncoding operator()(std::string_view text, const RobertaCallOptions& options = {}) const;
  /// `tokenizer(texts, **options)`: each row truncated on its own, then the batch padded.
  RobertaBatchEncoding operator()(const std::vector<std::string>& texts, const RobertaCallOptions& options = {}) const;

  /// `tokenizer.decode(ids, skip_special_tokens, clean_up_tokenization_spaces)`. Skipping drops the ids of
  /// `<s> <pad> </s> <unk> <mask>`; bytes that are not valid UTF-8 become U+FFFD. Throws std::out_of_range
  /// for an id outside the vocabulary.
  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens = false,
                     bool clean_up_tokenization_spaces = true) const;
  /// `batch_decode`: decode() per row.
  std::vector<std::string> batch_decode(const std::vector<std::vector<int64_t>>& rows, bool skip_special_tokens = false,
                                        bool clean_up_tokenization_spaces = true) const;
  /// `convert_tokens_to_string`: joins byte-level tokens back into text (UTF-8, errors='replace').
  std::string convert_tokens_to_string(const std::vector<std::string>& tokens) const;

  /// Vocabulary id of a token string; the `<unk>` id when absent.
  int64_t token_to_id(std::string_view token) const;
  /// Token string of an id; throws std::out_of_range when the id is not in the vocabulary.
  const std::string& id_to_token(int64_t id) const;
  std::vector<int64_t> convert_tokens_to_ids(const std::vector<std::string>& tokens) const;
  std::vector<std::string> convert_ids_to_tokens(const std::vector<int64_t>& ids, bool skip_special_tokens = false) const;

  int64_t bos_token_id() const;   ///< `<s>` (0); also the CLS token.
  int64_t pad_token_id() const;   ///< `<pad>` (1).
  int64_t eos_token_id() const;   ///< `</s>` (2); also the SEP token.
  int64_t unk_token_id() const;   ///< `<unk>` (3).
  int64_t mask_token_id() const;  ///< `<mask>` (50264).
  /// `all_special_ids`: the ids decode(skip_special_tokens=true) drops.
  std::vector<int64_t> all_special_ids() const;
  bool is_special_id(int64_t id) const;
  /// Number of entries of vocab.json (50265 for roberta-base).
  int64_t vocab_size() const;
  int64_t model_max_length() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace prismer::text
