/// @file
/// The `prismer download` and `prismer zoo` subcommands. Each takes the arguments after `prismer`
/// (argv[0] is the subcommand name) and returns 0 on success, 1 on failure, 2 on bad usage.
#pragma once

namespace prismer::zoo {

/// `prismer download [--models NAME...|--all-models] [--experts] [--aux] [--dir DIR] [--mirror URL]
/// [--force] [--manifest FILE] [--retries N] [--retry-delay S] [--no-progress]`.
int run_download_command(int argc, char** argv);

/// `prismer zoo list [--dir DIR] [--kind K] [--json]` and `prismer zoo verify [NAME...] [--dir DIR]`.
int run_zoo_command(int argc, char** argv);

}  // namespace prismer::zoo
