#include "prismer/text/roberta_tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "bpe.h"
#include "prismer/text/byte_level.h"
#include "prismer/text/text_cleaning.h"
#include "unicode_util.h"

namespace prismer::text {

namespace {

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("RobertaTokenizer: cannot open " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct SpecialToken {
  const char* text;
  bool lstrip;  // AddedToken(lstrip=True): whitespace on its left is removed
  bool rstrip;
};

// The no-split tokens of roberta-base (RobertaTokenizer.__init__: only <mask> has lstrip=True).
constexpr std::array<SpecialToken, 5> kSpecials = {{
    {"<s>", false, false}, {"<pad>", false, false}, {"</s>", false, false}, {"<unk>", false, false}, {"<mask>", true, false},
}};

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

}  // namespace

struct RobertaTokenizer::Impl {
  std::unordered_map<std::string, int64_t> encoder;
  std::vector<std::string> decoder;
  std::vector<char> has_id;
  detail::BpeModel bpe;
  std::vector<int64_t> symbol_to_vocab;  // -1: not in vocab -> <unk>
  std::array<int64_t, kSpecials.size()> special_ids{};
  int64_t bos = 0, pad = 1, eos = 2, unk = 3, mask = 50264;
  int64_t model_max_length = 512;
  std::unique_ptr<detail::Regex> regex;
  mutable detail::BpeCache cache;

  struct Segment {
    int special;  // index into kSpecials, -1 for text
    std::string text;
  };

  std::vector<Segment> split_special(const std::string& text) const {
    std::vector<Segment> segs;
    size_t start = 0;
    size_t pos = 0;
    while (pos < text.size()) {
      pos = text.find('<', pos);
      if (pos == std::string::npos) break;
      int hit = -1;
      size_t hit_len = 0;
      for (size_t s = 0; s < kSpecials.size(); ++s) {
        const std::string_view lit(kSpecials[s].text);
        if (text.compare(pos, lit.size(), lit) == 0 && lit.size() > hit_len) {
          hit = static_cast<int>(s);
          hit_len = lit.size();
        }
      }
      if (hit < 0) {
        ++pos;
        continue;
      }
      if (pos > start) segs.push_back({-1, text.substr(start, pos - start)});
      segs.push_back({hit, std::string(kSpecials[static_cast<size_t>(hit)].text)});
      pos += hit_len;
      start = pos;
    }
    if (start < text.size()) segs.push_back({-1, text.substr(start)});
    // AddedToken lstrip / rstrip: strip the neighbouring pieces (Python str.rstrip / str.lstrip).
    for (size_t i = 0; i < segs.size(); ++i) {
      if (segs[i].special < 0) continue;
      const SpecialToken& tok = kSpecials[static_cast<size_t>(segs[i].special)];
      if (tok.rstrip && i + 1 < segs.size() && segs[i + 1].special < 0) {
        segs[i + 1].text = detail::u32_to_utf8(detail::python_lstrip(detail::utf8_to_u32(segs[i + 1].text)));
      }
      if (tok.lstrip && i > 0 && segs[i - 1].special < 0) {
        segs[i - 1].text = detail::u32_to_utf8(detail::python_rstrip(detail::utf8_to_u32(segs[i - 1].text)));
      }
    }
    return segs;
  }

  void bpe_piece(const std::string& piece, std::vector<int>& out) const {
    if (cache.get(piece, out)) return;
    std::vector<int> word;
    word.reserve(piece.size());
    for (char c : piece) word.push_back(static_cast<unsigned char>(c));  // byte b is symbol b
    out = bpe.apply(std::move(word));
    cache.put(piece, out);
  }

  /// tokenize(): appends vocabulary ids and/or token strings.
  void run(std::string_view raw, std::vector<int64_t>* ids, std::vector<std::string>* tokens) const {
    const std::string text = detail::utf8_sanitize(raw);
    std::vector<int> symbols;
    for (const Segment& seg : split_special(text)) {
      if (seg.text.empty()) continue;
      if (seg.special >= 0) {
        if (ids) ids->push_back(special_ids[static_cast<size_t>(seg.special)]);
        if (tokens) tokens->push_back(seg.text);
        continue;
      }
      for (const std::string& piece : regex->findall(seg.text)) {
        bpe_piece(piece, symbols);
        for (int s : symbols) {
          if (ids) {
            const int64_t v = symbol_to_vocab[static_cast<size_t>(s)];
            ids->push_back(v >= 0 ? v : unk);
          }
          if (tokens) tokens->push_back(bpe.symbol(s));
        }
      }
    }
  }

  std::vector<int64_t> prepare(std::string_view text, bool add_special, bool truncate, std::optional<int64_t> max_len) const {
    std::vector<int64_t> ids;
    run(text, &ids, nullptr);
    const int64_t total = static_cast<int64_t>(ids.size()) + (add_special ? 2 : 0);
    if (truncate && max_len && *max_len > 0 && total > *max_len) {
      const int64_t remove = total - *max_len;
      // HF truncate_sequences: a row too short to lose `remove` tokens is left as it is (an error is logged).
      if (static_cast<int64_t>(ids.size()) > remove) ids.resize(ids.size() - static_cast<size_t>(remove));
    }
    if (add_special) {
      ids.insert(ids.begin(), bos);
      ids.push_back(eos);
    }
    return ids;
  }

  struct Resolved {
    Padding padding;
    bool truncate;
    std::optional<int64_t> max_length;
  };

  Resolved resolve(const RobertaCallOptions& o) const {
    Resolved r{o.padding, false, o.max_length};
    r.truncate = o.truncation.has_value() ? *o.truncation : (o.max_length.has_value() && o.padding == Padding::kNone);
    if (!r.max_length && (r.padding == Padding::kMaxLength || r.truncate)) r.max_length = model_max_length;
    return r;
  }
};

RobertaTokenizer::RobertaTokenizer(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt,
                                   int64_t model_max_length)
    : impl_(std::make_unique<Impl>()) {
  Impl& im = *impl_;
  im.model_max_length = model_max_length;
  nlohmann::json vocab;
  try {
    vocab = nlohmann::json::parse(read_text_file(vocab_json));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("RobertaTokenizer: cannot parse " + vocab_json.string() + ": " + e.what());
  }
  if (!vocab.is_object()) throw std::runtime_error("RobertaTokenizer: " + vocab_json.string() + " is not a JSON object");
  int64_t max_id = -1;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const int64_t id = it.value().get<int64_t>();
    if (id < 0) throw std::runtime_error("RobertaTokenizer: negative id in " + vocab_json.string());
    im.encoder[it.key()] = id;
    max_id = std::max(max_id, id);
  }
  im.decoder.assign(static_cast<size_t>(max_id + 1), std::string());
  im.has_id.assign(static_cast<size_t>(max_id + 1), 0);
  for (const auto& [tok, id] : im.encoder) {
    im.decoder[static_cast<size_t>(id)] = tok;
    im.has_id[static_cast<size_t>(id)] = 1;
  }
  for (size_t s = 0; s < kSpecials.size(); ++s) {
    const auto it = im.encoder.find(kSpecials[s].text);
    if (it == im.encoder.end())
      throw std::runtime_error(std::string("RobertaTokenizer: special token ") + kSpecials[s].text + " missing from vocab");
    im.special_ids[s] = it->second;
  }
  im.bos = im.special_ids[0];
  im.pad = im.special_ids[1];
  im.eos = im.special_ids[2];
  im.unk = im.special_ids[3];
  im.mask = im.special_ids[4];

  // Byte symbols first, so byte b has symbol id b.
  for (int b = 0; b < 256; ++b) im.bpe.intern(byte_to_unicode(static_cast<unsigned char>(b)));
  // merges.txt: split('\n')[1:-1], each line split on whitespace.
  const std::string merges = read_text_file(merges_txt);
  std::vector<std::string_view> lines;
  {
    size_t start = 0;
    while (true) {
      const size_t nl = merges.find('\n', start);
      if (nl == std::string::npos) {
        lines.emplace_back(merges.data() + start, merges.size() - start);
        break;
      }
      lines.emplace_back(merges.data() + start, nl - start);
      start = nl + 1;
    }
  }
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    const std::string_view line = lines[i];
    std::vector<std::string_view> parts;
    size_t p = 0;
    while (p < line.size()) {
      while (p < line.size() && is_ascii_space(line[p])) ++p;
      size_t q = p;
      while (q < line.size() && !is_ascii_space(line[q])) ++q;
      if (q > p) parts.push_back(line.substr(p, q - p));
      p = q;
    }
    if (parts.size() == 2) im.bpe.add_merge(parts[0], parts[1], static_cast<int>(i - 1));
  }
  im.bpe.finalize();
  im.symbol_to_vocab.resize(im.bpe.num_symbols());
  for (size_t s = 0; s < im.bpe.num_symbols(); ++s) {
    const auto it = im.encoder.find(im.bpe.symbol(static_cast<int>(s)));
    im.symbol_to_vocab[s] = it == im.encoder.end() ? -1 : it->second;
  }
  im.regex = std::make_unique<detail::Regex>(std::u16string(detail::kGpt2Pattern));
}

RobertaTokenizer RobertaTokenizer::from_directory(const std::filesystem::path& dir, int64_t model_max_length) {
  return RobertaTokenizer(dir / "vocab.json", dir / "merges.txt", model_max_length);
}

RobertaTokenizer::~RobertaTokenizer() = default;
RobertaTokenizer::RobertaTokenizer(RobertaTokenizer&&) noexcept = default;
RobertaTokenizer& RobertaTokenizer::operator=(RobertaTokenizer&&) noexcept = default;

std::vector<std::string> RobertaTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> tokens;
  impl_->run(text, nullptr, &tokens);
  return tokens;
}

std::vector<int64_t> RobertaTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  return impl_->prepare(text, add_special_tokens, false, std::nullopt);
}

RobertaEncoding RobertaTokenizer::operator()(std::string_view text, const RobertaCallOptions& options) const {
  const Impl::Resolved r = impl_->resolve(options);
  RobertaEncoding enc;
  enc.input_ids = impl_->prepare(text, options.add_special_tokens, r.truncate, r.max_length);
  enc.attention_mask.assign(enc.input_ids.size(), 1);
  if (r.padding == Padding::kMaxLength && r.max_length && static_cast<int64_t>(enc.input_ids.size()) < *r.max_length) {
    enc.input_ids.resize(static_cast<size_t>(*r.max_length), impl_->pad);
    enc.attention_mask.resize(static_cast<size_t>(*r.max_length), 0);
  }
  return enc;
}

RobertaBatchEncoding RobertaTokenizer::operator()(const std::vector<std::string>& texts,
                                                  const RobertaCallOptions& options) const {
  const Impl::Resolved r = impl_->resolve(options);
  RobertaBatchEncoding out;
  out.input_ids.reserve(texts.size());
  size_t longest = 0;
  for (const std::string& t : texts) {
    out.input_ids.push_back(impl_->prepare(t, options.add_special_tokens, r.truncate, r.max_length));
    longest = std::max(longest, out.input_ids.back().size());
  }
  size_t target = 0;
  if (r.padding == Padding::kLongest) target = longest;
  if (r.padding == Padding::kMaxLength && r.max_length) target = static_cast<size_t>(std::max<int64_t>(0, *r.max_length));
  out.attention_mask.reserve(texts.size());
  for (auto& row : out.input_ids) {
    std::vector<int64_t> mask(row.size(), 1);
    if (row.size() < target) {
      row.resize(target, impl_->pad);
      mask.resize(target, 0);
    }
    out.attention_mask.push_back(std::move(mask));
  }
  return out;
}

std::string RobertaTokenizer::convert_tokens_to_string(const std::vector<std::string>& tokens) const {
  std::string joined;
  for (const auto& t : tokens) joined += t;
  return detail::utf8_sanitize(byte_level_to_bytes(joined));
}

std::string RobertaTokenizer::decode(const std::vector<int64_t>& ids, bool skip_special_tokens,
                                     bool clean_up_tokenization_spaces) const {
  std::string text = convert_tokens_to_string(convert_ids_to_tokens(ids, skip_special_tokens));
  return clean_up_tokenization_spaces ? clean_up_tokenization(text) : text;
}

std::vector<std::string> RobertaTokenizer::batch_decode(const std::vector<std::vector<int64_t>>& rows,
                                                        bool skip_special_tokens,
                                                        bool clean_up_tokenization_spaces) const {
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(decode(row, skip_special_tokens, clean_up_tokenization_spaces));
  return out;
}

int64_t RobertaTokenizer::token_to_id(std::string_view token) const {
  const auto it = impl_->encoder.find(std::string(token));
  return it == impl_->encoder.end() ? impl_->unk : it->second;
}

const std::string& RobertaTokenizer::id_to_token(int64_t id) const {
  if (id < 0 || id >= static_cast<int64_t>(impl_->decoder.size()) || !impl_->has_id[static_cast<size_t>(id)])
    throw std::out_of_range("RobertaTokenizer: id " + std::to_string(id) + " is not in the vocabulary");
  return impl_->decoder[static_cast<size_t>(id)];
}

std::vector<int64_t> RobertaTokenizer::convert_tokens_to_ids(const std::vector<std::string>& tokens) const {
  std::vector<int64_t> ids;
  ids.reserve(tokens.size());
  for (const auto& t : tokens) ids.push_back(token_to_id(t));
  return ids;
}

std::vector<std::string> RobertaTokenizer::convert_ids_to_tokens(const std::vector<int64_t>& ids,
                                                                 bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int64_t id : ids) {
    if (skip_special_tokens && is_special_id(id)) continue;
    tokens.push_back(id_to_token(id));
  }
  return tokens;
}

int64_t RobertaTokenizer::bos_token_id() const { return impl_->bos; }
int64_t RobertaTokenizer::pad_token_id() const { return impl_->pad; }
int64_t RobertaTokenizer::eos_token_id() const { return impl_->eos; }
int64_t RobertaTokenizer::unk_token_id() const { return impl_->unk; }
int64_t RobertaTokenizer::mask_token_id() const { return impl_->mask; }

std::vector<int64_t> RobertaTokenizer::all_special_ids() const {
  return {impl_->bos, impl_->eos, impl_->unk, impl_->pad, impl_->mask};
}

bool RobertaTokenizer::is_special_id(int64_t id) const {
  return std::find(impl_->special_ids.begin(), impl_->special_ids.end(), id) != impl_->special_ids.end();
}

int64_t RobertaTokenizer::vocab_size() const { return static_cast<int64_t>(impl_->encoder.size()); }
int64_t RobertaTokenizer::model_max_length() const { return impl_->model_max_length; }

}  // namespace prismer::text
