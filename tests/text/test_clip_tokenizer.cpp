// ClipTokenizer against the openai/CLIP reference cases (shared/fixtures/tokenizer/clip_cases.json):
// every case in the file is run, plus the batch case.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "fixtures.h"
#include "prismer/text/clip_tokenizer.h"
#include "prismer/text/text_cleaning.h"

using nlohmann::json;
using prismer::text::ClipTokenizer;

namespace {

namespace fs = std::filesystem;

fs::path tokenizer_dir() { return prismer::test::fixtures_root() / "tokenizer"; }

std::string show(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

template <typename T>
bool same(const std::string& where, const std::string& field, const json& expected, const T& actual) {
  const json got = actual;
  if (got == expected) return true;
  std::ostringstream msg;
  msg << where << ": " << field << " differs\n    expected: " << show(expected) << "\n    actual:   " << show(got);
  std::cout << "  MISMATCH " << msg.str() << std::endl;
  FAIL_CHECK(msg.str());
  return false;
}

const ClipTokenizer& tokenizer() {
  static const ClipTokenizer tok(tokenizer_dir() / "clip" / "bpe_simple_vocab_16e6.txt.gz");
  return tok;
}

// clip.tokenize returns torch.int32 rows (torch >= 1.8); the C++ rows are int32 too.
static_assert(std::is_same_v<decltype(std::declval<ClipTokenizer>().tokenize(std::string_view()))::value_type, int32_t>);

}  // namespace

TEST_CASE("clip tokenizer: every reference case") {
  const fs::path cases_path = tokenizer_dir() / "clip_cases.json";
  if (!prismer::test::require_fixture(cases_path)) return;
  if (!prismer::test::require_fixture(tokenizer_dir() / "clip" / "bpe_simple_vocab_16e6.txt.gz")) return;
  const json doc = json::parse(prismer::test::read_file(cases_path));
  const ClipTokenizer& tok = tokenizer();

  int context_length = ClipTokenizer::kDefaultContextLength;
  if (doc.contains("constants")) {
    const json& k = doc["constants"];
    if (k.contains("context_length")) context_length = k["context_length"].get<int>();
    if (k.contains("sot")) same("constants", "sot", k["sot"], tok.sot_token_id());
    if (k.contains("eot")) same("constants", "eot", k["eot"], tok.eot_token_id());
    if (k.contains("vocab_size")) same("constants", "vocab_size", k["vocab_size"], tok.vocab_size());
    if (k.contains("pad")) CHECK(k["pad"].get<int>() == 0);
  }

  const json& cases = doc.at("cases");
  if (doc.contains("num_cases")) CHECK(cases.size() == doc["num_cases"].get<size_t>());
  size_t passed = 0, failed = 0, index = 0;
  for (const json& c : cases) {
    const std::string text = c.at("text").get<std::string>();
    const std::string where = "clip #" + std::to_string(index++) + " " + show(json(text));
    prismer::test::announce_case(where);
    bool ok = true;
    try {
      if (c.contains("after_ftfy_fix_text"))
        ok &= same(where, "ftfy.fix_text", c["after_ftfy_fix_text"], prismer::text::ftfy_fix_text(text));
      const std::string cleaned = ClipTokenizer::clean_text(text);
      if (c.contains("cleaned")) ok &= same(where, "cleaned", c["cleaned"], cleaned);
      if (c.contains("pre_tokens")) ok &= same(where, "pre_tokens", c["pre_tokens"], tok.pre_tokenize(cleaned));
      if (c.contains("bpe_tokens")) ok &= same(where, "bpe_tokens", c["bpe_tokens"], tok.bpe_tokens(text));
      const std::vector<int32_t> ids = tok.encode(text);
      if (c.contains("encode_ids")) ok &= same(where, "encode", c["encode_ids"], ids);
      if (c.contains("decode")) ok &= same(where, "decode(encode)", c["decode"], tok.decode(ids));
      if (c.contains("tokenize_dtype")) ok &= same(where, "tokenize dtype", c["tokenize_dtype"], std::string("torch.int32"));
      if (c.contains("tokenize_nonzero_prefix")) {
        const std::vector<int32_t> row = tok.tokenize(text, context_length);
        const size_t n = c.value("tokenize_length", c["tokenize_nonzero_prefix"].size());
        ok &= same(where, "tokenize row length", json(context_length), row.size());
        ok &= same(where, "tokenize prefix", c["tokenize_nonzero_prefix"],
                   std::vector<int32_t>(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(std::min(n, row.size()))));
        ok &= same(where, "tokenize zero tail", json(std::vector<int32_t>(row.size() - std::min(n, row.size()), 0)),
                   std::vector<int32_t>(row.begin() + static_cast<std::ptrdiff_t>(std::min(n, row.size())), row.end()));
      }
      if (c.contains("tokenize_default_error")) {
        const json& err = c["tokenize_default_error"];
        if (err.is_null()) {
          try {
            (void)tok.tokenize(text, context_length);
          } catch (const std::exception& e) {
            ok = false;
            FAIL_CHECK(where << ": tokenize(truncate=False) threw unexpectedly: " << e.what());
          }
        } else {
          std::string expected = err.get<std::string>();
          const std::string prefix = "RuntimeError: ";
          if (expected.rfind(prefix, 0) == 0) expected = expected.substr(prefix.size());
          std::string got = "(no exception)";
          try {
            (void)tok.tokenize(text, context_length);
          } catch (const std::runtime_error& e) {
            got = e.what();
          }
          ok &= same(where, "tokenize(truncate=False) error", json(expected), got);
        }
      }
      if (c.contains("tokenize_truncate_row"))
        ok &= same(where, "tokenize(truncate=True)", c["tokenize_truncate_row"], tok.tokenize(text, context_length, true));
    } catch (const std::exception& e) {
      ok = false;
      FAIL_CHECK(where << ": threw " << e.what());
    }
    (ok ? passed : failed)++;
  }

  if (doc.contains("batch_case")) {
    const json& b = doc["batch_case"];
    prismer::test::announce_case("batch_case " + b.value("call", std::string()));
    bool ok = true;
    try {
      const auto texts = b.at("texts").get<std::vector<std::string>>();
      const auto rows = tok.tokenize(texts, context_length);
      if (b.contains("shape")) ok &= same("batch_case", "shape", b["shape"], std::vector<size_t>{rows.size(), rows.empty() ? 0 : rows[0].size()});
      if (b.contains("dtype")) ok &= same("batch_case", "dtype", b["dtype"], std::string("torch.int32"));
      ok &= same("batch_case", "rows", b.at("rows"), rows);
    } catch (const std::exception& e) {
      ok = false;
      FAIL_CHECK("batch_case: threw " << e.what());
    }
    (ok ? passed : failed)++;
  }
  std::cout << "clip reference cases: " << passed << " passed, " << failed << " failed" << std::endl;
  CHECK(failed == 0);
}

TEST_CASE("clip tokenizer: text clean-up details") {
  using prismer::text::ftfy_fix_text;
  using prismer::text::html_unescape;
  // html.unescape: named (with and without ';', longest legacy prefix), numeric, invalid numbers.
  CHECK(html_unescape("&amp;amp; &lt;3 &eacute &eacutex; &notit; &#39; &#x27; &#0; &#x80; &#1; &#xD800; &bogus;") ==
        "&amp; <3 \xC3\xA9 \xC3\xA9x; \xC2\xACit; ' ' \xEF\xBF\xBD \xE2\x82\xAC  \xEF\xBF\xBD &bogus;");
  // ftfy: mojibake, upper-case entities, C1 controls, ligatures, width, quotes, controls, NFC.
  CHECK(ftfy_fix_text("caf\xC3\x83\xC2\xA9") == "caf\xC3\xA9");
  CHECK(ftfy_fix_text("P&EACUTE;REZ") == "P\xC3\x89REZ");
  CHECK(ftfy_fix_text("\xEF\xAC\x82u\xEF\xAC\x83") == "fluffi");
  CHECK(ftfy_fix_text("\xEF\xBC\xAC\xEF\xBC\xAF\xE3\x80\x80x") == "LO x");
  CHECK(ftfy_fix_text("\xE2\x80\x9Chere\xE2\x80\x99s\xE2\x80\x9D") == "\"here's\"");
  CHECK(ftfy_fix_text("a\x1B[36;44mb\x1B[0m\x7F") == "ab");
  CHECK(ftfy_fix_text("e\xCC\x81") == "\xC3\xA9");
  CHECK(ftfy_fix_text("a\r\nb\rc") == "a\nb\nc");
  // '<' in a segment turns HTML unescaping off for it and the rest of the text.
  CHECK(ftfy_fix_text("<b>&amp;</b>") == "<b>&amp;</b>");
}

TEST_CASE("clip tokenizer: tokenize shapes and truncation") {
  if (!prismer::test::require_fixture(tokenizer_dir() / "clip" / "bpe_simple_vocab_16e6.txt.gz")) return;
  const ClipTokenizer& tok = tokenizer();
  const auto rows = tok.tokenize(std::vector<std::string>{"", "a dog"});
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].size() == 77);
  CHECK(rows[0][0] == tok.sot_token_id());
  CHECK(rows[0][1] == tok.eot_token_id());
  CHECK(rows[0][2] == 0);
  const std::vector<int32_t> short_row = tok.tokenize("one two three four five", 4, true);
  CHECK(short_row.size() == 4);
  CHECK(short_row.back() == tok.eot_token_id());
  CHECK_THROWS_AS(tok.tokenize("one two three four five", 4, false), std::runtime_error);
  CHECK(tok.id_to_token(tok.token_to_id("stop</w>")) == "stop</w>");
  CHECK_THROWS_AS(tok.id_to_token(49408), std::out_of_range);
}
