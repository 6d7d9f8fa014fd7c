/// \file vqa_normalize.h
/// Answer normalisation of the official VQA evaluation (vqaEval.py, GT-Vision-Lab/VQA a013f00),
/// reproduced with its quirks (Python 3 string semantics, as the reference fixture was generated).
#pragma once

#include <string>

namespace prismer::metrics {

/// `s.replace('\n', ' ').replace('\t', ' ').strip()` (Python 3 strip: Unicode whitespace).
std::string vqa_clean_whitespace(const std::string& s);

/// `processPunctuation`: for each p of  ; / [ ] " { } ( ) = + \ _ - > < @ ` , ? !  (in that order):
/// if `p + ' '` or `' ' + p` occurs in the ORIGINAL text, or the original contains digit,digit,
/// every p is removed, otherwise every p becomes a space. Then periods not followed by a digit are
/// removed, at most 32 of them (the official code passes re.UNICODE as the count).
std::string vqa_process_punctuation(const std::string& s);

/// `processDigitArticle`: lower-case, split on whitespace, number words none/zero..ten -> digits,
/// drop a/an/the, expand the contraction table (dont -> don't, ...), join with single spaces.
std::string vqa_process_digit_article(const std::string& s);

/// processPunctuation followed by processDigitArticle.
std::string vqa_normalize_answer(const std::string& s);

}  // namespace prismer::metrics
