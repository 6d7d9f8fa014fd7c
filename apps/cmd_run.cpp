// `prismer run PIPELINE.yaml`.
#include "commands.h"
#include "set_option.h"

#include <prismer/core/pipeline.h>

#include <cxxopts.hpp>

#include <iostream>

namespace prismer::cli {

int run_command(int argc, char** argv) {
  cxxopts::Options options("prismer run", "Validate a pipeline YAML, compose it from plugins and run it");
  options.positional_help("PIPELINE.yaml");
  options.add_options()("pipeline", "pipeline file", cxxopts::value<std::string>())(
      "set", "key.path=value overriding the file (repeatable)", cxxopts::value<std::vector<std::string>>())(
      "dry-run", "validate and print the plan; write nothing")("h,help", "this help");
  options.parse_positional({"pipeline"});
  const auto args = options.parse(argc, argv);
  if (args.count("help") || !args.count("pipeline")) {
    std::cout << options.help() << "\n";
    return args.count("help") ? kOk : kUsage;
  }
  RunOptions run;
  run.dry_run = args.count("dry-run") > 0;
  if (args.count("set")) run.overrides = parse_set_options(args["set"].as<std::vector<std::string>>());
  return run_pipeline_file(args["pipeline"].as<std::string>(), run);
}

}  // namespace prismer::cli
