// Several processes training one model: where this process stands among them (torchrun's or SLURM's environment)
// and the collectives the data-parallel trainer needs, over torch's c10d process groups (Gloo for CPU tensors,
// NCCL for CUDA ones when this LibTorch has it). The c10d headers stay in the .cpp: they need USE_C10D_* defines
// and the Gloo headers, which users of this header should not.
#pragma once

#include <torch/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace prismer::engine {

/// This process among the ones of a run, as torchrun and `prismer launch` set it (MASTER_ADDR, MASTER_PORT, RANK,
/// WORLD_SIZE, LOCAL_RANK), else as SLURM does (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID; MASTER_ADDR and
/// MASTER_PORT must still be exported by the job script), else rank 0 of 1.
struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;                   ///< the process on this node (its GPU index)
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;

  /// Reads the environment; throws std::runtime_error naming the variable when one is malformed or the values
  /// do not fit together (rank outside [0, world_size)).
  static DistEnv from_environment();
  bool distributed() const { return world_size > 1; }
};

/// A process group of `world_size` processes. Every collective must be called by every rank in the same order.
/// Tensors must be contiguous and on the group's device (CPU for Gloo, this rank's GPU for NCCL).
class ProcessGroup {
 public:
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  /// Joins the group described by `env` through a TCPStore at master_addr:master_port (rank 0 hosts it). Gloo
  /// when `device` is the CPU, NCCL when it is CUDA (a clear error when this LibTorch was built without NCCL).
  /// Throws std::runtime_error when the world size is 1 (no group is needed) or the rendezvous times out.
  /// `timeout` bounds the rendezvous and every collective (torch's default: 30 minutes).
  static std::shared_ptr<ProcessGroup> connect(const DistEnv& env, const torch::Device& device,
                                               std::chrono::seconds timeout = std::chrono::seconds(1800));
  /// A Gloo group whose rendezvous goes through a file every rank can reach (tests: ranks as threads).
  static std::shared_ptr<ProcessGroup> connect_file(const std::string& path, int rank, int world_size,
                                                    std::chrono::seconds timeout = std::chrono::seconds(120));

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  bool is_root() const { return rank_ == 0; }
  const torch::Device& device() const { return device_; }

  /// In place: the element-wise sum over the ranks.
  void all_reduce_sum(torch::Tensor& tensor);
  /// In place: `root`'s values on every rank.
  void broadcast(torch::Tensor& tensor, int root);
  /// Every rank's `tensor` (same shape and dtype on every rank), in rank order.
  std::vector<torch::Tensor> all_gather(const torch::Tensor& tensor);
  /// Every rank's bytes, in rank order (lengths may differ).
  std::vector<std::string> all_gather_bytes(const std::string& bytes);
  /// `root`'s bytes on every rank.
  std::string broadcast_bytes(const std::string& bytes, int root);
  void barrier();

 private:
  struct Impl;
  ProcessGroup(std::unique_ptr<Impl> impl, int rank, int world_size, torch::Device device);
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, world_size_ = 1;
  torch::Device device_;
};

}  // namespace prismer::engine
