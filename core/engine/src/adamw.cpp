#include <prismer/engine/adamw.h>

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <stdexcept>
#include <unordered_set>

namespace prismer::engine {

std::vector<NamedParameter> trainable_parameters(const torch::nn::Module& module) {
  std::vector<NamedParameter> out;
  std::unordered_set<const void*> seen;
  for (const auto& p : module.named_parameters(true)) {
    if (!seen.insert(p.value().unsafeGetTensorImpl()).second) continue;
    if (p.value().requires_grad()) out.emplace_back(p.key(), p.value());
  }
  return out;
}

AdamW::AdamW(std::vector<NamedParameter> params, AdamWOptions options)
    : params_(std::move(params)), state_(params_.size()), options_(options) {
  if (options_.lr < 0) throw std::invalid_argument("AdamW: lr must be >= 0");
  if (options_.beta1 < 0 || options_.beta1 >= 1 || options_.beta2 < 0 || options_.beta2 >= 1)
    throw std::invalid_argument("AdamW: betas must be in [0, 1)");
  if (options_.eps < 0 || options_.weight_decay < 0) throw std::invalid_argument("AdamW: eps and weight_decay must be >= 0");
}

void AdamW::zero_grad() {
  for (auto& [name, p] : params_) {
    auto& g = p.mutable_grad();
    if (g.defined()) {
      g.detach_();
      g.zero_();
    }
  }
}

void AdamW::step() {
  torch::NoGradGuard no_grad;
  const double lr = options_.lr, wd = options_.weight_decay, b1 = options_.beta1, b2 = options_.beta2;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor p = params_[i].second;
    const torch::Tensor& grad = p.grad();
    if (!grad.defined()) continue;
    ParamState& s = state_[i];
    if (!s.exp_avg.defined()) {
      s.exp_avg = torch::zeros_like(p, torch::MemoryFormat::Preserve);
      s.exp_avg_sq = torch::zeros_like(p, torch::MemoryFormat::Preserve);
    }
    s.step += 1;
    // torch/optim/adamw.py _single_tensor_adamw, op for op
    p.mul_(1 - lr * wd);
    s.exp_avg.mul_(b1).add_(grad, 1 - b1);
    s.exp_avg_sq.mul_(b2).addcmul_(grad, grad, 1 - b2);
    const double bias_correction1 = 1 - std::pow(b1, s.step);
    const double bias_correction2 = 1 - std::pow(b2, s.step);
    const double step_size = lr / bias_correction1;
    const double bias_correction2_sqrt = std::sqrt(bias_correction2);
    auto denom = (s.exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(options_.eps);
    p.addcdiv_(s.exp_avg, denom, -step_size);
  }
  ++steps_;
}

TensorMap AdamW::state_dict() const {
  TensorMap out;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const ParamState& s = state_[i];
    if (!s.exp_avg.defined()) continue;
    const std::string& n = params_[i].first;
    out.emplace_back(n + ".exp_avg", s.exp_avg.detach().cpu());
    out.emplace_back(n + ".exp_avg_sq", s.exp_avg_sq.detach().cpu());
    out.emplace_back(n + ".step", torch::tensor(static_cast<float>(s.step), torch::kFloat32));
  }
  out.emplace_back("lr", torch::tensor(options_.lr, torch::kFloat64));
  out.emplace_back("steps", torch::tensor(steps_, torch::kInt64));
  return out;
}

void AdamW::load_state_dict(const TensorMap& state, const std::string& source) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < params_.size(); ++i) index[params_[i].first] = i;
  std::vector<ParamState> fresh(params_.size());
  double lr = options_.lr;
  std::int64_t steps = 0;
  auto fail = [&](const std::string& what) { throw std::runtime_error(source + ": optimiser state: " + what); };
  for (const auto& [key, t] : state) {
    if (key == "lr") {
      lr = t.item<double>();
      continue;
    }
    if (key == "steps") {
      steps = t.item<std::int64_t>();
      continue;
    }
    const auto dot = key.rfind('.');
    if (dot == std::string::npos) fail("unexpected entry '" + key + "'");
    const std::string name = key.substr(0, dot), field = key.substr(dot + 1);
    auto it = index.find(name);
    if (it == index.end()) fail("'" + key + "' names no trainable parameter (was the freeze mode changed?)");
    const torch::Tensor& p = params_[it->second].second;
    ParamState& s = fresh[it->second];
    if (field == "step") {
      s.step = t.item<double>();
    } else if (field == "exp_avg" || field == "exp_avg_sq") {
      if (t.sizes() != p.sizes()) fail("'" + key + "' has the wrong shape");
      auto v = t.to(p.device(), p.scalar_type()).clone();
      (field == "exp_avg" ? s.exp_avg : s.exp_avg_sq) = v;
    } else {
      fail("unexpected entry '" + key + "'");
    }
  }
  for (std::size_t i = 0; i < fresh.size(); ++i)
    if (fresh[i].exp_avg.defined() != fresh[i].exp_avg_sq.defined())
      fail("'" + params_[i].first + "' has only one of exp_avg / exp_avg_sq");
  state_ = std::move(fresh);
  options_.lr = lr;
  steps_ = steps;
}

}  // namespace prismer::engine
