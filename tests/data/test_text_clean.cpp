// pre_caption / pre_question against shared/fixtures/data/text (cases.json, web_captions.json, charsets.json):
// every case of every `X_cases.json` / `X_web_captions.json` set. Tolerance: exact string (code point) equality,
// and the same error (IndexError -> std::out_of_range, UnicodeDecodeError -> TextDecodeError).
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

#include "fixtures.h"
#include "prismer/data/text_clean.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
namespace pd = prismer::data;

fs::path text_dir() { return prismer::test::fixtures_root() / "data" / "text"; }

std::string show(const std::string& s) { return json(s).dump(-1, ' ', false, json::error_handler_t::replace); }

/// Runs `fn` and compares with `{"ok": ...}` or `{"error": ..., "message": ...}`; returns true when equal.
bool check_result(const std::string& where, const json& expected, const std::function<std::string()>& fn) {
  std::string got, got_error, got_message;
  try {
    got = fn();
  } catch (const std::out_of_range& e) {
    got_error = "IndexError", got_message = e.what();
  } catch (const pd::TextDecodeError& e) {
    got_error = "UnicodeDecodeError", got_message = e.what();
  }
  bool ok;
  if (expected.contains("ok")) {
    ok = got_error.empty() && got == expected["ok"].get<std::string>();
  } else {
    ok = got_error == expected.at("error").get<std::string>() &&
         (!expected.contains("message") || got_message == expected["message"].get<std::string>());
  }
  if (!ok) {
    std::cout << "  MISMATCH " << where << "\n    expected: " << expected.dump(-1, ' ', false, json::error_handler_t::replace)
              << "\n    actual:   " << (got_error.empty() ? show(got) : got_error + ": " + got_message) << std::endl;
  }
  CHECK_MESSAGE(ok, where);
  return ok;
}

}  // namespace

TEST_CASE("text: pre_caption / pre_question on every reference string (exact)") {
  int total = 0, passed = 0;
  for (const std::string& prefix : prismer::test::case_prefixes(text_dir(), "cases.json")) {
    const fs::path path = text_dir() / (prefix + "cases.json");
    const json doc = json::parse(prismer::test::read_file(path));
    for (const json& c : doc.at("cases")) {
      const std::string input = c.at("input").get<std::string>();
      const std::string name = prefix + "case " + (c.contains("id") ? std::to_string(c["id"].get<int>()) : "?") + " " + show(input);
      prismer::test::announce_case(name);
      struct Field {
        const char* key;
        std::function<std::string()> fn;
      };
      const std::vector<Field> fields = {
          {"pre_caption", [&] { return pd::pre_caption(input); }},
          {"pre_caption_30", [&] { return pd::pre_caption(input, 30); }},
          {"pre_question", [&] { return pd::pre_question(input); }},
          {"pre_question_30", [&] { return pd::pre_question(input, 30); }},
          {"caption_train_prefix_A_picture_of", [&] { return pd::pre_caption("A picture of " + input, 30); }},
          {"caption_train_prefix_empty", [&] { return pd::pre_caption(" " + input, 30); }},
      };
      for (const Field& f : fields) {
        if (!c.contains(f.key)) continue;
        ++total;
        passed += check_result(name + " " + f.key, c[f.key], f.fn);
      }
      if (c.contains("classification_caption")) {
        ++total;
        passed += check_result(name + " classification_caption", json{{"ok", c["classification_caption"]}},
                               [&] { return "A photo of a " + pd::python_lower(input); });
      }
    }
  }
  std::cout << "text: " << passed << "/" << total << " field results exact" << std::endl;
  CHECK(total > 0);
}

TEST_CASE("text: web caption files (first line + pre_caption(30), exact)") {
  int total = 0, passed = 0;
  for (const std::string& prefix : prismer::test::case_prefixes(text_dir(), "web_captions.json")) {
    const json doc = json::parse(prismer::test::read_file(text_dir() / (prefix + "web_captions.json")));
    int index = 0;
    for (const json& c : doc.at("cases")) {
      const std::string hex = c.at("file_bytes_hex").get<std::string>();
      std::string bytes;
      for (std::size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
      const std::string name = prefix + "web " + std::to_string(index++) + " " + c.value("file_bytes_repr", hex);
      prismer::test::announce_case(name);
      ++total;
      if (c.contains("first_line")) {
        bool ok = false;
        try {
          ok = pd::first_line_of_file(bytes) == c["first_line"].get<std::string>();
        } catch (const std::exception& e) {
          std::cout << "  first_line threw " << e.what() << "\n";
        }
        CHECK_MESSAGE(ok, name << ": first_line");
        if (!ok) {
          continue;
        }
      }
      const json expected = c.contains("pre_caption_30") ? c["pre_caption_30"]
                                                         : json{{"error", c.at("error")}, {"message", c.at("message")}};
      passed += check_result(name, expected, [&] { return pd::pre_caption(pd::first_line_of_file(bytes), 30); });
    }
  }
  std::cout << "web captions: " << passed << "/" << total << " exact" << std::endl;
  CHECK(total > 0);
}

TEST_CASE("text: whitespace set equals charsets.json") {
  const fs::path path = text_dir() / "charsets.json";
  if (!prismer::test::require_fixture(path)) return;
  const json doc = json::parse(prismer::test::read_file(path));
  std::vector<char32_t> want;
  for (const json& v : doc.at("str_isspace_codepoints")) want.push_back(v.get<char32_t>());
  std::vector<char32_t> got;
  for (char32_t c = 0; c < 0x110000; ++c)
    if (pd::python_isspace(c)) got.push_back(c);
  CHECK(got == want);
  if (doc.contains("re_backslash_s_codepoints")) {
    std::vector<char32_t> re;
    for (const json& v : doc["re_backslash_s_codepoints"]) re.push_back(v.get<char32_t>());
    CHECK(got == re);
  }
}
