// `prismer inspect FILE` and `prismer convert IN OUT`: weight files without Python.
#include "commands.h"

#include <prismer/weights.h>

#include <cxxopts.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>

namespace prismer::cli {

namespace {

std::string format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::torch_zip: return "torch.save zip archive";
    case WeightFormat::torch_legacy: return "legacy torch.save pickle";
    case WeightFormat::pickle: return "pickle";
    case WeightFormat::safetensors: return "safetensors";
  }
  return "?";
}

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream ss;
  ss << "[";
  for (std::int64_t i = 0; i < t.dim(); ++i) ss << (i ? ", " : "") << t.size(i);
  ss << "]";
  return ss.str();
}

// Parameters counted once per storage, so tied weights (lm_head.decoder = word_embeddings) count once.
std::int64_t unique_elements(const TensorMap& tensors) {
  std::set<std::tuple<const void*, std::int64_t, std::vector<std::int64_t>>> seen;
  std::int64_t total = 0;
  for (const auto& [name, t] : tensors) {
    if (seen.emplace(t.storage().unsafeGetStorageImpl(), t.storage_offset(), t.sizes().vec()).second) total += t.numel();
  }
  return total;
}

}  // namespace

int inspect_command(int argc, char** argv) {
  cxxopts::Options options("prismer inspect", "Keys, shapes, dtypes and parameter count of a weight file");
  options.positional_help("FILE");
  options.add_options()("file", "weight file", cxxopts::value<std::string>())("entry", "state_dict under this top-level key",
                                                                              cxxopts::value<std::string>()->default_value(""))(
      "json", "print JSON")("h,help", "this help");
  options.parse_positional({"file"});
  const auto args = options.parse(argc, argv);
  if (args.count("help") || !args.count("file")) {
    std::cout << options.help() << "\n";
    return args.count("help") ? kOk : kUsage;
  }
  const std::string path = args["file"].as<std::string>();
  const WeightFormat format = detect_weight_format(path);
  LoadWeightsOptions lo;
  lo.entry = args["entry"].as<std::string>();
  const TensorMap tensors = load_weights(path, lo);
  const std::int64_t params = unique_elements(tensors);
  if (args.count("json")) {
    nlohmann::ordered_json out;
    out["file"] = path;
    out["format"] = format_name(format);
    out["tensors"] = nlohmann::ordered_json::array();
    for (const auto& [name, t] : tensors)
      out["tensors"].push_back({{"name", name}, {"shape", t.sizes().vec()}, {"dtype", c10::toString(t.scalar_type())}});
    out["parameters"] = params;
    std::cout << out.dump(2) << "\n";
    return kOk;
  }
  std::size_t width = 4;
  for (const auto& kv : tensors) width = std::max(width, kv.first.size());
  std::cout << path << ": " << format_name(format) << ", " << tensors.size() << " tensors\n";
  for (const auto& [name, t] : tensors)
    std::cout << "  " << std::left << std::setw(static_cast<int>(width) + 2) << name << std::setw(10)
              << c10::toString(t.scalar_type()) << shape_text(t) << "\n";
  std::cout << "parameters: " << params << " (tensors sharing storage counted once)\n";
  return kOk;
}

int convert_command(int argc, char** argv) {
  cxxopts::Options options("prismer convert", "Rewrite a weight file as safetensors or torch.save (by OUT's extension)");
  options.positional_help("IN OUT");
  options.add_options()("in", "input weight file", cxxopts::value<std::string>())("out", "output file", cxxopts::value<std::string>())(
      "strip-prefix", "remove this prefix from every key (e.g. module.)", cxxopts::value<std::string>()->default_value(""))(
      "entry", "state_dict under this top-level key", cxxopts::value<std::string>()->default_value(""))("h,help", "this help");
  options.parse_positional({"in", "out"});
  const auto args = options.parse(argc, argv);
  if (args.count("help") || !args.count("in") || !args.count("out")) {
    std::cout << options.help() << "\n";
    return args.count("help") ? kOk : kUsage;
  }
  const std::string in = args["in"].as<std::string>();
  const std::string out = args["out"].as<std::string>();
  LoadWeightsOptions lo;
  lo.strip_prefix = args["strip-prefix"].as<std::string>();
  lo.entry = args["entry"].as<std::string>();
  const std::string ext = std::filesystem::path(out).extension().string();
  if (ext != ".safetensors" && ext != ".pt" && ext != ".pth" && ext != ".bin") {
    std::cerr << "error: " << out << ": the output must end in .safetensors, .pt, .pth or .bin\n";
    return kUsage;
  }
  const TensorMap tensors = load_weights(in, lo);
  if (ext == ".safetensors") save_safetensors(tensors, out, {{"format", "pt"}, {"converted_from", std::filesystem::path(in).filename().string()}});
  else save_torch(tensors, out);
  std::cout << "wrote " << tensors.size() << " tensors to " << out << "\n";
  return kOk;
}

}  // namespace prismer::cli
