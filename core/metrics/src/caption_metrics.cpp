// The COCOEvalCap.evaluate() data flow: tokenise, then Bleu(4), Rouge(), Cider(); METEOR/SPICE unavailable.
#include "prismer/metrics/caption_metrics.h"

#include "prismer/metrics/bleu.h"
#include "prismer/metrics/cider.h"
#include "prismer/metrics/ptb_tokenizer.h"
#include "prismer/metrics/rouge.h"

#include <stdexcept>

namespace prismer::metrics {

const std::vector<std::string>& caption_metric_names() {
  static const std::vector<std::string> kNames = {"Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "ROUGE_L", "CIDEr"};
  return kNames;
}

CaptionScores score_tokenized_captions(const std::vector<nlohmann::json>& image_ids,
                                       const std::vector<std::string>& hypotheses,
                                       const std::vector<std::vector<std::string>>& references) {
  if (image_ids.size() != hypotheses.size() || hypotheses.size() != references.size())
    throw std::invalid_argument("score_tokenized_captions: image ids, hypotheses and references differ in size");
  const BleuResult bleu = compute_bleu(hypotheses, references);
  const RougeResult rouge = compute_rouge_l(hypotheses, references);
  const CiderResult cider = compute_cider_d(hypotheses, references);

  CaptionScores out;
  const auto& names = caption_metric_names();
  for (int k = 0; k < 4; ++k) out.corpus.emplace_back(names[k], bleu.corpus[k]);
  out.corpus.emplace_back("ROUGE_L", rouge.corpus);
  out.corpus.emplace_back("CIDEr", cider.corpus);
  out.bleu_testlen = bleu.testlen;
  out.bleu_reflen = bleu.reflen;
  for (std::size_t i = 0; i < hypotheses.size(); ++i) {
    CaptionImageScores img;
    img.image_id = image_ids[i];
    for (int k = 0; k < 4; ++k) img.scores.emplace_back(names[k], bleu.per_sentence[i][k]);
    img.scores.emplace_back("ROUGE_L", rouge.per_sentence[i]);
    img.scores.emplace_back("CIDEr", cider.per_sentence[i]);
    img.tokenized_hypothesis = hypotheses[i];
    out.per_image.push_back(std::move(img));
  }
  out.unavailable = {
      {"METEOR", "needs meteor-1.5.jar and its paraphrase table (Java), not available in this build"},
      {"SPICE", "needs spice-1.0.jar and Stanford CoreNLP 3.6.0 models (Java), not available in this build"}};
  return out;
}

CaptionScores evaluate_captions(const CaptionGroundTruth& gt, const CaptionResults& results) {
  if (results.captions.size() != gt.image_ids.size())
    throw std::invalid_argument("evaluate_captions: results are not aligned with the ground truth");
  // PTBTokenizer.tokenize(gts): all reference captions, image by image, in one document.
  std::vector<std::string> flat;
  for (const auto& caps : gt.captions) flat.insert(flat.end(), caps.begin(), caps.end());
  const std::vector<std::string> tok_flat = ptb_tokenize_batch(flat);
  std::vector<std::vector<std::string>> refs;
  std::size_t pos = 0;
  for (const auto& caps : gt.captions) {
    refs.emplace_back(tok_flat.begin() + static_cast<std::ptrdiff_t>(pos),
                      tok_flat.begin() + static_cast<std::ptrdiff_t>(pos + caps.size()));
    pos += caps.size();
  }
  // PTBTokenizer.tokenize(res): one candidate per image, same image order.
  const std::vector<std::string> hyps = ptb_tokenize_batch(results.captions);
  return score_tokenized_captions(gt.image_ids, hyps, refs);
}

nlohmann::ordered_json caption_summary_json(const CaptionScores& scores) {
  nlohmann::ordered_json j;
  j["corpus"] = nlohmann::ordered_json::object();
  for (const auto& [name, v] : scores.corpus) j["corpus"][name] = v;
  j["unavailable_metrics"] = nlohmann::ordered_json::object();
  for (const auto& [name, why] : scores.unavailable) j["unavailable_metrics"][name] = why;
  j["bleu_corpus_stats"] = {{"testlen", scores.bleu_testlen}, {"reflen", scores.bleu_reflen}, {"option", "closest"}};
  j["num_images"] = scores.per_image.size();
  return j;
}

nlohmann::ordered_json caption_per_image_json(const CaptionScores& scores) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& img : scores.per_image) {
    nlohmann::ordered_json e;
    for (const auto& [name, v] : img.scores) e[name] = v;
    e["tokenized"] = img.tokenized_hypothesis;
    j[id_key(img.image_id)] = e;
  }
  return j;
}

}  // namespace prismer::metrics
