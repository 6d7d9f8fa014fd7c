// A byte-level BPE vocabulary trained here loads in the RoBERTa tokenizer and round-trips text.
#include "prismer/text/bpe_trainer.h"
#include "prismer/text/roberta_tokenizer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include <unistd.h>

using namespace prismer::text;
namespace fs = std::filesystem;

namespace {
std::vector<std::string> corpus() {
  std::vector<std::string> texts;
  const char* colours[] = {"red", "green", "blue", "yellow"};
  const char* shapes[] = {"circle", "square", "triangle"};
  for (int i = 0; i < 60; ++i)
    texts.push_back(std::string("a ") + colours[i % 4] + " " + shapes[i % 3] + " on the left and a " +
                    colours[(i + 1) % 4] + " " + shapes[(i + 2) % 3] + " on the right.");
  texts.push_back("how many shapes are there?");
  return texts;
}
}  // namespace

TEST_CASE("a trained vocabulary loads, merges frequent words and round-trips any text") {
  const BpeVocabulary vocab = train_byte_level_bpe(corpus(), {400, 2});
  REQUIRE(vocab.tokens.size() <= 400);
  CHECK(vocab.tokens.size() == 4 + 256 + vocab.merges.size() + 1);
  CHECK(vocab.tokens.front() == "<s>");
  CHECK(vocab.tokens.back() == "<mask>");
  const fs::path dir = fs::temp_directory_path() / ("prismer_bpe_" + std::to_string(::getpid()));
  write_bpe_vocabulary(vocab, dir);
  const RobertaTokenizer tok = RobertaTokenizer::from_directory(dir);
  CHECK(tok.vocab_size() == static_cast<int64_t>(vocab.tokens.size()));
  CHECK(tok.bos_token_id() == 0);
  CHECK(tok.pad_token_id() == 1);
  CHECK(tok.eos_token_id() == 2);
  CHECK(tok.mask_token_id() == tok.vocab_size() - 1);
  // Frequent words became single tokens (with GPT-2's leading-space marker).
  CHECK(tok.tokenize("a red circle") == std::vector<std::string>{"a", "Ġred", "Ġcircle"});
  for (const std::string& text : {corpus().front(), std::string("an unseen sentence: \xC3\xA9t\xC3\xA9 42 \xF0\x9F\x99\x82!")}) {
    const auto ids = tok.encode(text);
    CHECK(ids.front() == tok.bos_token_id());
    CHECK(ids.back() == tok.eos_token_id());
    CHECK(tok.decode(ids, true) == text);
    CHECK(std::find(ids.begin(), ids.end(), tok.unk_token_id()) == ids.end());  // every byte has a symbol
  }
  // Training is deterministic.
  const BpeVocabulary again = train_byte_level_bpe(corpus(), {400, 2});
  CHECK(again.merges == vocab.merges);
  fs::remove_all(dir);
}

TEST_CASE("a vocabulary too small for the byte symbols is refused") {
  CHECK_THROWS_WITH(train_byte_level_bpe(corpus(), {100, 2}), doctest::Contains("at least 261"));
}
