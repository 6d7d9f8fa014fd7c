// The Tokenizer interface a backbone exposes to tasks.
#pragma once

#include <prismer/export.h>

#include <cstdint>
#include <string>
#include <vector>

namespace prismer {

/// Text <-> token ids for a backbone's vocabulary.
class PRISMER_API Tokenizer {
 public:
  virtual ~Tokenizer();
  /// Token ids of `text`; with `add_special_tokens` the sequence is wrapped in bos/eos.
  virtual std::vector<std::int64_t> encode(const std::string& text, bool add_special_tokens) const = 0;
  /// Text of `ids`; special tokens dropped when `skip_special_tokens`.
  virtual std::string decode(const std::vector<std::int64_t>& ids, bool skip_special_tokens) const = 0;
  virtual std::int64_t bos_id() const = 0;
  virtual std::int64_t eos_id() const = 0;
  virtual std::int64_t pad_id() const = 0;
  virtual std::size_t vocab_size() const = 0;
};

}  // namespace prismer
