// The `prismer` subcommands; each takes the arguments after `prismer` (argv[0] is the subcommand) and
// returns the exit status: 0 success, 1 failure, 2 bad usage or configuration.
#pragma once

namespace prismer::cli {

int plugins_command(int argc, char** argv);
int run_command(int argc, char** argv);
int inspect_command(int argc, char** argv);
int convert_command(int argc, char** argv);
int synth_images_command(int argc, char** argv);
int tokenizer_command(int argc, char** argv);
int launch_command(int argc, char** argv);
int visualize_command(int argc, char** argv);  // only with PRISMER_WITH_OPENCV

/// Exit statuses shared by every subcommand.
constexpr int kOk = 0;
constexpr int kFailure = 1;
constexpr int kUsage = 2;

}  // namespace prismer::cli
