// post_label_process of the original dataset/utils.py, with the same float32 operations.
#include "prismer/data/post_label_process.h"

#include <torch/torch.h>

#include <limits>
#include <stdexcept>

namespace prismer::data {

namespace {

torch::Tensor feature_row(const torch::Tensor& table, std::int64_t index, const std::string& what) {
  if (index < 0 || index >= table.size(0))
    throw std::runtime_error(what + ": class index " + std::to_string(index) + " out of range (" +
                             std::to_string(table.size(0)) + " features)");
  return table[index];
}

}  // namespace

torch::Tensor semantic_feature_table(const std::string& expert, const LabelInfo& info, const ClipFeatures& features,
                                     const std::vector<bool>& ids_present) {
  const std::int64_t dim = features.background.numel();
  torch::Tensor table = torch::full({256, dim}, std::numeric_limits<float>::quiet_NaN(), torch::kFloat32);
  for (int v = 0; v < 256; ++v) {
    if (v >= static_cast<int>(ids_present.size()) || !ids_present[v]) continue;
    const std::string where = expert + " id " + std::to_string(v);
    torch::Tensor row;
    if (v == 255) {
      row = features.background;
    } else if (expert == "seg_coco") {
      row = feature_row(features.coco, v, where);
    } else if (expert == "seg_ade") {
      row = feature_row(features.ade, v, where);
    } else if (expert == "obj_detection") {
      if (!info.obj_detection) throw std::runtime_error(where + ": no instance->class map");
      const auto it = info.obj_detection->find(std::to_string(v));
      if (it == info.obj_detection->end()) throw std::runtime_error(where + ": instance missing from the .json (KeyError)");
      row = feature_row(features.detection, it->second, where);
    } else if (expert == "ocr_detection") {
      if (!info.ocr_detection) throw std::runtime_error(where + ": no OCR word features (labels_info is None)");
      const auto it = info.ocr_detection->find(v);
      if (it == info.ocr_detection->end()) throw std::runtime_error(where + ": word missing from the .pt (KeyError)");
      row = it->second;
    } else {
      throw std::runtime_error("post_label_process: '" + expert + "' is not a semantic expert");
    }
    if (row.numel() != dim) throw std::runtime_error(where + ": feature of size " + std::to_string(row.numel()) +
                                                     ", expected " + std::to_string(dim));
    table[v].copy_(row.reshape({dim}).to(torch::kFloat32));
  }
  return table;
}

std::vector<std::pair<std::string, ExpertInput>> post_label_process(const TransformedSample& sample,
                                                                    const LabelInfo& info,
                                                                    const ClipFeatures& features) {
  std::vector<std::pair<std::string, ExpertInput>> out;
  for (const auto& [name, x] : sample.labels) {
    ExpertInput in;
    if (name == "depth" || name == "normal" || name == "edge") {
      const torch::Tensor mn = x.min(), mx = x.max();
      in.value = x.sub(mn).mul(2).div(mx.sub(mn).add(1e-6)).sub(1);
    } else {
      if (x.scalar_type() != torch::kInt64 || x.dim() != 3 || x.size(0) != 1)
        throw std::runtime_error("post_label_process: " + name + " must be int64 ids [1, H, W]");
      const torch::Tensor ids = x[0];
      if (ids.numel() > 0 && (ids.min().item<std::int64_t>() < 0 || ids.max().item<std::int64_t>() > 255))
        throw std::runtime_error("post_label_process: " + name + " ids outside 0..255");
      const torch::Tensor counts = torch::bincount(ids.reshape({-1}), {}, 256);
      std::vector<bool> present(256);
      const auto acc = counts.accessor<std::int64_t, 1>();
      for (int v = 0; v < 256; ++v) present[v] = acc[v] > 0;
      const torch::Tensor table = semantic_feature_table(name, info, features, present);
      // value[c][p] = table[ids[p]][c], written channel by channel straight into the [C, H, W] result (one
      // allocation; index_select + permute + contiguous made two full-size copies).
      const torch::Tensor flat = ids.reshape({-1}).contiguous();
      const torch::Tensor table_t = table.t().contiguous();  // [C, 256]
      const std::int64_t channels = table.size(1), n = flat.numel();
      in.value = torch::empty({channels, ids.size(0), ids.size(1)}, torch::kFloat32);
      const std::int64_t* id = flat.data_ptr<std::int64_t>();
      const float* tab = table_t.data_ptr<float>();
      float* dst = in.value.data_ptr<float>();
      for (std::int64_t c = 0; c < channels; ++c) {
        const float* row = tab + c * 256;
        float* out_c = dst + c * n;
        for (std::int64_t p = 0; p < n; ++p) out_c[p] = row[id[p]];
      }
      if (name == "obj_detection") in.instance = x;
    }
    out.emplace_back(name, std::move(in));
  }
  return out;
}

}  // namespace prismer::data
