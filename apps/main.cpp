// prismer: the command line of Prismer C++.
#include "commands.h"

#include <prismer/config.h>
#include <prismer/core/cpu_allocator.h>
#include <prismer/core/openmp_policy.h>
#include <prismer/core/plugin_registry.h>
#include <prismer/metrics/score_command.h>
#include <prismer/zoo/commands.h>

#include <torch/version.h>

#include <cxxopts.hpp>

#include <cstring>
#include <iostream>
#include <string>

namespace {

const char* kUsageText = R"(usage: prismer <command> [options]

commands:
  run PIPELINE.yaml [--set key.path=value ...] [--dry-run] [--rank R --world-size N]
                          validate a pipeline, compose it from plugins and run it
  launch --nproc N [--master-port P] -- <command...>
                          run N local processes of a command as one data-parallel group (torchrun-style)
  plugins list [--kind K] [--json]
                          every plugin found, with kind, version, file and summary
  plugins validate NAME|FILE [--set key=value ...] [--backbone NAME]
                          run the conformance checks for the plugin's kind
  inspect FILE [--json]   keys, shapes, dtypes and parameter count of a weight file
  convert IN OUT [--strip-prefix P] [--entry KEY]
                          rewrite a weight file as safetensors (OUT.safetensors) or torch.save (OUT.pt/.bin)
  score caption|vqa ...   official caption (BLEU, ROUGE-L, CIDEr-D) and VQA accuracy metrics
  download [--models NAME...|--all-models] [--experts] [--aux] [--dir DIR] [--mirror URL] [--force]
                          fetch official checkpoints, expert weights and auxiliary files (resumable, verified)
  zoo list|verify [--dir DIR]
                          what the model zoo knows and has; check downloaded files' sizes and SHA-256
  synth-images DIR [--count N] [--seed S]
                          write a few synthetic images (for demos and tests)
  visualize LABEL_ROOT IMAGE... [--out DIR]
                          a picture per image with every expert label found for it, side by side
  tokenizer train FILE... --out DIR [--vocab-size N] [--min-frequency K]
                          a byte-level BPE vocabulary (vocab.json + merges.txt) from text files
  --version               versions of prismer, the plugin API and LibTorch
  help                    this text

Plugins are searched in build/plugins (next to the executable), the install folder,
$PRISMER_PLUGIN_PATH (colon-separated) and a pipeline's plugin_paths.
Exit status: 0 success, 1 failure, 2 bad usage or configuration.
)";

}  // namespace

int main(int argc, char** argv) {
  prismer::use_passive_openmp(argv);  // see openmp_policy.h: spinning OpenMP workers slowed every step on few cores
  if (argc < 2) {
    std::cerr << kUsageText;
    return prismer::cli::kUsage;
  }
  const std::string command = argv[1];
  prismer::install_caching_cpu_allocator();  // see cpu_allocator.h: activations are not page-faulted in again
  if (command == "--version" || command == "version") {
    std::cout << "prismer " << PRISMER_VERSION << " (plugin API " << PRISMER_PLUGIN_API_VERSION << ", LibTorch "
              << TORCH_VERSION << ")\n";
    return prismer::cli::kOk;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << kUsageText;
    return prismer::cli::kOk;
  }
  try {
    if (command == "plugins") return prismer::cli::plugins_command(argc - 1, argv + 1);
    if (command == "run") return prismer::cli::run_command(argc - 1, argv + 1);
    if (command == "inspect") return prismer::cli::inspect_command(argc - 1, argv + 1);
    if (command == "convert") return prismer::cli::convert_command(argc - 1, argv + 1);
    if (command == "score") return prismer::metrics::run_score_command(argc - 1, argv + 1);
    if (command == "download") return prismer::zoo::run_download_command(argc - 1, argv + 1);
    if (command == "zoo") return prismer::zoo::run_zoo_command(argc - 1, argv + 1);
    if (command == "synth-images") return prismer::cli::synth_images_command(argc - 1, argv + 1);
    if (command == "tokenizer") return prismer::cli::tokenizer_command(argc - 1, argv + 1);
    if (command == "launch") return prismer::cli::launch_command(argc - 1, argv + 1);
#ifdef PRISMER_HAVE_OPENCV
    if (command == "visualize") return prismer::cli::visualize_command(argc - 1, argv + 1);
#endif
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << "error: " << e.what() << " (see 'prismer help')\n";
    return prismer::cli::kUsage;
  } catch (const prismer::ConfigError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return prismer::cli::kUsage;
  } catch (const prismer::PluginError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return prismer::cli::kUsage;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return prismer::cli::kFailure;
  }
  std::cerr << "prismer: unknown command '" << command << "'\n\n" << kUsageText;
  return prismer::cli::kUsage;
}
