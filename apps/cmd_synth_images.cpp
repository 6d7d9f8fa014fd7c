// `prismer synth-images DIR`: a few synthetic photos, so demos and tests need no downloads.
#include "commands.h"

#include <prismer/core/conformance.h>

#include <cxxopts.hpp>

#include <iostream>

namespace prismer::cli {

int synth_images_command(int argc, char** argv) {
  cxxopts::Options options("prismer synth-images", "Write synthetic images (coloured shapes on gradients)");
  options.positional_help("DIR");
  options.add_options()("dir", "output folder", cxxopts::value<std::string>())(
      "count", "how many", cxxopts::value<int>()->default_value("6"))("seed", "random seed", cxxopts::value<unsigned>()->default_value("0"))(
      "h,help", "this help");
  options.parse_positional({"dir"});
  const auto args = options.parse(argc, argv);
  if (args.count("help") || !args.count("dir")) {
    std::cout << options.help() << "\n";
    return args.count("help") ? kOk : kUsage;
  }
  const int count = args["count"].as<int>();
  if (count <= 0) {
    std::cerr << "error: --count must be positive\n";
    return kUsage;
  }
  const auto paths = write_synthetic_images(args["dir"].as<std::string>(), count, args["seed"].as<unsigned>());
  std::cout << "wrote " << paths.size() << " images under " << args["dir"].as<std::string>() << "\n";
  return kOk;
}

}  // namespace prismer::cli
