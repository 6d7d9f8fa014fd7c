// `prismer tokenizer train`: a byte-level BPE vocabulary (vocab.json + merges.txt) from text files, for models
// trained from scratch (the quickstart's tiny Prismer) where roberta-base's vocabulary would be mostly unused.
#include "commands.h"

#include <prismer/text/bpe_trainer.h>

#include <cxxopts.hpp>

#include <fstream>
#include <iostream>

namespace prismer::cli {

int tokenizer_command(int argc, char** argv) {
  cxxopts::Options options("prismer tokenizer train", "Train a byte-level BPE vocabulary (RoBERTa format)");
  options.add_options()
      ("input", "text files, one text per line", cxxopts::value<std::vector<std::string>>())
      ("out", "output folder for vocab.json and merges.txt", cxxopts::value<std::string>())
      ("vocab-size", "total vocabulary size (>= 261)", cxxopts::value<std::size_t>()->default_value("1000"))
      ("min-frequency", "least pair count to merge", cxxopts::value<std::int64_t>()->default_value("2"))
      ("h,help", "this text");
  options.parse_positional({"input"});
  options.positional_help("FILE...");
  if (argc < 2 || std::string(argv[1]) != "train") {
    std::cerr << "usage: prismer tokenizer train FILE... --out DIR [--vocab-size N] [--min-frequency K]\n";
    return kUsage;
  }
  const auto args = options.parse(argc - 1, argv + 1);
  if (args.count("help")) {
    std::cout << options.help();
    return kOk;
  }
  if (!args.count("input") || !args.count("out")) {
    std::cerr << "error: give the text files and --out DIR\n";
    return kUsage;
  }
  std::vector<std::string> texts;
  for (const std::string& file : args["input"].as<std::vector<std::string>>()) {
    std::ifstream in(file);
    if (!in) {
      std::cerr << "error: " << file << ": cannot be read\n";
      return kFailure;
    }
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) texts.push_back(line);
  }
  if (texts.empty()) {
    std::cerr << "error: the input files hold no text\n";
    return kFailure;
  }
  text::BpeTrainOptions train;
  train.vocab_size = args["vocab-size"].as<std::size_t>();
  train.min_frequency = args["min-frequency"].as<std::int64_t>();
  const text::BpeVocabulary vocab = text::train_byte_level_bpe(texts, train);
  const std::string out = args["out"].as<std::string>();
  text::write_bpe_vocabulary(vocab, out);
  std::cout << "tokenizer: " << vocab.tokens.size() << " tokens (" << vocab.merges.size() << " merges) from "
            << texts.size() << " texts -> " << out << "/vocab.json, merges.txt\n";
  return kOk;
}

}  // namespace prismer::cli
