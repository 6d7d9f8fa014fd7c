// `prismer visualize LABEL_ROOT IMAGE...`: one picture per image with the photo and every expert label found for it
// side by side (label_picture.h).
#include "commands.h"
#include "label_picture.h"

#include <cxxopts.hpp>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace prismer::cli {

namespace fs = std::filesystem;

int visualize_command(int argc, char** argv) {
  cxxopts::Options options("prismer visualize", "Pictures of every expert label of some images, side by side");
  options.positional_help("LABEL_ROOT IMAGE...");
  options.add_options()("label_root", "the labels folder (<expert>/<dataset>/...)", cxxopts::value<std::string>())(
      "images", "image files", cxxopts::value<std::vector<std::string>>())(
      "out", "output folder", cxxopts::value<std::string>()->default_value("label_pictures"))("h,help", "this help");
  options.parse_positional({"label_root", "images"});
  const auto args = options.parse(argc, argv);
  if (args.count("help") || !args.count("label_root") || !args.count("images")) {
    std::cout << options.help() << "\n";
    return args.count("help") ? kOk : kUsage;
  }
  const fs::path root = args["label_root"].as<std::string>();
  if (!fs::is_directory(root)) {
    std::cerr << "error: " << root.string() << ": label folder does not exist\n";
    return kUsage;
  }
  const fs::path out_dir = args["out"].as<std::string>();

  int failures = 0, written = 0;
  for (const std::string& image_path : args["images"].as<std::vector<std::string>>()) {
    try {
      const fs::path target = out_dir / (fs::path(image_path).stem().string() + "_labels.png");
      const int found = write_label_picture(root, image_path, target);
      std::cout << target.string() << ": " << found << " expert label" << (found == 1 ? "" : "s") << "\n";
      ++written;
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      ++failures;
    }
  }
  std::cout << written << " pictures written to " << out_dir.string() << (failures ? ", " : "")
            << (failures ? std::to_string(failures) + " images failed" : std::string()) << "\n";
  return failures ? kFailure : kOk;
}

}  // namespace prismer::cli
