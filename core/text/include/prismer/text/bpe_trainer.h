/// @file
/// Training a small byte-level BPE vocabulary (RoBERTa/GPT-2 format: vocab.json + merges.txt) from texts, so a
/// tiny Prismer can be trained without downloading roberta-base's 50k-token vocabulary (`prismer tokenizer train`).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace prismer::text {

/// Options of train_byte_level_bpe().
struct BpeTrainOptions {
  /// Total vocabulary size, including the 256 byte symbols and the 5 special tokens.
  std::size_t vocab_size = 1000;
  /// A pair must occur at least this often (counting word frequencies) to be merged.
  std::int64_t min_frequency = 2;
};

/// A trained vocabulary: tokens in id order (`<s>`, `<pad>`, `</s>`, `<unk>`, the 256 byte symbols, the merged
/// symbols, `<mask>` last, as roberta-base orders its specials) and the merges in rank order.
struct BpeVocabulary {
  std::vector<std::string> tokens;
  std::vector<std::pair<std::string, std::string>> merges;
};

/// Learns merges over `texts` pre-tokenised with GPT-2's pattern (as the RoBERTa tokenizer splits them): the most
/// frequent adjacent pair is merged first; ties go to the lexicographically smallest pair, so the result is
/// deterministic.
BpeVocabulary train_byte_level_bpe(const std::vector<std::string>& texts, const BpeTrainOptions& options = {});

/// Writes `vocab.json` and `merges.txt` into `dir` (created; files written atomically), readable by
/// RobertaTokenizer::from_directory and by Hugging Face's RobertaTokenizer.
void write_bpe_vocabulary(const BpeVocabulary& vocabulary, const std::filesystem::path& dir);

}  // namespace prismer::text
