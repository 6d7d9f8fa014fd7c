// `prismer run PIPELINE.yaml`.
#include "commands.h"
#include "demo_pipeline.h"
#include "set_option.h"

#include <prismer/core/pipeline.h>
#include <prismer/engine/pipelines.h>

#include <cxxopts.hpp>

#include <iostream>

namespace prismer::cli {

int run_command(int argc, char** argv) {
  cxxopts::Options options("prismer run", "Validate a pipeline YAML, compose it from plugins and run it");
  options.positional_help("PIPELINE.yaml");
  options.add_options()("pipeline", "pipeline file", cxxopts::value<std::string>())(
      "set", "key.path=value overriding the file (repeatable)", cxxopts::value<std::vector<std::string>>())(
      "dry-run", "validate and print the plan; write nothing")(
      "rank", "this process's rank when several share the work (default $RANK, else 0)", cxxopts::value<int>())(
      "world-size", "how many processes share the work (default $WORLD_SIZE, else 1)", cxxopts::value<int>())(
      "h,help", "this help");
  options.parse_positional({"pipeline"});
  const auto args = options.parse(argc, argv);
  if (args.count("help") || !args.count("pipeline")) {
    std::cout << options.help() << "\n";
    return args.count("help") ? kOk : kUsage;
  }
  RunOptions run;
  run.dry_run = args.count("dry-run") > 0;
  if (args.count("rank")) run.rank = args["rank"].as<int>();
  if (args.count("world-size")) run.world_size = args["world-size"].as<int>();
  if (args.count("set")) run.overrides = parse_set_options(args["set"].as<std::vector<std::string>>());
  engine::register_pipelines();  // train / evaluate live in prismer_engine, above core
  engine::register_quickstart_pipeline();
  register_demo_pipeline();
  return run_pipeline_file(args["pipeline"].as<std::string>(), run);
}

}  // namespace prismer::cli
