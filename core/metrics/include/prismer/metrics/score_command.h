/// \file score_command.h
/// The `score` command line:
///   score caption --annotations GT.json --results RES.json [--per-image OUT.json] [--json]
///   score vqa --annotations A.json --questions Q.json --results RES.json [--per-question OUT.json] [--json]
#pragma once

namespace prismer::metrics {

/// Runs the command; argv[0] is "score", argv[1] the sub-command. Prints a table (or JSON with --json) on
/// stdout and writes the per-image / per-question file atomically. Returns 0 on success, 2 on usage or
/// input errors (one line on stderr naming the file and the problem).
int run_score_command(int argc, char** argv);

}  // namespace prismer::metrics
