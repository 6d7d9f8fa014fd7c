// The official VQA answer normalisation (processPunctuation / processDigitArticle).
#include "prismer/metrics/vqa_normalize.h"

#include "prismer/metrics/unicode_text.h"

#include <unordered_map>

namespace prismer::metrics {

namespace {

const std::unordered_map<std::string, std::string>& contractions() {
  // The official table, verbatim (keys with capitals can never match after lower()).
  static const std::unordered_map<std::string, std::string> kTable = {
      {"aint", "ain't"}, {"arent", "aren't"}, {"cant", "can't"}, {"couldve", "could've"}, {"couldnt", "couldn't"},
      {"couldn'tve", "couldn't've"}, {"couldnt've", "couldn't've"}, {"didnt", "didn't"}, {"doesnt", "doesn't"},
      {"dont", "don't"}, {"hadnt", "hadn't"}, {"hadnt've", "hadn't've"}, {"hadn'tve", "hadn't've"},
      {"hasnt", "hasn't"}, {"havent", "haven't"}, {"hed", "he'd"}, {"hed've", "he'd've"}, {"he'dve", "he'd've"},
      {"hes", "he's"}, {"howd", "how'd"}, {"howll", "how'll"}, {"hows", "how's"}, {"Id've", "I'd've"},
      {"I'dve", "I'd've"}, {"Im", "I'm"}, {"Ive", "I've"}, {"isnt", "isn't"}, {"itd", "it'd"},
      {"itd've", "it'd've"}, {"it'dve", "it'd've"}, {"itll", "it'll"}, {"let's", "let's"}, {"maam", "ma'am"},
      {"mightnt", "mightn't"}, {"mightnt've", "mightn't've"}, {"mightn'tve", "mightn't've"},
      {"mightve", "might've"}, {"mustnt", "mustn't"}, {"mustve", "must've"}, {"neednt", "needn't"},
      {"notve", "not've"}, {"oclock", "o'clock"}, {"oughtnt", "oughtn't"}, {"ow's'at", "'ow's'at"},
      {"'ows'at", "'ow's'at"}, {"'ow'sat", "'ow's'at"}, {"shant", "shan't"}, {"shed've", "she'd've"},
      {"she'dve", "she'd've"}, {"she's", "she's"}, {"shouldve", "should've"}, {"shouldnt", "shouldn't"},
      {"shouldnt've", "shouldn't've"}, {"shouldn'tve", "shouldn't've"}, {"somebody'd", "somebodyd"},
      {"somebodyd've", "somebody'd've"}, {"somebody'dve", "somebody'd've"}, {"somebodyll", "somebody'll"},
      {"somebodys", "somebody's"}, {"someoned", "someone'd"}, {"someoned've", "someone'd've"},
      {"someone'dve", "someone'd've"}, {"someonell", "someone'll"}, {"someones", "someone's"},
      {"somethingd", "something'd"}, {"somethingd've", "something'd've"}, {"something'dve", "something'd've"},
      {"somethingll", "something'll"}, {"thats", "that's"}, {"thered", "there'd"}, {"thered've", "there'd've"},
      {"there'dve", "there'd've"}, {"therere", "there're"}, {"theres", "there's"}, {"theyd", "they'd"},
      {"theyd've", "they'd've"}, {"they'dve", "they'd've"}, {"theyll", "they'll"}, {"theyre", "they're"},
      {"theyve", "they've"}, {"twas", "'twas"}, {"wasnt", "wasn't"}, {"wed've", "we'd've"},
      {"we'dve", "we'd've"}, {"weve", "we've"}, {"werent", "weren't"}, {"whatll", "what'll"},
      {"whatre", "what're"}, {"whats", "what's"}, {"whatve", "what've"}, {"whens", "when's"},
      {"whered", "where'd"}, {"wheres", "where's"}, {"whereve", "where've"}, {"whod", "who'd"},
      {"whod've", "who'd've"}, {"who'dve", "who'd've"}, {"wholl", "who'll"}, {"whos", "who's"},
      {"whove", "who've"}, {"whyll", "why'll"}, {"whyre", "why're"}, {"whys", "why's"}, {"wont", "won't"},
      {"wouldve", "would've"}, {"wouldnt", "wouldn't"}, {"wouldnt've", "wouldn't've"},
      {"wouldn'tve", "wouldn't've"}, {"yall", "y'all"}, {"yall'll", "y'all'll"}, {"y'allll", "y'all'll"},
      {"yall'd've", "y'all'd've"}, {"y'alld've", "y'all'd've"}, {"y'all'dve", "y'all'd've"}, {"youd", "you'd"},
      {"youd've", "you'd've"}, {"you'dve", "you'd've"}, {"youll", "you'll"}, {"youre", "you're"},
      {"youve", "you've"}};
  return kTable;
}

const std::unordered_map<std::string, std::string>& number_words() {
  static const std::unordered_map<std::string, std::string> kMap = {
      {"none", "0"}, {"zero", "0"}, {"one", "1"}, {"two", "2"},   {"three", "3"}, {"four", "4"},
      {"five", "5"}, {"six", "6"},  {"seven", "7"}, {"eight", "8"}, {"nine", "9"},  {"ten", "10"}};
  return kMap;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  std::string out;
  out.reserve(s.size());
  std::size_t start = 0;
  for (;;) {
    const std::size_t p = s.find(from, start);
    if (p == std::string::npos) break;
    out.append(s, start, p - start);
    out += to;
    start = p + from.size();
  }
  out.append(s, start, std::string::npos);
  s.swap(out);
}

// re.search(r'(\d)(\,)(\d)', t) with Python 3 (Unicode) \d.
bool has_digit_comma_digit(const std::u32string& t) {
  for (std::size_t i = 1; i + 1 < t.size(); ++i) {
    if (t[i] == ',' && unicode::is_unicode_decimal_digit(t[i - 1]) && unicode::is_unicode_decimal_digit(t[i + 1]))
      return true;
  }
  return false;
}

}  // namespace

std::string vqa_clean_whitespace(const std::string& s) {
  std::string t = s;
  for (char& c : t) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return unicode::python_strip(t);
}

std::string vqa_process_punctuation(const std::string& in_text) {
  static const char* const kPunct[] = {";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+",
                                       "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!"};
  const bool comma_digits = has_digit_comma_digit(unicode::decode_utf8(in_text));
  std::string out = in_text;
  for (const char* p : kPunct) {
    const std::string ps(p);
    if (in_text.find(ps + " ") != std::string::npos || in_text.find(" " + ps) != std::string::npos || comma_digits) {
      replace_all(out, ps, "");
    } else {
      replace_all(out, ps, " ");
    }
  }
  // periodStrip.sub("", out, re.UNICODE): remove '.' not followed by a digit, at most 32 times.
  const std::u32string cps = unicode::decode_utf8(out);
  std::u32string res;
  res.reserve(cps.size());
  int removed = 0;
  for (std::size_t i = 0; i < cps.size(); ++i) {
    if (cps[i] == '.' && removed < 32) {
      const bool digit_next = i + 1 < cps.size() && unicode::is_unicode_decimal_digit(cps[i + 1]);
      if (!digit_next) {
        ++removed;
        continue;
      }
    }
    res.push_back(cps[i]);
  }
  return unicode::encode_utf8(res);
}

std::string vqa_process_digit_article(const std::string& in_text) {
  std::vector<std::string> words;
  for (auto& w : unicode::python_split(unicode::to_lower_utf8(in_text))) {
    auto it = number_words().find(w);
    std::string word = it == number_words().end() ? w : it->second;
    if (word == "a" || word == "an" || word == "the") continue;
    words.push_back(std::move(word));
  }
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    auto it = contractions().find(words[i]);
    if (i > 0) out += ' ';
    out += it == contractions().end() ? words[i] : it->second;
  }
  return out;
}

std::string vqa_normalize_answer(const std::string& s) { return vqa_process_digit_article(vqa_process_punctuation(s)); }

}  // namespace prismer::metrics
