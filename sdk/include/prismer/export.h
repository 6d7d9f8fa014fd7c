// Symbol visibility for the Prismer SDK.
//
// Everything is compiled with hidden visibility; the SDK's classes and functions are exported from
// libprismer_core with PRISMER_API, so their type information (and so dynamic_cast and exceptions)
// is one and the same in the core, the `prismer` command and every plugin.
#pragma once

#define PRISMER_API __attribute__((visibility("default")))
