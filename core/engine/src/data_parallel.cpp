#include <prismer/engine/data_parallel.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <stdexcept>

namespace prismer::engine {

namespace {

std::int64_t numel(const std::vector<std::int64_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

// Consecutive runs of `tensors` with one dtype and at most `cap` bytes (a tensor larger than cap is a run alone).
std::vector<std::vector<std::size_t>> buckets(const std::vector<torch::Tensor>& tensors, const std::vector<std::size_t>& which,
                                              double cap_mb) {
  const auto cap = static_cast<std::int64_t>(cap_mb * 1024 * 1024);
  std::vector<std::vector<std::size_t>> out;
  std::int64_t bytes = 0;
  for (std::size_t i : which) {
    const auto& t = tensors[i];
    const std::int64_t b = t.numel() * static_cast<std::int64_t>(t.element_size());
    if (out.empty() || bytes + b > cap || tensors[out.back().front()].scalar_type() != t.scalar_type()) {
      out.emplace_back();
      bytes = 0;
    }
    out.back().push_back(i);
    bytes += b;
  }
  return out;
}

torch::Tensor flatten(const std::vector<torch::Tensor>& tensors, const std::vector<std::size_t>& which) {
  std::vector<torch::Tensor> flat;
  flat.reserve(which.size());
  for (std::size_t i : which) flat.push_back(tensors[i].reshape({-1}));
  return torch::cat(flat);
}

void unflatten_into(const torch::Tensor& flat, const std::vector<torch::Tensor>& tensors, const std::vector<std::size_t>& which) {
  std::int64_t offset = 0;
  for (std::size_t i : which) {
    const auto& t = tensors[i];
    const std::int64_t n = t.numel();
    t.copy_(flat.slice(0, offset, offset + n).view(t.sizes()));
    offset += n;
  }
}

}  // namespace

Sharding parse_sharding(const std::string& name) {
  if (name == "none" || name == "NO_SHARD") return Sharding::none;
  if (name == "shard_grad_op" || name == "SHARD_GRAD_OP") return Sharding::shard_grad_op;
  if (name == "full_shard" || name == "FULL_SHARD") return Sharding::full_shard;
  throw std::invalid_argument("unknown sharding '" + name + "' (expected none, shard_grad_op or full_shard)");
}

std::string to_string(Sharding s) {
  switch (s) {
    case Sharding::shard_grad_op: return "shard_grad_op";
    case Sharding::full_shard: return "full_shard";
    case Sharding::none: break;
  }
  return "none";
}

DataParallel::DataParallel(std::shared_ptr<ProcessGroup> group, DataParallelOptions options)
    : group_(std::move(group)), options_(options) {
  if (!group_) throw std::invalid_argument("DataParallel needs a process group");
  if (options_.bucket_mb <= 0) throw std::invalid_argument("DataParallel: bucket_mb must be positive");
}

void DataParallel::attach(torch::nn::Module& model, const std::vector<NamedParameter>& trainable) {
  torch::NoGradGuard no_grad;
  // rank 0's module state everywhere (DDP's _sync_module_states): parameters, frozen ones too, and buffers
  std::vector<torch::Tensor> state;
  for (const auto& p : model.parameters(true)) state.push_back(p);
  for (const auto& b : model.buffers(true)) state.push_back(b);
  std::vector<std::size_t> all(state.size());
  std::iota(all.begin(), all.end(), std::size_t{0});
  for (const auto& bucket : buckets(state, all, options_.bucket_mb)) {
    auto flat = flatten(state, bucket).to(group_->device());
    const bool boolean = flat.scalar_type() == torch::kBool;  // Gloo has no bool: as bytes
    if (boolean) flat = flat.to(torch::kUInt8);
    group_->broadcast(flat, 0);
    unflatten_into(boolean ? flat.to(torch::kBool) : flat, state, bucket);
  }

  entries_.clear();
  names_.clear();
  for (const auto& [name, p] : trainable) {
    entries_.push_back({p, p.sizes().vec(), -1});
    names_.push_back(name);
  }
  if (options_.sharding == Sharding::none) return;
  // whole parameters, largest first to the least-loaded rank; ties by index, so every rank computes the same
  std::vector<std::size_t> order(entries_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return entries_[a].param.numel() > entries_[b].param.numel(); });
  std::vector<std::int64_t> load(static_cast<std::size_t>(world_size()), 0);
  for (std::size_t i : order) {
    const auto r = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    entries_[i].owner = static_cast<int>(r);
    load[r] += entries_[i].param.numel();
  }
  if (options_.sharding == Sharding::full_shard) release();
}

int DataParallel::owner(std::size_t i) const { return entries_.at(i).owner; }

void DataParallel::release() {
  torch::NoGradGuard no_grad;
  for (auto& e : entries_)
    if (e.owner != rank()) e.param.set_data(torch::empty({0}, e.param.options()));
  materialized_ = false;
}

void DataParallel::broadcast_from_owners(bool allocate) {
  torch::NoGradGuard no_grad;
  if (allocate)
    for (auto& e : entries_)
      if (e.owner != rank() && e.param.numel() != numel(e.shape)) e.param.set_data(torch::empty(e.shape, e.param.options()));
  std::vector<torch::Tensor> params;
  for (const auto& e : entries_) params.push_back(e.param);
  for (int r = 0; r < world_size(); ++r) {
    std::vector<std::size_t> owned;
    for (std::size_t i = 0; i < entries_.size(); ++i)
      if (entries_[i].owner == r) owned.push_back(i);
    for (const auto& bucket : buckets(params, owned, options_.bucket_mb)) {
      torch::Tensor flat;
      if (r == rank()) {
        flat = flatten(params, bucket);
      } else {
        std::int64_t n = 0;
        for (std::size_t i : bucket) n += params[i].numel();
        flat = torch::empty({n}, params[bucket.front()].options());
      }
      group_->broadcast(flat, r);
      if (r != rank()) unflatten_into(flat, params, bucket);
    }
  }
}

void DataParallel::gather_parameters() {
  if (options_.sharding != Sharding::full_shard || materialized_) return;
  broadcast_from_owners(true);
  materialized_ = true;
}

void DataParallel::reduce_gradients() {
  torch::NoGradGuard no_grad;
  // which parameters have a gradient somewhere: the buckets must be the same on every rank
  auto used = torch::zeros({static_cast<std::int64_t>(entries_.size())}, torch::kFloat32);
  auto* u = used.data_ptr<float>();
  for (std::size_t i = 0; i < entries_.size(); ++i) u[i] = entries_[i].param.grad().defined() ? 1.0F : 0.0F;
  used = used.to(group_->device());
  group_->all_reduce_sum(used);
  used = used.cpu();
  u = used.data_ptr<float>();
  std::vector<torch::Tensor> grads(entries_.size());
  std::vector<std::size_t> which;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (u[i] == 0.0F) continue;
    auto& p = entries_[i].param;
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads[i] = p.grad();
    which.push_back(i);
  }
  const double w = static_cast<double>(world_size());
  for (const auto& bucket : buckets(grads, which, options_.bucket_mb)) {
    auto flat = flatten(grads, bucket);
    group_->all_reduce_sum(flat);
    flat.div_(w);  // DDP's average; exact for a power-of-two world size
    unflatten_into(flat, grads, bucket);
  }
}

void DataParallel::before_step() {
  if (options_.sharding == Sharding::none) return;
  for (auto& e : entries_)
    if (e.owner != rank()) e.param.mutable_grad() = torch::Tensor();
}

void DataParallel::after_step() {
  if (options_.sharding == Sharding::shard_grad_op) broadcast_from_owners(false);
  if (options_.sharding == Sharding::full_shard) release();
}

TensorMap DataParallel::full_optimizer_state(const AdamW& optimizer) {
  const TensorMap mine = optimizer.state_dict();
  if (options_.sharding == Sharding::none) return is_root() ? mine : TensorMap{};
  // each parameter's state lives on its owner: its step count first (0: no state yet), then the moments
  std::map<std::string, torch::Tensor> own(mine.begin(), mine.end());
  auto steps = torch::zeros({static_cast<std::int64_t>(entries_.size())}, torch::kFloat64);
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    auto it = own.find(names_[i] + ".step");
    if (entries_[i].owner == rank() && it != own.end()) steps[static_cast<std::int64_t>(i)] = it->second.item<double>();
  }
  steps = steps.to(group_->device());
  group_->all_reduce_sum(steps);
  steps = steps.cpu();
  TensorMap out;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const double step = steps[static_cast<std::int64_t>(i)].item<double>();
    if (step == 0) continue;
    const int r = entries_[i].owner;
    for (const char* field : {".exp_avg", ".exp_avg_sq"}) {
      const std::string key = names_[i] + field;
      torch::Tensor t = r == rank() ? own.at(key).to(group_->device()).contiguous()
                                    : torch::empty(entries_[i].shape, entries_[i].param.options().device(group_->device()));
      if (r != 0) group_->broadcast(t, r);  // one parameter at a time: no rank holds more than one extra
      if (is_root()) out.emplace_back(key, t.cpu());
    }
    if (is_root()) out.emplace_back(names_[i] + ".step", torch::tensor(static_cast<float>(step), torch::kFloat32));
  }
  if (!is_root()) return {};
  for (const auto& [k, t] : mine)
    if (k == "lr" || k == "steps") out.emplace_back(k, t);
  return out;
}

void DataParallel::shard_optimizer_state(AdamW& optimizer) const {
  if (options_.sharding == Sharding::none) return;
  std::map<std::string, bool> mine;
  for (std::size_t i = 0; i < entries_.size(); ++i) mine[names_[i]] = entries_[i].owner == rank();
  TensorMap kept;
  for (const auto& [key, t] : optimizer.state_dict()) {
    const auto dot = key.rfind('.');
    auto it = dot == std::string::npos ? mine.end() : mine.find(key.substr(0, dot));
    if (it == mine.end() || it->second) kept.emplace_back(key, t);
  }
  optimizer.load_state_dict(kept, "the sharded optimiser state");
}

Metrics DataParallel::broadcast_metrics(const Metrics& metrics) {
  const std::string text = group_->broadcast_bytes(is_root() ? nlohmann::json(metrics).dump() : std::string(), 0);
  return nlohmann::json::parse(text).get<Metrics>();
}

double DataParallel::mean(double value) {
  auto t = torch::tensor({value}, torch::kFloat64).to(group_->device());
  group_->all_reduce_sum(t);
  return t.cpu().item<double>() / static_cast<double>(world_size());
}

ShardFootprint DataParallel::footprint() const {
  ShardFootprint f;
  for (const auto& e : entries_) {
    f.total += numel(e.shape);
    f.parameters += e.param.numel();
    if (e.param.grad().defined()) f.gradients += e.param.grad().numel();
  }
  return f;
}

}  // namespace prismer::engine
