# Warnings for the project's own targets (not applied to third-party headers, which come in as SYSTEM).
add_library(prismer_warnings INTERFACE)
target_compile_options(prismer_warnings INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
