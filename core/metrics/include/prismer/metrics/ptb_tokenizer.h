/// \file ptb_tokenizer.h
/// The caption tokenisation of the COCO caption toolkit (pycocoevalcap `PTBTokenizer`):
/// Stanford PTBTokenizer 3.4.1 run with `-preserveLines -lowerCase`, followed by the toolkit's
/// removal of punctuation tokens. Implemented natively (no Java); see ptb_tokenizer.cpp for the
/// lexer rules that are reproduced.
#pragma once

#include <string>
#include <vector>

namespace prismer::metrics {

/// The tokens pycocoevalcap drops after tokenisation (exact, case-sensitive: `-lrb-` is kept).
const std::vector<std::string>& coco_punctuation_tokens();

/// Raw PTB tokens of a text (PTBLexer 3.4.1 default options, lower-cased, no punctuation removal).
/// Newlines separate lines: the result holds one vector of tokens per line.
std::vector<std::vector<std::string>> ptb_lex_lines(const std::string& text);

/// Tokenises a batch of captions exactly like `PTBTokenizer.tokenize` does: each caption's '\n'
/// replaced by ' ', captions joined by '\n' into one document (context at the document end matters),
/// lexed, lower-cased, punctuation tokens removed, tokens joined by single spaces.
/// Returns one string per input caption, in order.
std::vector<std::string> ptb_tokenize_batch(const std::vector<std::string>& captions);

/// Tokenises one caption (a batch of one).
std::string ptb_tokenize(const std::string& caption);

}  // namespace prismer::metrics
