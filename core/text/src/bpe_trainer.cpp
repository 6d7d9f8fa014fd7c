#include "prismer/text/bpe_trainer.h"

#include "prismer/text/byte_level.h"
#include "unicode_util.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <stdexcept>
#include <unordered_map>

namespace prismer::text {

namespace {

// Splits a byte-level string into its characters (each byte maps to one, possibly multi-byte UTF-8, character).
std::vector<std::string> byte_level_chars(const std::string& piece) {
  std::vector<std::string> out;
  for (unsigned char b : piece) out.push_back(byte_to_unicode(b));
  return out;
}

void write_atomic(const std::filesystem::path& path, const std::string& bytes) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(path.string() + ": cannot be created");
    out << bytes;
    if (!out.flush()) throw std::runtime_error(path.string() + ": cannot be written");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace

BpeVocabulary train_byte_level_bpe(const std::vector<std::string>& texts, const BpeTrainOptions& options) {
  constexpr std::size_t kSpecials = 5, kBytes = 256;
  if (options.vocab_size < kSpecials + kBytes)
    throw std::invalid_argument("BPE vocabulary size must be at least " + std::to_string(kSpecials + kBytes) +
                                " (the 256 byte symbols and 5 special tokens), got " + std::to_string(options.vocab_size));
  // Word frequencies over the pre-tokenised pieces.
  const detail::Regex regex{std::u16string(detail::kGpt2Pattern)};
  std::map<std::string, std::int64_t> counts;
  for (const std::string& text : texts)
    for (const std::string& piece : regex.findall(text)) ++counts[piece];
  std::vector<std::vector<std::string>> words;
  std::vector<std::int64_t> freq;
  for (const auto& [piece, n] : counts) {
    words.push_back(byte_level_chars(piece));
    freq.push_back(n);
  }

  BpeVocabulary vocab;
  vocab.tokens = {"<s>", "<pad>", "</s>", "<unk>"};
  for (std::size_t b = 0; b < kBytes; ++b) vocab.tokens.push_back(byte_to_unicode(static_cast<unsigned char>(b)));
  const std::size_t merges_wanted = options.vocab_size - kSpecials - kBytes;
  while (vocab.merges.size() < merges_wanted) {
    // Small corpora only (quickstart scale): recounting every round keeps this simple and obviously right.
    std::map<std::pair<std::string, std::string>, std::int64_t> pairs;
    for (std::size_t w = 0; w < words.size(); ++w)
      for (std::size_t i = 0; i + 1 < words[w].size(); ++i) pairs[{words[w][i], words[w][i + 1]}] += freq[w];
    const std::pair<std::string, std::string>* best = nullptr;
    std::int64_t best_count = 0;
    for (const auto& [pair, n] : pairs)  // ordered map: the first maximum is the smallest pair
      if (n > best_count) best = &pair, best_count = n;
    if (best == nullptr || best_count < options.min_frequency) break;
    const auto merge = *best;
    const std::string joined = merge.first + merge.second;
    for (auto& word : words) {
      std::vector<std::string> merged;
      merged.reserve(word.size());
      for (std::size_t i = 0; i < word.size(); ++i) {
        if (i + 1 < word.size() && word[i] == merge.first && word[i + 1] == merge.second) {
          merged.push_back(joined);
          ++i;
        } else {
          merged.push_back(word[i]);
        }
      }
      word = std::move(merged);
    }
    vocab.merges.push_back(merge);
    vocab.tokens.push_back(joined);
  }
  vocab.tokens.push_back("<mask>");
  return vocab;
}

void write_bpe_vocabulary(const BpeVocabulary& vocabulary, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  nlohmann::ordered_json encoder = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < vocabulary.tokens.size(); ++i) encoder[vocabulary.tokens[i]] = i;
  std::string merges = "#version: 0.2\n";
  for (const auto& [a, b] : vocabulary.merges) merges += a + " " + b + "\n";
  write_atomic(dir / "vocab.json", encoder.dump());
  write_atomic(dir / "merges.txt", merges);
}

}  // namespace prismer::text
