#include "prismer/text/clip_tokenizer.h"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "bpe.h"
#include "prismer/text/byte_level.h"
#include "prismer/text/text_cleaning.h"
#include "unicode_util.h"

namespace prismer::text {

namespace {

std::string read_gzip(const std::filesystem::path& path) {
  gzFile f = gzopen(path.string().c_str(), "rb");
  if (f == nullptr) throw std::runtime_error("ClipTokenizer: cannot open " + path.string());
  std::string out;
  char buf[1 << 16];
  while (true) {
    const int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int err = 0;
      const std::string msg = gzerror(f, &err);
      gzclose(f);
      throw std::runtime_error("ClipTokenizer: cannot read " + path.string() + ": " + msg);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  gzclose(f);
  return out;
}

// Python str.split() on the merge lines (the merges never contain non-ASCII whitespace).
std::vector<std::string> split_ws(std::string_view line) {
  std::vector<std::string> parts;
  size_t p = 0;
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\n'; };
  while (p < line.size()) {
    while (p < line.size() && ws(line[p])) ++p;
    size_t q = p;
    while (q < line.size() && !ws(line[q])) ++q;
    if (q > p) parts.emplace_back(line.substr(p, q - p));
    p = q;
  }
  return parts;
}

// CLIP's pattern (re.IGNORECASE). The text is lower-cased before matching; ICU's case-insensitive mode is
// applied to the literal alternatives only, because ICU would close the property classes over case, which
// Python's `regex` does not do. What `regex` does do is refuse, in the negated class, characters whose case
// variants are in the class (U+0345): those are added to it explicitly (computed by ICU at start-up).
std::u16string clip_pattern() {
  const std::u16string excluded = u"\\p{White_Space}\\p{L}\\p{N}";
  return u"(?i:<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d)|\\p{L}+|\\p{N}|[^" + excluded +
         detail::case_variant_escapes(u"[" + excluded + u"]") + u"]+";
}

constexpr const char* kSot = "<|startoftext|>";
constexpr const char* kEot = "<|endoftext|>";

}  // namespace

struct ClipTokenizer::Impl {
  std::unordered_map<std::string, int32_t> encoder;
  std::vector<std::string> decoder;
  std::vector<char> has_id;
  detail::BpeModel bpe;  // symbols 0..255: byte characters; 256..511: the same + "</w>"
  std::vector<int32_t> symbol_to_vocab;
  int32_t sot = 49406, eot = 49407;
  std::unique_ptr<detail::Regex> regex;
  mutable detail::BpeCache cache;

  void bpe_piece(const std::string& piece, std::vector<int>& out) const {
    if (cache.get(piece, out)) return;
    std::vector<int> word;
    word.reserve(piece.size());
    for (size_t i = 0; i < piece.size(); ++i) {
      const int b = static_cast<unsigned char>(piece[i]);
      word.push_back(i + 1 == piece.size() ? 256 + b : b);
    }
    out = bpe.apply(std::move(word));
    cache.put(piece, out);
  }

  /// Appends the ids (and token strings when asked) of a cleaned text.
  void run_cleaned(const std::string& cleaned, std::vector<int32_t>* ids, std::vector<std::string>* tokens) const {
    std::vector<int> symbols;
    for (const std::string& piece : regex->findall(cleaned)) {
      if (piece == kSot || piece == kEot) {  // the reference cache holds these two unchanged
        if (ids) ids->push_back(piece == kSot ? sot : eot);
        if (tokens) tokens->push_back(piece);
        continue;
      }
      bpe_piece(piece, symbols);
      for (int s : symbols) {
        if (ids) {
          const int32_t v = symbol_to_vocab[static_cast<size_t>(s)];
          if (v < 0) throw std::runtime_error("ClipTokenizer: BPE token not in vocabulary: " + bpe.symbol(s));
          ids->push_back(v);
        }
        if (tokens) tokens->push_back(bpe.symbol(s));
      }
    }
  }
};

ClipTokenizer::ClipTokenizer(const std::filesystem::path& bpe_gz) : impl_(std::make_unique<Impl>()) {
  Impl& im = *impl_;
  const std::string data = detail::utf8_sanitize(read_gzip(bpe_gz));
  std::vector<std::string_view> lines;
  {
    size_t start = 0;
    while (true) {
      const size_t nl = data.find('\n', start);
      if (nl == std::string::npos) {
        lines.emplace_back(data.data() + start, data.size() - start);
        break;
      }
      lines.emplace_back(data.data() + start, nl - start);
      start = nl + 1;
    }
  }
  constexpr size_t kEnd = 49152 - 256 - 2 + 1;  // merges = lines[1:kEnd]
  const size_t end = std::min(kEnd, lines.size());
  if (end <= 1) throw std::runtime_error("ClipTokenizer: no merges in " + bpe_gz.string());

  std::vector<std::string> vocab;
  vocab.reserve(512 + end + 2);
  for (int b = 0; b < 256; ++b) im.bpe.intern(byte_to_unicode(static_cast<unsigned char>(b)));
  for (int b = 0; b < 256; ++b) im.bpe.intern(byte_to_unicode(static_cast<unsigned char>(b)) + "</w>");
  // vocab = list(bytes_to_unicode().values()): the characters in code point order (printable bytes keep
  // their own code point, the others come after as U+0100 + n).
  std::vector<std::string> chars;
  for (int b = 0; b < 256; ++b) chars.push_back(byte_to_unicode(static_cast<unsigned char>(b)));
  std::sort(chars.begin(), chars.end(), [](const std::string& a, const std::string& b) {
    return detail::utf8_to_u32(a) < detail::utf8_to_u32(b);
  });
  for (const auto& c : chars) vocab.push_back(c);
  for (const auto& c : chars) vocab.push_back(c + "</w>");
  for (size_t i = 1; i < end; ++i) {
    const std::vector<std::string> parts = split_ws(lines[i]);
    std::string joined;
    for (const auto& p : parts) joined += p;
    vocab.push_back(joined);
    if (parts.size() == 2) im.bpe.add_merge(parts[0], parts[1], static_cast<int>(i - 1));
  }
  vocab.emplace_back(kSot);
  vocab.emplace_back(kEot);
  im.bpe.finalize();

  // encoder = dict(zip(vocab, range(len(vocab)))): a repeated string keeps its last id; decoder inverts it.
  for (size_t i = 0; i < vocab.size(); ++i) im.encoder[vocab[i]] = static_cast<int32_t>(i);
  im.decoder.assign(vocab.size(), std::string());
  im.has_id.assign(vocab.size(), 0);
  for (const auto& [tok, id] : im.encoder) {
    im.decoder[static_cast<size_t>(id)] = tok;
    im.has_id[static_cast<size_t>(id)] = 1;
  }
  im.sot = im.encoder.at(kSot);
  im.eot = im.encoder.at(kEot);
  im.symbol_to_vocab.resize(im.bpe.num_symbols());
  for (size_t s = 0; s < im.bpe.num_symbols(); ++s) {
    const auto it = im.encoder.find(im.bpe.symbol(static_cast<int>(s)));
    im.symbol_to_vocab[s] = it == im.encoder.end() ? -1 : it->second;
  }
  im.regex = std::make_unique<detail::Regex>(clip_pattern());
}

ClipTokenizer::~ClipTokenizer() = default;
ClipTokenizer::ClipTokenizer(ClipTokenizer&&) noexcept = default;
ClipTokenizer& ClipTokenizer::operator=(ClipTokenizer&&) noexcept = default;

std::string ClipTokenizer::clean_text(std::string_view text) { return clip_clean_text(text); }

std::vector<std::string> ClipTokenizer::pre_tokenize(std::string_view cleaned) const {
  return impl_->regex->findall(detail::utf8_sanitize(cleaned));
}

std::vector<int32_t> ClipTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  impl_->run_cleaned(clip_clean_text(text), &ids, nullptr);
  return ids;
}

std::vector<std::string> ClipTokenizer::bpe_tokens(std::string_view text) const {
  std::vector<std::string> tokens;
  impl_->run_cleaned(clip_clean_text(text), nullptr, &tokens);
  return tokens;
}

std::string ClipTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string joined;
  for (int32_t id : ids) joined += id_to_token(id);
  std::string text = detail::utf8_sanitize(byte_level_to_bytes(joined));
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (true) {
    const size_t hit = text.find("</w>", pos);
    if (hit == std::string::npos) break;
    out.append(text, pos, hit - pos).push_back(' ');
    pos = hit + 4;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

std::vector<std::vector<int32_t>> ClipTokenizer::tokenize(const std::vector<std::string>& texts, int context_length,
                                                          bool truncate) const {
  if (context_length < 0) throw std::invalid_argument("ClipTokenizer::tokenize: negative context_length");
  const auto ctx = static_cast<size_t>(context_length);
  std::vector<std::vector<int32_t>> rows;
  rows.reserve(texts.size());
  for (const std::string& text : texts) {
    std::vector<int32_t> tokens{impl_->sot};
    impl_->run_cleaned(clip_clean_text(text), &tokens, nullptr);
    tokens.push_back(impl_->eot);
    if (tokens.size() > ctx) {
      if (!truncate)
        throw std::runtime_error("Input " + text + " is too long for context length " + std::to_string(context_length));
      tokens.resize(ctx);
      if (!tokens.empty()) tokens.back() = impl_->eot;
    }
    tokens.resize(ctx, 0);
    rows.push_back(std::move(tokens));
  }
  return rows;
}

std::vector<int32_t> ClipTokenizer::tokenize(std::string_view text, int context_length, bool truncate) const {
  return tokenize(std::vector<std::string>{std::string(text)}, context_length, truncate).front();
}

int32_t ClipTokenizer::token_to_id(std::string_view token) const {
  const auto it = impl_->encoder.find(std::string(token));
  return it == impl_->encoder.end() ? -1 : it->second;
}

const std::string& ClipTokenizer::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->decoder.size() || !impl_->has_id[static_cast<size_t>(id)])
    throw std::out_of_range("ClipTokenizer: id " + std::to_string(id) + " is not in the vocabulary");
  return impl_->decoder[static_cast<size_t>(id)];
}

int32_t ClipTokenizer::sot_token_id() const { return impl_->sot; }
int32_t ClipTokenizer::eot_token_id() const { return impl_->eot; }
int32_t ClipTokenizer::vocab_size() const { return static_cast<int32_t>(impl_->decoder.size()); }

}  // namespace prismer::text
