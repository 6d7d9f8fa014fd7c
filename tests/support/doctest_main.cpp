// The one doctest main shared by every test executable.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <prismer/core/openmp_policy.h>

int main(int argc, char** argv) {
  // as the prismer command does: on few cores, spinning OpenMP workers made the big experts' tests 2-3x slower
  prismer::use_passive_openmp(argv);
  return doctest::Context(argc, argv).run();
}
