// The "ocr_detection" expert plugin: CharNet (Hourglass-88) word and character detection with its original
// post-processing, labels exactly as Prismer's experts/generate_ocrdet.py writes them: `<stem>.png` ('L', word id
// per pixel, 255 = background) and `<stem>.pt` ({id: {'features': CLIP ViT-L/14 text feature reduced to 64-d by
// the PCA, 'text': word}}).
//
// Deviation (documented): for an image without words the original writes nothing; here an all-255 PNG (no .pt) is
// written so that a resumed run skips the image. Prismer's loader reads both the same way (no .pt -> all 255).
#include "ocr_model.h"

#include "checkpoint.h"

#include "common/file_setting.h"

#include <prismer/config.h>
#include <prismer/device.h>
#include <prismer/expert.h>
#include <prismer/log.h>
#include <prismer/plugin.h>

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace {

namespace ocr = prismer::experts::ocr;
namespace fs = std::filesystem;

// A config path: a file, or zoo:NAME through the zoo resolver.
std::string resolve_file(const prismer::Config& cfg, const std::string& key) {
  return prismer::plugins::file_setting(cfg, key, "a path or zoo:NAME");
}

class OcrExpert final : public prismer::Expert {
 public:
  explicit OcrExpert(const prismer::Config& cfg)
      : label_name_(cfg.get<std::string>("label_name")),
        resolution_(cfg.get<int>("resolution")),
        seed_(cfg.get<std::int64_t>("seed")),
        device_(prismer::parse_device(cfg)) {
    if (label_name_.empty() || label_name_.find('/') != std::string::npos)
      cfg["label_name"].fail("must be a non-empty folder name");
    if (resolution_ < 32 || resolution_ % 32 != 0) cfg["resolution"].fail("must be a positive multiple of 32");

    torch::manual_seed(static_cast<std::uint64_t>(seed_));
    model_ = ocr::CharNet();
    if (cfg.get<std::string>("weights") == "random") {
      prismer::log::warn("ocr_detection: weights: random - CharNet with seeded random weights (seed {}); its labels are "
                         "meaningless. Set weights: zoo:expert_ocr_detection (or the file's path) for real labels.",
                         seed_);
    } else {
      const std::string path = resolve_file(cfg, "weights");
      ocr::load_state_dict_strict(*model_, prismer::load_weights(path), path, "CharNet (hourglass88)");
      prismer::log::info("ocr_detection: loaded {}", path);
    }
    model_->eval();
    model_->to(device_);

    const std::string char_dict = cfg.get<std::string>("char_dict");
    ocr::CharDict dict = char_dict == "builtin" ? ocr::default_char_dict() : ocr::load_char_dict(resolve_file(cfg, "char_dict"));
    std::vector<std::string> lexicon;
    if (cfg.get<std::string>("lexicon").empty()) {
      prismer::log::warn("ocr_detection: no lexicon - words the original would correct against GenericVocabulary.txt "
                         "are dropped. Set lexicon: zoo:ocr_lexicon.");
    } else {
      lexicon = ocr::load_lexicon(resolve_file(cfg, "lexicon"));
    }
    post_ = std::make_unique<ocr::Postprocessor>(std::move(dict), std::move(lexicon));

    clip_ref_ = cfg.get<std::string>("clip");
    pca_ref_ = cfg.get<std::string>("pca");
    if (clip_ref_ != "random") clip_path_ = resolve_file(cfg, "clip");
    if (pca_ref_ != "random") pca_path_ = resolve_file(cfg, "pca");
    if (!cfg.get<std::string>("bpe").empty()) bpe_path_ = resolve_file(cfg, "bpe");
  }

  prismer::LabelSpec spec() const override {
    prismer::LabelSpec s;
    s.name = label_name_;
    s.channels = 64;
    s.kind = prismer::LabelKind::semantic;
    s.map_channels = 1;
    return s;
  }

  std::vector<prismer::Label> predict(const std::vector<prismer::Image>& images,
                                      const std::vector<prismer::ExpertContext>&) override {
    std::vector<prismer::Label> out(images.size());
    if (images.empty()) return out;
    std::vector<torch::Tensor> inputs;
    for (const prismer::Image& image : images) inputs.push_back(ocr::preprocess(image, resolution_));
    ocr::CharNetMaps maps;
    {
      torch::InferenceMode guard;
      maps = ocr::soft_maps(model_->forward_all(torch::stack(inputs).to(device_)));
    }
    for (std::size_t i = 0; i < images.size(); ++i) {
      const auto b = static_cast<std::int64_t>(i);
      const int w = images[i].width, h = images[i].height;
      const ocr::PostprocessTrace tr =
          post_->run(maps.word_fg[b], maps.word_tblr[b], maps.word_orient[b], maps.char_fg[b], maps.char_tblr[b],
                     maps.char_cls[b], static_cast<double>(w) / resolution_, static_cast<double>(h) / resolution_, w, h);
      out[i].map = ocr::word_label(tr.words, w, h);
      if (tr.words.empty()) continue;
      const std::vector<std::string> texts = ocr::label_texts(tr.words);
      const ocr::WordEmbedder& e = embedder();
      const torch::Tensor features = e.pca(e.clip_features(e.tokenize(texts)));
      out[i].sidecars[".pt"] = ocr::word_features_file(texts, features);
    }
    return out;
  }

  // The .pt is optional (absent when no word was found), so only the PNG marks a label as present.
  std::vector<std::string> label_files(const std::string& stem) const override { return {stem + ".png"}; }

  void save(const prismer::Label& label, const std::string& stem) const override {
    if (label.sidecars.empty()) {
      std::error_code ec;
      fs::remove(stem + ".pt", ec);  // a stale word file would be read with the new map
    }
    prismer::Expert::save(label, stem);
  }

  prismer::Label load(const std::string& stem) const override {
    prismer::Label label = prismer::Expert::load(stem);
    std::ifstream in(stem + ".pt", std::ios::binary);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      label.sidecars[".pt"] = ss.str();
    }
    return label;
  }

  // The backbone input: each word's 64-d feature painted over its pixels, zeros elsewhere (the data loader
  // in-paints the background with BACKGROUND_FEATURES itself).
  torch::Tensor encode(const prismer::Label& label) const override {
    const prismer::Image& m = label.map;
    torch::Tensor out = torch::zeros({64, m.height, m.width});
    const auto it = label.sidecars.find(".pt");
    if (it == label.sidecars.end()) return out;
    const c10::IValue words = torch::pickle_load(std::vector<char>(it->second.begin(), it->second.end()));
    const torch::Tensor ids =
        torch::from_blob(const_cast<std::uint8_t*>(m.pixels.data()), {m.height, m.width}, torch::kUInt8).to(torch::kLong);
    for (const auto& item : words.toGenericDict()) {
      const torch::Tensor f = item.value().toGenericDict().at("features").toTensor().to(torch::kFloat32);
      const torch::Tensor mask = ids.eq(item.key().toInt());
      out.index_put_({torch::indexing::Slice(), mask}, f.unsqueeze(1).expand({64, mask.sum().item<int64_t>()}));
    }
    return out;
  }

 private:
  // CLIP, the tokenizer and the PCA are only needed once a word is found: built on first use.
  const ocr::WordEmbedder& embedder() {
    std::lock_guard<std::mutex> lock(embedder_mutex_);
    if (embedder_) return *embedder_;
    if (bpe_path_.empty())
      throw std::runtime_error("ocr_detection: words were found but no CLIP BPE vocabulary is configured (set bpe: to "
                               "bpe_simple_vocab_16e6.txt.gz or zoo:clip_bpe)");
    auto tokenizer = std::make_shared<const prismer::text::ClipTokenizer>(bpe_path_);
    torch::manual_seed(static_cast<std::uint64_t>(seed_) + 1);
    ocr::ClipText clip;
    if (clip_path_.empty()) {
      prismer::log::warn("ocr_detection: clip: random - CLIP text tower with seeded random weights; word features are "
                         "meaningless. Set clip: zoo:clip_vit_l14.");
    } else {
      ocr::load_clip_text(*clip, ocr::read_clip_checkpoint(clip_path_), clip_path_);
      prismer::log::info("ocr_detection: loaded the CLIP text tower from {}", clip_path_);
    }
    clip->eval();
    clip->to(device_);
    prismer::PcaParams pca;
    if (pca_path_.empty()) {
      prismer::log::warn("ocr_detection: pca: random - a seeded random 64-d projection. Set pca: zoo:clip_pca.");
      pca.mean = torch::zeros({768}, torch::kDouble);
      pca.components = torch::randn({64, 768}, torch::kDouble) / std::sqrt(768.0);
    } else {
      pca = ocr::read_pca(pca_path_);
    }
    embedder_ = std::make_unique<ocr::WordEmbedder>(std::move(tokenizer), std::move(clip), std::move(pca));
    return *embedder_;
  }

  std::string label_name_;
  int resolution_;
  std::int64_t seed_;
  torch::Device device_;
  ocr::CharNet model_{nullptr};
  std::unique_ptr<ocr::Postprocessor> post_;
  std::string clip_ref_, pca_ref_, clip_path_, pca_path_, bpe_path_;
  std::mutex embedder_mutex_;
  std::unique_ptr<ocr::WordEmbedder> embedder_;
};

}  // namespace

PRISMER_PLUGIN(OcrExpert, "ocr_detection", expert, "1.0.0",
               "CharNet (Hourglass-88) OCR with CLIP word features, labels as Prismer's generate_ocrdet.py writes them",
               "label_name: ocr_detection  # label folder, and the backbone input it feeds\n"
               "weights: random        # icdar2015_hourglass88.pth: a path or zoo:expert_ocr_detection (strict load);\n"
               "                       # random = seeded random weights, for checks only (meaningless labels)\n"
               "clip: random           # CLIP ViT-L/14 (TorchScript ViT-L-14.pt or a state dict): path or zoo:clip_vit_l14\n"
               "pca: random            # clip_pca.pkl (or a file with mean_/components_): path or zoo:clip_pca\n"
               "bpe: \"\"                # CLIP's bpe_simple_vocab_16e6.txt.gz (needed once a word is found)\n"
               "char_dict: builtin     # CharNet's char_dict.txt (builtin = the original's 68 classes) or a path / zoo:ocr_char_dict\n"
               "lexicon: \"\"            # GenericVocabulary.txt: a path or zoo:ocr_lexicon (empty: uncertain words are dropped)\n"
               "seed: 0                # seed of the random weights\n"
               "resolution: 480        # network input size (the original: 480; a multiple of 32)\n"
               "device: cpu            # cpu | cuda | cuda:N | auto\n")
