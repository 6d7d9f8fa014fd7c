#include <prismer/engine/checkpoint_store.h>

#include <ATen/Context.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace prismer::engine {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFormat = "prismer-engine-checkpoint/1";

void collect(const torch::nn::Module& m, const std::string& prefix, TensorMap& out) {
  for (const auto& p : m.named_parameters(false)) out.emplace_back(prefix + p.key(), p.value().detach().cpu());
  for (const auto& b : m.named_buffers(false)) out.emplace_back(prefix + b.key(), b.value().detach().cpu());
  for (const auto& c : m.named_children()) collect(*c.value(), prefix + c.key() + ".", out);
}

void write_text(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

std::string read_text(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path.string());
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

nlohmann::json progress_json(const TrainProgress& p) {
  return {{"epochs_done", p.epochs_done}, {"global_step", p.global_step}, {"has_best", p.has_best},
          {"best_value", p.best_value},   {"best_epoch", p.best_epoch},   {"metric", p.metric},
          {"last_train_loss", p.last_train_loss}};
}

}  // namespace

TensorMap module_state_dict(const torch::nn::Module& module) {
  TensorMap out;
  collect(module, "", out);
  return out;
}

void load_module_state(torch::nn::Module& module, const TensorMap& state, const std::string& source) {
  std::map<std::string, torch::Tensor> file(state.begin(), state.end());
  std::vector<std::string> problems;
  std::set<std::string> names;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  auto visit = [&](const std::string& name, const torch::Tensor& dst) {
    names.insert(name);
    auto it = file.find(name);
    if (it == file.end()) return problems.push_back("missing " + name);
    if (it->second.sizes() != dst.sizes()) return problems.push_back("mis-shaped " + name);
    copies.emplace_back(dst, it->second);
  };
  for (const auto& p : module.named_parameters(true)) visit(p.key(), p.value());
  for (const auto& b : module.named_buffers(true)) visit(b.key(), b.value());
  for (const auto& kv : state)
    if (names.count(kv.first) == 0U) problems.push_back("unexpected " + kv.first);
  if (!problems.empty()) {
    std::string msg = source + ": the checkpoint does not fit the model (" + std::to_string(problems.size()) + " keys):";
    for (std::size_t i = 0; i < problems.size() && i < 10; ++i) msg += "\n  " + problems[i];
    throw std::runtime_error(msg);
  }
  torch::NoGradGuard no_grad;
  for (auto& [dst, src] : copies) dst.copy_(src.to(dst.device(), dst.scalar_type()));
}

CheckpointStore::CheckpointStore(fs::path output) : output_(std::move(output)) {}

void CheckpointStore::save_last(const torch::nn::Module& model, const AdamW& optimizer, const GradScaler& scaler,
                                const TrainProgress& progress, const std::string& config) const {
  save_last(model, optimizer.state_dict(), optimizer.lr(), scaler, progress, config);
}

void CheckpointStore::save_last(const torch::nn::Module& model, const TensorMap& optimizer_state, double lr,
                                const GradScaler& scaler, const TrainProgress& progress, const std::string& config) const {
  fs::create_directories(output_);
  const fs::path tmp = output_ / "last.tmp", last = output_ / "last", old = output_ / "last.old";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  save_torch(module_state_dict(model), (tmp / "pytorch_model.bin").string());
  save_torch(optimizer_state, (tmp / "optimizer.pt").string());
  TensorMap rng;
  {
    auto gen = at::globalContext().defaultGenerator(c10::Device(c10::kCPU));
    std::lock_guard<std::mutex> lock(gen.mutex());
    rng.emplace_back("torch_cpu", gen.get_state());
  }
  if (torch::cuda::is_available()) {
    for (int d = 0; d < static_cast<int>(torch::cuda::device_count()); ++d) {
      auto gen = at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(d)));
      std::lock_guard<std::mutex> lock(gen.mutex());
      rng.emplace_back("torch_cuda" + std::to_string(d), gen.get_state());
    }
  }
  save_torch(rng, (tmp / "rng.pt").string());
  if (!config.empty()) write_text(tmp / "config.yaml", config);
  nlohmann::json state = progress_json(progress);
  state["format"] = kFormat;
  state["loss_scale"] = scaler.scale();
  state["loss_scale_growth_tracker"] = scaler.growth_tracker();
  state["lr"] = lr;
  write_text(tmp / "state.json", state.dump(2) + "\n");  // last: its presence marks the folder complete
  // swap in: last -> last.old, last.tmp -> last, drop last.old (a crash in between leaves last.old complete)
  fs::remove_all(old);
  if (fs::exists(last)) fs::rename(last, old);
  fs::rename(tmp, last);
  fs::remove_all(old);
}

fs::path CheckpointStore::complete_dir() const {
  for (const char* name : {"last", "last.old"})
    if (fs::is_regular_file(output_ / name / "state.json")) return output_ / name;
  return {};
}

bool CheckpointStore::has_last() const { return !complete_dir().empty(); }

void CheckpointStore::load_last(torch::nn::Module& model, AdamW& optimizer, GradScaler& scaler,
                                TrainProgress& progress) const {
  const fs::path dir = complete_dir();
  if (dir.empty()) throw std::runtime_error(output_.string() + ": no complete checkpoint (last/state.json) to resume from");
  nlohmann::json state;
  const fs::path state_file = dir / "state.json";
  try {
    state = nlohmann::json::parse(read_text(state_file));
    if (state.value("format", "") != kFormat) throw std::runtime_error("unknown format");
    TrainProgress p;
    p.epochs_done = state.at("epochs_done");
    p.global_step = state.at("global_step");
    p.has_best = state.at("has_best");
    p.best_value = state.at("best_value");
    p.best_epoch = state.at("best_epoch");
    p.metric = state.at("metric");
    p.last_train_loss = state.at("last_train_loss");
    progress = p;
    scaler.set_state(state.at("loss_scale").get<double>(), state.at("loss_scale_growth_tracker").get<long>());
  } catch (const std::exception& e) {
    throw std::runtime_error(state_file.string() + ": not a valid checkpoint state (" + e.what() + ")");
  }
  const std::string model_file = (dir / "pytorch_model.bin").string();
  load_module_state(model, load_weights(model_file), model_file);
  const std::string opt_file = (dir / "optimizer.pt").string();
  optimizer.load_state_dict(load_weights(opt_file), opt_file);
  const std::string rng_file = (dir / "rng.pt").string();
  for (const auto& [name, t] : load_weights(rng_file)) {
    if (name == "torch_cpu") {
      auto gen = at::globalContext().defaultGenerator(c10::Device(c10::kCPU));
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(t);
    } else if (name.rfind("torch_cuda", 0) == 0 && torch::cuda::is_available()) {
      const int d = std::stoi(name.substr(10));
      if (d < static_cast<int>(torch::cuda::device_count())) {
        auto gen = at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(d)));
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(t);
      }
    }
  }
}

void CheckpointStore::save_best(const torch::nn::Module& model, const TrainProgress& progress, BestFormats formats) const {
  fs::create_directories(output_);
  const TensorMap state = module_state_dict(model);
  const fs::path torch_file = output_ / "pytorch_model.bin", safetensors_file = output_ / "model.safetensors";
  if (formats.torch) save_torch(state, torch_file.string());
  else fs::remove(torch_file);
  if (formats.safetensors) save_safetensors(state, safetensors_file.string(), {{"format", "pt"}});
  else fs::remove(safetensors_file);
  write_text(output_ / "best.json", progress_json(progress).dump(2) + "\n");
}

}  // namespace prismer::engine
