// RobertaTokenizer against the reference cases of HF transformers 4.26.1's slow RobertaTokenizer
// (shared/fixtures/tokenizer/roberta_cases.json). Every case in the file is run, whatever its group.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "fixtures.h"
#include "prismer/text/byte_level.h"
#include "prismer/text/roberta_tokenizer.h"
#include "prismer/text/text_cleaning.h"

using nlohmann::json;
using prismer::text::Padding;
using prismer::text::RobertaCallOptions;
using prismer::text::RobertaTokenizer;

namespace {

namespace fs = std::filesystem;

fs::path tokenizer_dir() { return prismer::test::fixtures_root() / "tokenizer"; }

std::string show(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

/// Records one comparison; prints what differed on a mismatch. Returns true when equal.
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

/// The tokenizer(...) keyword arguments of a case; unknown ones make the case fail (so new fixture
/// patterns are noticed instead of silently mis-tested).
RobertaCallOptions options_from(const json& kwargs, const std::string& where, bool& ok) {
  RobertaCallOptions o;
  for (auto it = kwargs.begin(); it != kwargs.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "add_special_tokens") {
      o.add_special_tokens = v.get<bool>();
    } else if (k == "padding") {
      if (v.is_boolean()) o.padding = v.get<bool>() ? Padding::kLongest : Padding::kNone;
      else if (v == "longest") o.padding = Padding::kLongest;
      else if (v == "max_length") o.padding = Padding::kMaxLength;
      else if (v == "do_not_pad") o.padding = Padding::kNone;
      else ok = false;
    } else if (k == "truncation") {
      if (v.is_boolean()) o.truncation = v.get<bool>();
      else if (v == "longest_first" || v == "only_first") o.truncation = true;
      else if (v == "do_not_truncate") o.truncation = false;
      else ok = false;
    } else if (k == "max_length") {
      if (!v.is_null()) o.max_length = v.get<int64_t>();
    } else {
      ok = false;
    }
    if (!ok) {
      FAIL_CHECK(where << ": unsupported keyword argument " << k << "=" << show(v));
      return o;
    }
  }
  return o;
}

const RobertaTokenizer& tokenizer() {
  static const RobertaTokenizer tok(tokenizer_dir() / "roberta" / "vocab.json", tokenizer_dir() / "roberta" / "merges.txt");
  return tok;
}

}  // namespace

TEST_CASE("roberta tokenizer: special tokens and vocabulary") {
  if (!prismer::test::require_fixture(tokenizer_dir() / "roberta" / "vocab.json")) return;
  const RobertaTokenizer& tok = tokenizer();
  CHECK(tok.bos_token_id() == 0);
  CHECK(tok.pad_token_id() == 1);
  CHECK(tok.eos_token_id() == 2);
  CHECK(tok.unk_token_id() == 3);
  CHECK(tok.mask_token_id() == 50264);
  CHECK(tok.vocab_size() == 50265);
  CHECK(tok.token_to_id("Ġthe") == 5);
  CHECK(tok.token_to_id("no-such-token") == 3);
  CHECK(tok.id_to_token(50261) == "madeupword0000");
  CHECK_THROWS_AS(tok.id_to_token(50265), std::out_of_range);
  CHECK_THROWS_AS(tok.decode({0, 99999999}), std::out_of_range);
  CHECK(prismer::text::byte_to_unicode(' ') == "Ġ");
  CHECK(prismer::text::byte_to_unicode('\n') == "Ċ");
  CHECK(prismer::text::byte_level_to_bytes("ĠhelloĊ") == " hello\n");
  // HF documentation / model-test examples (also in the fixture README).
  CHECK(tok.encode("Hello world") == std::vector<int64_t>{0, 31414, 232, 2});
  CHECK(tok.encode(" Hello world") == std::vector<int64_t>{0, 20920, 232, 2});
  CHECK(tok.encode("A, <mask> AllenNLP sentence.") ==
        std::vector<int64_t>{0, 250, 6, 50264, 3823, 487, 21992, 3645, 4, 2});
  // Python `model_max_length` default: truncation=True without max_length cuts to 512.
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += " word";
  RobertaCallOptions trunc;
  trunc.truncation = true;
  CHECK(tok(long_text, trunc).input_ids.size() == 512);
  CHECK(tok(long_text).input_ids.size() == 602);
  // max_length alone (padding off, truncation unset) turns truncation on, as in HF.
  RobertaCallOptions max_only;
  max_only.max_length = 10;
  CHECK(tok(long_text, max_only).input_ids.size() == 10);
}

TEST_CASE("roberta tokenizer: every reference case") {
  const fs::path cases_path = tokenizer_dir() / "roberta_cases.json";
  if (!prismer::test::require_fixture(cases_path)) return;
  const json doc = json::parse(prismer::test::read_file(cases_path));
  const RobertaTokenizer& tok = tokenizer();

  if (doc.contains("provenance")) {
    const json& prov = doc["provenance"];
    if (prov.contains("special_ids")) {
      for (auto it = prov["special_ids"].begin(); it != prov["special_ids"].end(); ++it)
        same("provenance", "special id of " + it.key(), it.value(), tok.token_to_id(it.key()));
    }
    if (prov.contains("all_special_ids_skipped_by_decode")) {
      std::vector<int64_t> ids = tok.all_special_ids();
      std::sort(ids.begin(), ids.end());
      json expected = prov["all_special_ids_skipped_by_decode"];
      std::vector<int64_t> exp = expected.get<std::vector<int64_t>>();
      std::sort(exp.begin(), exp.end());
      same("provenance", "all_special_ids", json(exp), ids);
    }
  }

  const json& cases = doc.at("cases");
  if (doc.contains("num_cases")) CHECK(cases.size() == doc["num_cases"].get<size_t>());
  size_t passed = 0, failed = 0;
  for (const json& c : cases) {
    const std::string where = "case " + std::to_string(c.value("id", -1)) + " [" + c.value("group", std::string("?")) + "]";
    prismer::test::announce_case(std::to_string(c.value("id", -1)) + " " + c.value("group", std::string("?")) + " " +
                                 c.value("call", std::string()));
    bool ok = true;
    const std::string call = c.at("call").get<std::string>();
    const json kwargs = c.value("kwargs", json::object());
    try {
      if (call == "tokenizer(text, **kwargs)") {
        const RobertaCallOptions o = options_from(kwargs, where, ok);
        const std::string text = c.at("text").get<std::string>();
        const auto enc = tok(text, o);
        ok &= same(where, "input_ids", c.at("input_ids"), enc.input_ids);
        ok &= same(where, "attention_mask", c.at("attention_mask"), enc.attention_mask);
        if (c.contains("decode_skip_special_tokens"))
          ok &= same(where, "decode(skip_special_tokens=True)", c["decode_skip_special_tokens"], tok.decode(enc.input_ids, true));
        if (c.contains("decode_keep_special_tokens"))
          ok &= same(where, "decode()", c["decode_keep_special_tokens"], tok.decode(enc.input_ids, false));
        if (c.contains("tokens")) ok &= same(where, "tokenize()", c["tokens"], tok.tokenize(text));
      } else if (call == "tokenizer(texts, **kwargs)") {
        const RobertaCallOptions o = options_from(kwargs, where, ok);
        const auto texts = c.at("texts").get<std::vector<std::string>>();
        const auto enc = tok(texts, o);
        ok &= same(where, "input_ids", c.at("input_ids"), enc.input_ids);
        ok &= same(where, "attention_mask", c.at("attention_mask"), enc.attention_mask);
        if (c.contains("decode_skip_special_tokens"))
          ok &= same(where, "batch_decode(skip_special_tokens=True)", c["decode_skip_special_tokens"],
                     tok.batch_decode(enc.input_ids, true));
      } else if (call == "tokenizer.decode(ids, **kwargs)") {
        bool skip = false, cleanup = true;
        for (auto it = kwargs.begin(); it != kwargs.end(); ++it) {
          if (it.key() == "skip_special_tokens") skip = it.value().get<bool>();
          else if (it.key() == "clean_up_tokenization_spaces") cleanup = it.value().get<bool>();
          else {
            ok = false;
            FAIL_CHECK(where << ": unsupported keyword argument " << it.key());
          }
        }
        const auto ids = c.at("ids").get<std::vector<int64_t>>();
        if (c.contains("tokens")) ok &= same(where, "convert_ids_to_tokens", c["tokens"], tok.convert_ids_to_tokens(ids));
        if (c.contains("result")) ok &= same(where, "decode(**kwargs)", c["result"], tok.decode(ids, skip, cleanup));
        if (c.contains("result_keep_special"))
          ok &= same(where, "decode(skip_special_tokens=False)", c["result_keep_special"], tok.decode(ids, false, cleanup));
        if (c.contains("result_no_cleanup"))
          ok &= same(where, "decode(clean_up_tokenization_spaces=False)", c["result_no_cleanup"], tok.decode(ids, skip, false));
      } else {
        ok = false;
        FAIL_CHECK(where << ": unknown call pattern '" << call << "'");
      }
    } catch (const std::exception& e) {
      ok = false;
      FAIL_CHECK(where << ": threw " << e.what());
    }
    (ok ? passed : failed)++;
  }
  std::cout << "roberta reference cases: " << passed << " passed, " << failed << " failed, of " << cases.size() << std::endl;
  CHECK(failed == 0);
}

TEST_CASE("roberta tokenizer: gpt2_npm_sanity rows (RoBERTa ids without special tokens)") {
  const fs::path path = tokenizer_dir() / "gpt2_npm_sanity.json";
  if (!prismer::test::require_fixture(path)) return;
  const json doc = json::parse(prismer::test::read_file(path));
  const RobertaTokenizer& tok = tokenizer();
  size_t index = 0, failed = 0;
  for (const json& row : doc.at("rows")) {
    const std::string text = row.at("text").get<std::string>();
    const std::string where = "gpt2_npm_sanity row " + std::to_string(index++) + " " + show(json(text));
    prismer::test::announce_case(where);
    if (row.contains("roberta_ids_no_special") && !same(where, "encode(add_special_tokens=False)", row["roberta_ids_no_special"], tok.encode(text, false)))
      ++failed;
  }
  CHECK(failed == 0);
}

TEST_CASE("roberta tokenizer: clean_up_tokenization") {
  CHECK(prismer::text::clean_up_tokenization("Hello , world . it 's I 'm you 're we 've don n't ' x ?!") ==
        "Hello, world. it's I'm you're we've donn't'x?!");
}
