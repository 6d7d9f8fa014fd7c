#include "caption_task.h"

#include "roberta.h"

#include <prismer/data/text_clean.h>
#include <prismer/dataset.h>
#include <prismer/metrics/caption_metrics.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <tuple>

namespace prismer::caption {

namespace {
// Code points of valid UTF-8 (every byte that is not a continuation byte starts one).
std::size_t utf8_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Byte offset of code point `chars` (the size when the text is shorter).
std::size_t utf8_offset(const std::string& s, std::size_t chars) {
  std::size_t i = 0;
  for (std::size_t seen = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && seen++ == chars) return i;
  }
  return i;
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> tokenize_batch(const Tokenizer& tok, const std::vector<std::string>& texts,
                                                       std::int64_t max_tokens) {
  std::vector<std::vector<std::int64_t>> rows;
  std::size_t longest = 0;
  for (const auto& t : texts) {
    auto ids = tok.encode(t, false);
    if (max_tokens > 2 && static_cast<std::int64_t>(ids.size()) > max_tokens - 2)
      ids.resize(static_cast<std::size_t>(max_tokens - 2));
    ids.insert(ids.begin(), tok.bos_id());
    ids.push_back(tok.eos_id());
    longest = std::max(longest, ids.size());
    rows.push_back(std::move(ids));
  }
  const auto n = static_cast<std::int64_t>(rows.size());
  auto ids = torch::full({n, static_cast<std::int64_t>(longest)}, tok.pad_id(), torch::kLong);
  auto mask = torch::zeros({n, static_cast<std::int64_t>(longest)}, torch::kLong);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto& r = rows[static_cast<std::size_t>(i)];
    const auto len = static_cast<std::int64_t>(r.size());
    ids[i].slice(0, 0, len).copy_(torch::tensor(r, torch::kLong));
    mask[i].slice(0, 0, len).fill_(1);
  }
  return {ids, mask};
}

torch::Tensor CaptionTask::loss(Backbone& backbone, const Batch& batch) {
  const Tokenizer& tok = backbone.tokenizer();
  const torch::Tensor memory = backbone.encode(batch.inputs);
  std::vector<std::string> texts;
  for (const auto& s : batch.samples) {
    auto it = s.text.find("caption");
    if (it == s.text.end()) throw std::invalid_argument("caption task: sample '" + s.id + "' has no caption");
    // the caption datasets prepend the prompt to the training caption
    texts.push_back(options_.prefix.empty() ? it->second : options_.prefix + " " + it->second);
  }
  auto [ids, mask] = tokenize_batch(tok, texts, options_.max_caption_tokens);
  ids = ids.to(memory.device());
  mask = mask.to(memory.device());
  auto labels = ids.masked_fill(ids == tok.pad_id(), -100);
  if (!options_.prefix.empty()) {
    // len(tokenizer(prefix).input_ids) - 1: bos + prefix tokens (the prompt's </s> removed)
    const auto prompt_length = static_cast<std::int64_t>(tok.encode(options_.prefix, false).size()) + 1;
    labels.slice(1, 0, std::min(prompt_length, labels.size(1))).fill_(-100);
  }
  const torch::Tensor logits = backbone.decode(ids, mask, memory, nullptr);
  return prismer::backbone::caption_loss_per_sample(logits, labels).mean();
}

std::pair<torch::Tensor, torch::Tensor> tokenize_caption_candidates(const Tokenizer& tok,
                                                                    const std::vector<std::string>& candidates) {
  if (candidates.empty()) throw std::invalid_argument("caption task: rank inference needs candidates");
  std::vector<std::vector<std::int64_t>> rows;
  std::size_t longest = 0;
  for (const auto& c : candidates) {
    // ' ' + ans.lower() + '</s>' without added special tokens: the text, then the EOS id
    auto ids = tok.encode(" " + prismer::data::python_lower(c), false);
    ids.push_back(tok.eos_id());
    longest = std::max(longest, ids.size());
    rows.push_back(std::move(ids));
  }
  const auto n = static_cast<std::int64_t>(rows.size());
  auto ids = torch::full({n, static_cast<std::int64_t>(longest)}, tok.pad_id(), torch::kLong);
  auto mask = torch::zeros({n, static_cast<std::int64_t>(longest)}, torch::kLong);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto& r = rows[static_cast<std::size_t>(i)];
    const auto len = static_cast<std::int64_t>(r.size());
    ids[i].slice(0, 0, len).copy_(torch::tensor(r, torch::kLong));
    mask[i].slice(0, 0, len).fill_(1);
  }
  return {ids, mask};
}

std::vector<Prediction> CaptionTask::predict(Backbone& backbone, const Batch& batch) {
  torch::NoGradGuard no_grad;
  const Tokenizer& tok = backbone.tokenizer();
  const torch::Tensor memory = backbone.encode(batch.inputs);
  const std::int64_t b = memory.size(0);
  std::vector<std::int64_t> prompt = tok.encode(options_.prefix, false);
  prompt.insert(prompt.begin(), tok.bos_id());  // the prompt's </s> is dropped
  auto ids = torch::tensor(prompt, torch::kLong).unsqueeze(0).repeat({b, 1}).to(memory.device());
  auto mask = torch::ones_like(ids);

  std::vector<Prediction> out(static_cast<std::size_t>(b));
  for (std::int64_t i = 0; i < b && static_cast<std::size_t>(i) < batch.samples.size(); ++i) {
    out[static_cast<std::size_t>(i)].id = batch.samples[static_cast<std::size_t>(i)].id;
    out[static_cast<std::size_t>(i)].numeric_id = batch.samples[static_cast<std::size_t>(i)].numeric_id;
  }
  if (options_.decoding == CaptionDecoding::kRank) {
    if (cand_tok_ != &tok || !cand_ids_.defined()) {
      std::tie(cand_ids_, cand_mask_) = tokenize_caption_candidates(tok, options_.candidates);
      cand_tok_ = &tok;
    }
    RankOptions ro;
    ro.k = options_.k_test;
    ro.pad_token_id = tok.pad_id();
    const auto r = rank_candidates(backbone, memory, ids, mask, cand_ids_, cand_mask_, ro);
    for (std::int64_t i = 0; i < b; ++i) {
      auto& p = out[static_cast<std::size_t>(i)];
      p.text = options_.candidates.at(static_cast<std::size_t>(r.best[i].item<std::int64_t>()));
      p.score = r.scores[i][r.best_in_topk[i].item<std::int64_t>()].item<double>();
    }
    return out;
  }

  torch::Tensor sequences, scores;
  if (options_.decoding == CaptionDecoding::kBeam) {
    BeamSearchOptions opt = options_.beam;
    opt.pad_token_id = tok.pad_id();
    opt.eos_token_id = tok.eos_id();
    const auto res = generate(backbone, memory, ids, mask, opt);
    sequences = res.sequences;
    scores = res.sequences_scores;
  } else {
    SamplingOptions opt = options_.sampling;
    opt.do_sample = options_.decoding == CaptionDecoding::kSample;
    opt.pad_token_id = tok.pad_id();
    opt.eos_token_id = tok.eos_id();
    const auto res = generate_sampled(backbone, memory, ids, mask, opt);
    sequences = res.sequences;
    scores = res.scores;
  }
  for (std::int64_t i = 0; i < b; ++i) {
    auto row = sequences[i].contiguous();
    std::vector<std::int64_t> seq(row.data_ptr<std::int64_t>(), row.data_ptr<std::int64_t>() + row.numel());
    std::string text = tok.decode(seq, true);
    // caption[len(prefix) + 1:] in Python counts characters, not bytes: a generated U+FFFD right after the prompt
    // (an untrained model's partial UTF-8) must not be cut in half
    const std::size_t skip = options_.prefix.empty() ? 0 : utf8_offset(text, utf8_length(options_.prefix) + 1);
    auto& p = out[static_cast<std::size_t>(i)];
    p.text = text.size() > skip ? text.substr(skip) : std::string();
    p.score = scores[i].item<double>();
  }
  return out;
}

namespace {
nlohmann::json image_id_of(const std::string& id, std::int64_t numeric_id) {
  return numeric_id >= 0 ? nlohmann::json(numeric_id) : nlohmann::json(id);
}
}  // namespace

Metrics CaptionTask::evaluate(const std::vector<Prediction>& predictions, const Dataset& dataset) {
  std::map<std::string, std::string> by_id;
  for (const auto& p : predictions) by_id[p.id] = p.text;
  metrics::CaptionGroundTruth gt;
  metrics::CaptionResults results;
  for (std::size_t i = 0; i < dataset.size(); ++i) {
    const Sample s = dataset.sample(i);
    auto it = by_id.find(s.id);
    if (it == by_id.end()) continue;  // only the predicted images are scored
    std::vector<std::string> refs = s.answers;
    if (refs.empty()) {
      auto c = s.text.find("caption");
      if (c != s.text.end()) refs.push_back(c->second);
    }
    if (refs.empty()) throw std::runtime_error("caption task: sample '" + s.id + "' has no reference caption");
    gt.image_ids.push_back(image_id_of(s.id, s.numeric_id));
    gt.captions.push_back(std::move(refs));
    results.captions.push_back(it->second);
  }
  if (gt.image_ids.empty()) throw std::runtime_error("caption task: no prediction matches a dataset sample");
  const auto scores = metrics::evaluate_captions(gt, results);
  Metrics m;
  for (const auto& [name, v] : scores.corpus) m[name] = v;
  return m;
}

void CaptionTask::write_results(const std::vector<Prediction>& predictions, const std::string& path) const {
  nlohmann::json doc = nlohmann::json::array();
  for (const auto& p : predictions) doc.push_back({{"image_id", image_id_of(p.id, p.numeric_id)}, {"caption", p.text}});
  const std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
  const std::filesystem::path tmp = target.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write " + tmp.string());
    f << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    if (!f) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, target);
}

}  // namespace prismer::caption
