// Written after the behaviour of transformers 4.26.1 generation/utils.py greedy_search / sample and
// logits_process.py (MinLength, Temperature, TopK, TopP). See sampling.h.
#include "sampling.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace prismer::caption {
namespace {

constexpr float kFiltered = -std::numeric_limits<float>::infinity();

/// TopKLogitsWarper: everything below the k-th largest score -> -inf.
torch::Tensor top_k_filter(const torch::Tensor& scores, std::int64_t k) {
  k = std::min(k, scores.size(-1));
  const torch::Tensor kth = std::get<0>(torch::topk(scores, k, -1)).select(-1, k - 1).unsqueeze(-1);
  return scores.masked_fill(scores < kth, kFiltered);
}

/// TopPLogitsWarper: sort ascending, drop the tokens whose cumulative probability is <= 1 - top_p, keep the
/// most probable one in any case.
torch::Tensor top_p_filter(const torch::Tensor& scores, double top_p) {
  auto sorted = torch::sort(scores, -1, /*descending=*/false);
  const torch::Tensor& sorted_logits = std::get<0>(sorted);
  const torch::Tensor& sorted_idx = std::get<1>(sorted);
  const torch::Tensor cum = torch::softmax(sorted_logits, -1).cumsum(-1);
  torch::Tensor remove = cum <= (1.0 - top_p);
  remove.select(-1, remove.size(-1) - 1).fill_(false);
  const torch::Tensor remove_orig = remove.scatter(-1, sorted_idx, remove);
  return scores.masked_fill(remove_orig, kFiltered);
}

}  // namespace

void check_sampling_options(const SamplingOptions& o) {
  if (o.max_length < 1) throw std::invalid_argument("max_length must be >= 1");
  if (!(o.temperature > 0.0)) throw std::invalid_argument("temperature must be > 0");
  if (!(o.top_p > 0.0 && o.top_p <= 1.0)) throw std::invalid_argument("top_p must be in (0, 1]");
  if (o.top_k < 0) throw std::invalid_argument("top_k must be >= 0");
}

SamplingResult sample_search(const torch::Tensor& prompt_ids, const torch::Tensor& prompt_mask, const StepFn& step,
                             const SamplingOptions& opt) {
  check_sampling_options(opt);
  if (prompt_ids.dim() != 2) throw std::invalid_argument("sample_search: prompt_ids must be [B, T]");
  const std::int64_t batch = prompt_ids.size(0);
  const auto device = prompt_ids.device();
  torch::Tensor input_ids = prompt_ids.to(torch::kLong);
  torch::Tensor mask = (prompt_mask.defined() ? prompt_mask : torch::ones_like(prompt_ids)).to(device).to(torch::kLong);
  // the draws come from a CPU generator so that a seed means the same text on every device
  at::Generator gen = at::detail::createCPUGenerator(opt.seed);
  torch::Tensor unfinished = torch::ones({batch}, torch::kLong);
  torch::Tensor logprob_sum = torch::zeros({batch}, torch::kDouble);
  torch::Tensor generated = torch::zeros({batch}, torch::kDouble);

  SamplingResult result;
  bool first = true;
  while (input_ids.size(1) < opt.max_length) {
    const std::int64_t cur_len = input_ids.size(1);
    torch::Tensor logits = step(first ? input_ids : input_ids.slice(1, cur_len - 1), mask);
    first = false;
    ++result.num_steps;
    if (logits.dim() == 3) logits = logits.select(1, logits.size(1) - 1);
    torch::Tensor scores = logits.to(torch::kFloat).cpu().clone();
    if (cur_len < opt.min_length) scores.select(1, opt.eos_token_id).fill_(kFiltered);
    const torch::Tensor model_logp = torch::log_softmax(scores, -1);

    torch::Tensor next;
    if (!opt.do_sample) {
      next = scores.argmax(-1);
    } else {
      if (opt.temperature != 1.0) scores = scores / opt.temperature;
      if (opt.top_k > 0) scores = top_k_filter(scores, opt.top_k);
      if (opt.top_p < 1.0) scores = top_p_filter(scores, opt.top_p);
      next = torch::multinomial(torch::softmax(scores, -1), 1, /*replacement=*/false, gen).squeeze(1);
    }
    const torch::Tensor live = unfinished.to(torch::kBool);
    logprob_sum += torch::where(live, model_logp.gather(1, next.unsqueeze(1)).squeeze(1).to(torch::kDouble),
                                torch::zeros({batch}, torch::kDouble));
    generated += live.to(torch::kDouble);
    next = next * unfinished + opt.pad_token_id * (1 - unfinished);
    input_ids = torch::cat({input_ids, next.to(device).unsqueeze(1)}, 1);
    mask = torch::cat({mask, torch::ones({batch, 1}, mask.options())}, 1);
    unfinished = unfinished * next.ne(opt.eos_token_id).to(torch::kLong);
    if (unfinished.max().item<std::int64_t>() == 0) break;
  }
  result.sequences = input_ids.cpu();
  result.scores = (logprob_sum / generated.clamp_min(1.0)).to(torch::kFloat);
  return result;
}

SamplingResult generate_sampled(const DecodeFn& decode, DecodeCache& cache, const torch::Tensor& memory,
                                const torch::Tensor& prompt_ids, const torch::Tensor& prompt_mask,
                                const SamplingOptions& options) {
  torch::NoGradGuard no_grad;
  if (memory.size(0) != prompt_ids.size(0))
    throw std::invalid_argument("generate_sampled: memory and prompt batch sizes differ");
  auto step = [&](const torch::Tensor& ids, const torch::Tensor& mask) { return decode(ids, mask, memory, &cache); };
  return sample_search(prompt_ids.to(memory.device()), prompt_mask, step, options);
}

SamplingResult generate_sampled(Backbone& backbone, const torch::Tensor& memory, const torch::Tensor& prompt_ids,
                                const torch::Tensor& prompt_mask, const SamplingOptions& options) {
  auto cache = backbone.new_cache();
  DecodeFn decode = [&](const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& mem,
                        DecodeCache* c) { return backbone.decode(ids, mask, mem, c); };
  return generate_sampled(decode, *cache, memory, prompt_ids, prompt_mask, options);
}

}  // namespace prismer::caption
