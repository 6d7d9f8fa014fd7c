// How the OpenMP workers behind LibTorch wait between parallel regions.
#pragma once

#include <prismer/export.h>

namespace prismer {

/// Makes this process's OpenMP workers sleep instead of spin while they wait (OMP_WAIT_POLICY=PASSIVE), unless the
/// user chose a policy. libgomp reads the variable once, when it is loaded — before main() runs — so when it is unset
/// the process sets it and replaces itself with a fresh copy (execv of /proc/self/exe with the same arguments); if
/// that fails it carries on unchanged. Call first thing in main(). Why: on a few cores, spinning workers competed with
/// OpenBLAS's threads and with each other (libgomp spin + sched_yield were ~40 % of a decode step): the BASE train step
/// took 8.4 s instead of 4.9 s and caption generation 9.1 s instead of 4.8 s on 2 cores.
PRISMER_API void use_passive_openmp(char** argv);

}  // namespace prismer
