#include <prismer/engine/process_group.h>

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef PRISMER_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace prismer::engine {

namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

int env_int(const char* name, int fallback) {
  const char* v = env(name);
  if (v == nullptr) return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (end == v || *end != '\0' || x < 0 || x > 1 << 24)
    throw std::runtime_error(std::string("environment variable ") + name + "='" + v + "' is not a non-negative integer");
  return static_cast<int>(x);
}

}  // namespace

DistEnv DistEnv::from_environment() {
  DistEnv e;
  const bool torchrun = env("WORLD_SIZE") != nullptr || env("RANK") != nullptr;
  if (torchrun) {
    e.world_size = env_int("WORLD_SIZE", 1);
    e.rank = env_int("RANK", 0);
    e.local_rank = env_int("LOCAL_RANK", e.rank);
  } else if (env("SLURM_NTASKS") != nullptr) {  // srun: one task per process
    e.world_size = env_int("SLURM_NTASKS", 1);
    e.rank = env_int("SLURM_PROCID", 0);
    e.local_rank = env_int("SLURM_LOCALID", 0);
  }
  if (const char* a = env("MASTER_ADDR")) e.master_addr = a;
  e.master_port = env_int("MASTER_PORT", e.master_port);
  if (e.world_size < 1) throw std::runtime_error("WORLD_SIZE must be >= 1");
  if (e.rank >= e.world_size)
    throw std::runtime_error("rank " + std::to_string(e.rank) + " is outside the world of " +
                             std::to_string(e.world_size) + " processes (RANK/WORLD_SIZE or SLURM_PROCID/SLURM_NTASKS)");
  if (e.master_port < 1 || e.master_port > 65535) throw std::runtime_error("MASTER_PORT must be in 1..65535");
  return e;
}

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  void run(const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
    try {
      work->wait();
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("distributed ") + what + " failed (did another rank stop?): " + e.what());
    }
  }
};

namespace {

c10::intrusive_ptr<c10d::ProcessGroup> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
                                                 const std::string& host, std::chrono::seconds timeout) {
  auto options = c10d::ProcessGroupGloo::Options::create(std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
  // as torch.distributed: GLOO_SOCKET_IFNAME picks the interface, else the address the master is reached by
  // (localhost runs) or the host's default one
  if (const char* ifname = env("GLOO_SOCKET_IFNAME")) {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
  } else if (host == "127.0.0.1" || host == "localhost") {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  } else {
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  options->threads = 2;
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);
}

}  // namespace

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl, int rank, int world_size, torch::Device device)
    : impl_(std::move(impl)), rank_(rank), world_size_(world_size), device_(device) {}

ProcessGroup::~ProcessGroup() = default;

std::shared_ptr<ProcessGroup> ProcessGroup::connect(const DistEnv& env, const torch::Device& device,
                                                    std::chrono::seconds timeout) {
  if (!env.distributed()) throw std::runtime_error("a process group needs a world size above 1");
  auto impl = std::make_unique<Impl>();
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(env.master_port);
  so.isServer = env.rank == 0;
  so.numWorkers = static_cast<std::size_t>(env.world_size);
  so.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  try {
    impl->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(env.rank) + ": cannot reach the rendezvous at " + env.master_addr +
                             ":" + std::to_string(env.master_port) + " (MASTER_ADDR/MASTER_PORT): " + e.what());
  }
  auto store = c10::make_intrusive<c10d::PrefixStore>("prismer/", impl->store);
  if (device.is_cuda()) {
#ifdef PRISMER_WITH_NCCL
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
    impl->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world_size, options);
#else
    throw std::runtime_error("training on " + device.str() + " over several processes needs NCCL, and this LibTorch (" +
                             std::string(TORCH_VERSION) + ") was built without it; use device: cpu (Gloo) or a CUDA "
                             "LibTorch");
#endif
  } else {
    impl->group = make_gloo(store, env.rank, env.world_size, env.master_addr, timeout);
  }
  return std::shared_ptr<ProcessGroup>(new ProcessGroup(std::move(impl), env.rank, env.world_size, device));
}

std::shared_ptr<ProcessGroup> ProcessGroup::connect_file(const std::string& path, int rank, int world_size,
                                                         std::chrono::seconds timeout) {
  if (world_size < 2 || rank < 0 || rank >= world_size) throw std::invalid_argument("connect_file: bad rank/world size");
  auto impl = std::make_unique<Impl>();
  impl->store = c10::make_intrusive<c10d::FileStore>(path, world_size);
  impl->group = make_gloo(impl->store, rank, world_size, "127.0.0.1", timeout);
  return std::shared_ptr<ProcessGroup>(new ProcessGroup(std::move(impl), rank, world_size, torch::kCPU));
}

void ProcessGroup::all_reduce_sum(torch::Tensor& tensor) {
  std::vector<torch::Tensor> t{tensor};
  c10d::AllreduceOptions o;
  o.reduceOp = c10d::ReduceOp::SUM;
  impl_->run(impl_->group->allreduce(t, o), "all-reduce");
}

void ProcessGroup::broadcast(torch::Tensor& tensor, int root) {
  std::vector<torch::Tensor> t{tensor};
  c10d::BroadcastOptions o;
  o.rootRank = root;
  impl_->run(impl_->group->broadcast(t, o), "broadcast");
}

std::vector<torch::Tensor> ProcessGroup::all_gather(const torch::Tensor& tensor) {
  std::vector<std::vector<torch::Tensor>> out(1);
  for (int r = 0; r < world_size_; ++r) out[0].push_back(torch::empty_like(tensor));
  std::vector<torch::Tensor> in{tensor.contiguous()};
  impl_->run(impl_->group->allgather(out, in), "all-gather");
  return out[0];
}

std::vector<std::string> ProcessGroup::all_gather_bytes(const std::string& bytes) {
  // lengths first, then every buffer padded to the longest
  auto length = torch::tensor({static_cast<std::int64_t>(bytes.size())}, torch::kLong).to(device_);
  std::int64_t longest = 0;
  std::vector<std::int64_t> lengths;
  for (const auto& l : all_gather(length)) {
    lengths.push_back(l.cpu().item<std::int64_t>());
    longest = std::max(longest, lengths.back());
  }
  auto buffer = torch::zeros({std::max<std::int64_t>(longest, 1)}, torch::kUInt8);
  std::memcpy(buffer.data_ptr(), bytes.data(), bytes.size());
  std::vector<std::string> out;
  const auto gathered = all_gather(buffer.to(device_));
  for (int r = 0; r < world_size_; ++r) {
    const auto b = gathered[static_cast<std::size_t>(r)].cpu();
    out.emplace_back(static_cast<const char*>(b.data_ptr()), static_cast<std::size_t>(lengths[static_cast<std::size_t>(r)]));
  }
  return out;
}

std::string ProcessGroup::broadcast_bytes(const std::string& bytes, int root) {
  auto length = torch::tensor({static_cast<std::int64_t>(bytes.size())}, torch::kLong).to(device_);
  broadcast(length, root);
  const auto n = length.cpu().item<std::int64_t>();
  auto buffer = torch::zeros({std::max<std::int64_t>(n, 1)}, torch::kUInt8);
  if (rank_ == root) std::memcpy(buffer.data_ptr(), bytes.data(), bytes.size());
  buffer = buffer.to(device_);
  broadcast(buffer, root);
  buffer = buffer.cpu();
  return {static_cast<const char*>(buffer.data_ptr()), static_cast<std::size_t>(n)};
}

void ProcessGroup::barrier() { impl_->run(impl_->group->barrier(), "barrier"); }

}  // namespace prismer::engine
