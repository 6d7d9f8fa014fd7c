// Loading a Prismer reference case (shared/fixtures/prismer/<case>): config.json -> PrismerConfig, tensor files,
// expert inputs and the recorded instance-embedding draws. Shared by the backbone, task and engine tests
// (factored from tests/backbone/test_prismer_parity.cpp and tests/tasks/test_caption_generate.cpp), plus the
// tensor comparer, the stand-in word tokenizer and a case model behind the Backbone interface. Needs
// prismer_backbone_model and nlohmann_json.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

#include "checkpoint.h"
#include "config.h"
#include "fixtures.h"
#include "prismer_model.h"
#include "vit.h"

#include <prismer/backbone.h>
#include <prismer/pickle.h>
#include <prismer/tokenizer.h>
#include <prismer/weights.h>

#include <iostream>
#include <memory>
#include <sstream>
#include <vector>

namespace prismer::test {

/// Every tensor of a weight file by name.
inline std::map<std::string, torch::Tensor> read_tensor_map(const fs::path& p) {
  std::map<std::string, torch::Tensor> out;
  for (auto& kv : prismer::load_weights(p.string())) out[kv.first] = kv.second;
  return out;
}

inline nlohmann::json read_json_file(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  return nlohmann::json::parse(in);
}

/// The shared/fixtures/prismer folder.
inline fs::path prismer_fixtures() { return fixtures_root() / "prismer"; }

/// The model a case's config.json describes (dropout probabilities included when recorded).
inline prismer::backbone::PrismerConfig prismer_config_from_json(const nlohmann::json& j) {
  prismer::backbone::PrismerConfig c;
  c.image_resolution = j.at("image_resolution").get<std::int64_t>();
  const auto& v = j.at("vit");
  c.vit.patch_size = v.at("patch_size");
  c.vit.width = v.at("width");
  c.vit.layers = v.at("layers");
  c.vit.heads = v.at("heads");
  if (j.contains("resampler") && j["resampler"].is_object()) {
    c.resampler.layers = j["resampler"].at("layers");
    c.resampler.heads = j["resampler"].at("heads");
    c.resampler.num_latents = j["resampler"].at("num_latents");
  }
  const auto& r = j.at("roberta");
  c.roberta.vocab_size = r.at("vocab_size");
  c.roberta.hidden_size = r.at("hidden_size");
  c.roberta.vision_hidden_size = r.at("vision_hidden_size");
  c.roberta.num_hidden_layers = r.at("num_hidden_layers");
  c.roberta.num_attention_heads = r.at("num_attention_heads");
  c.roberta.intermediate_size = r.at("intermediate_size");
  c.roberta.max_position_embeddings = r.at("max_position_embeddings");
  c.roberta.type_vocab_size = r.at("type_vocab_size");
  c.roberta.layer_norm_eps = r.at("layer_norm_eps");
  c.roberta.pad_token_id = r.at("pad_token_id");
  c.roberta.bos_token_id = r.at("bos_token_id");
  c.roberta.eos_token_id = r.at("eos_token_id");
  c.roberta.hidden_dropout_prob = r.value("hidden_dropout_prob", c.roberta.hidden_dropout_prob);
  c.roberta.attention_probs_dropout_prob = r.value("attention_probs_dropout_prob", c.roberta.attention_probs_dropout_prob);
  const auto& ex = j.at("config_experts");
  if (ex.is_array())
    for (const auto& e : ex) c.experts.push_back(prismer::backbone::reference_expert_spec(e.get<std::string>()));
  c.freeze = j.value("freeze", std::string("none"));
  return c;
}

inline const torch::Tensor* find_in(const std::map<std::string, torch::Tensor>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? nullptr : &it->second;
}

/// The recorded `experts.*` inputs of a case as the backbone's ExpertInputs.
inline prismer::ExpertInputs case_expert_inputs(const prismer::backbone::PrismerConfig& c,
                                                const std::map<std::string, torch::Tensor>& in) {
  prismer::ExpertInputs x;
  x.rgb = in.at("experts.rgb");
  for (const auto& e : c.experts) {
    if (auto* t = find_in(in, "experts." + e.name)) {
      x.experts[e.name] = *t;
    } else if (auto* l = find_in(in, "experts." + e.name + ".label")) {
      x.experts[e.name] = *l;
      if (auto* i = find_in(in, "experts." + e.name + ".instance")) x.experts[e.name + ".instance"] = *i;
    }
  }
  return x;
}

/// Replays the reference's random.randint draws recorded under `index_key` (empty when the case has none).
inline prismer::backbone::InstanceDraw recorded_draws(const std::map<std::string, torch::Tensor>& in,
                                                      const std::string& index_key) {
  auto* ids = find_in(in, "obj_detection_instance_ids");
  auto* idx = find_in(in, index_key);
  if (ids == nullptr || idx == nullptr) return {};
  std::map<std::int64_t, std::int64_t> table;
  for (std::int64_t i = 0; i < ids->numel(); ++i) table[(*ids)[i].item<std::int64_t>()] = (*idx)[i].item<std::int64_t>();
  return [table](std::int64_t id) {
    auto it = table.find(id);
    if (it == table.end()) throw std::runtime_error("no recorded instance draw for id " + std::to_string(id));
    return it->second;
  };
}

// ---- shared by the backbone parity and the task tests ----

/// Every leaf of a pickled inputs/outputs file, flattened with dots (dict keys and list indices); Python ints and
/// floats become 0-d int64 / float64 tensors, strings and None are skipped (read_tensor_map keeps tensors only).
inline void flatten_pickle(const prismer::PickleValue& v, const std::string& name,
                           std::map<std::string, torch::Tensor>& out) {
  using T = prismer::PickleValue::Type;
  const std::string prefix = name.empty() ? name : name + ".";
  switch (v.type()) {
    case T::tensor: out[name] = v.tensor(); break;
    case T::integer: out[name] = torch::tensor(v.to_int(), torch::kLong); break;
    case T::real: out[name] = torch::tensor(v.to_real(), torch::kDouble); break;
    case T::list:
    case T::tuple:
      for (std::size_t i = 0; i < v.list().size(); ++i) flatten_pickle(v.list()[i], prefix + std::to_string(i), out);
      break;
    case T::dict:
      for (const auto& kv : v.dict())
        if (kv.first.is(T::string)) flatten_pickle(kv.second, prefix + kv.first.to_string(), out);
      break;
    default: break;
  }
}

/// A case's inputs.pt / outputs.pt with every value (see flatten_pickle).
inline std::map<std::string, torch::Tensor> read_case_values(const fs::path& p) {
  std::map<std::string, torch::Tensor> out;
  flatten_pickle(prismer::load_pickle_file(p.string()), "", out);
  return out;
}

/// The strings of a list recorded in a pickle file at top-level key `key` (e.g. outputs.pt "answers").
inline std::vector<std::string> read_case_strings(const fs::path& p, const std::string& key) {
  std::vector<std::string> out;
  const auto top = prismer::load_pickle_file(p.string());
  if (const auto* list = top.find(key); list != nullptr)
    for (const auto& v : list->list()) out.push_back(v.to_string());
  return out;
}

inline bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

/// The case's model: built from config.json, state_dict.pt loaded strictly, eval mode.
inline prismer::backbone::PrismerModel load_case_model(const fs::path& dir) {
  prismer::backbone::PrismerModel model(prismer_config_from_json(read_json_file(dir / "config.json")));
  prismer::backbone::load_checkpoint(*model, (dir / "state_dict.pt").string(), true);
  model->eval();
  return model;
}

/// Compares tensors with the fixtures' tolerance: floats |diff| <= atol + rtol * max|ref| (float32 math in
/// another summation order; the reference itself is bitwise reproducible, _meta/tolerance.json), integers
/// exactly. Prints every comparison and keeps the largest float error.
struct TensorComparer {
  std::string case_name;
  double atol = 1e-5, rtol = 1e-5;
  double worst = 0.0;
  std::string worst_name;

  bool compare(const std::string& name, torch::Tensor got, torch::Tensor ref) {
    got = got.detach().to(torch::kCPU);
    ref = ref.to(torch::kCPU);
    if (got.sizes() != ref.sizes()) {
      std::ostringstream m;
      m << case_name << ": " << name << " has shape " << got.sizes() << ", reference " << ref.sizes();
      FAIL_CHECK(m.str());
      return false;
    }
    if (!ref.is_floating_point()) {
      const bool eq = got.to(torch::kLong).equal(ref.to(torch::kLong));
      std::cout << "    " << name << ": " << (eq ? "equal" : "DIFFERENT") << " (integer)\n";
      if (!eq) {
        std::ostringstream m;
        m << case_name << ": " << name << " differs:\n  got " << got << "\n  reference " << ref;
        FAIL_CHECK(m.str());
      }
      return eq;
    }
    const double err = ref.numel() ? (got.to(torch::kFloat64) - ref.to(torch::kFloat64)).abs().max().item<double>() : 0;
    const double scale = ref.numel() ? ref.abs().max().item<double>() : 0;
    const double tol = atol + rtol * scale;
    std::cout << "    " << name << ": max|diff| " << err << " (max|ref| " << scale << ", tol " << tol << ")\n";
    if (err > worst || worst_name.empty()) worst = err, worst_name = name;
    CHECK_MESSAGE(err <= tol, case_name << ": " << name << " max|diff| " << err << " > " << tol);
    return err <= tol;
  }
};

/// The fixtures' word-level stand-in tokenizer: "w<N>" (any case) <-> id N, <s> 0, <pad> 1, </s> 2, <unk> 3.
class WordTokenizer : public prismer::Tokenizer {
 public:
  std::vector<std::int64_t> encode(const std::string& text, bool add_special_tokens) const override {
    std::vector<std::int64_t> out;
    if (add_special_tokens) out.push_back(0);
    std::istringstream in(text);
    std::string w;
    while (in >> w) out.push_back(w.size() > 1 && (w[0] == 'w' || w[0] == 'W') ? std::stoll(w.substr(1)) : 3);
    if (add_special_tokens) out.push_back(2);
    return out;
  }
  std::string decode(const std::vector<std::int64_t>& ids, bool skip_special_tokens) const override {
    std::string out;
    for (auto id : ids) {
      if (id < 4 && skip_special_tokens) continue;
      if (!out.empty()) out += ' ';
      out += "w" + std::to_string(id);
    }
    return out;
  }
  std::int64_t bos_id() const override { return 0; }
  std::int64_t eos_id() const override { return 2; }
  std::int64_t pad_id() const override { return 1; }
  std::size_t vocab_size() const override { return 1000; }
};

/// A case's model behind the Backbone interface, with the word tokenizer and the recorded instance draws
/// (`index_key` in inputs.pt).
class FixtureBackbone : public prismer::Backbone {
 public:
  FixtureBackbone(const fs::path& dir, const std::map<std::string, torch::Tensor>& in,
                  const std::string& index_key = "obj_detection_instance_embedding_index")
      : model_(load_case_model(dir)), draws_(recorded_draws(in, index_key)) {}
  torch::nn::Module& module() override { return *model_; }
  std::vector<prismer::LabelSpec> experts() const override { return model_->config().experts; }
  torch::Tensor encode(const prismer::ExpertInputs& inputs) override { return model_->encode(inputs, nullptr, draws_); }
  torch::Tensor decode(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& memory,
                       prismer::DecodeCache* cache) override {
    return model_->decode(ids, mask, memory,
                          cache == nullptr ? nullptr : &dynamic_cast<prismer::backbone::KVCache&>(*cache));
  }
  std::unique_ptr<prismer::DecodeCache> new_cache() override { return std::make_unique<prismer::backbone::KVCache>(); }
  const prismer::Tokenizer& tokenizer() const override { return tok_; }
  void load(const std::string& checkpoint) override { prismer::backbone::load_checkpoint(*model_, checkpoint, true); }
  void freeze(const std::string&) override {}
  /// Replays another set of recorded draws (e.g. the training call's).
  void set_draws(prismer::backbone::InstanceDraw draws) { draws_ = std::move(draws); }
  prismer::backbone::PrismerModel& model() { return model_; }

 private:
  prismer::backbone::PrismerModel model_;
  prismer::backbone::InstanceDraw draws_;
  WordTokenizer tok_;
};

}  // namespace prismer::test
