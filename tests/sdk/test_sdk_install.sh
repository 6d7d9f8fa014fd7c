#!/usr/bin/env bash
# Installs the build to a temporary prefix, builds sdk/examples/threshold_edge there with only
# find_package(PrismerSDK), and checks that the installed `prismer` validates and lists it.
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== install to $tmp/prefix"
cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
test -x "$tmp/prefix/bin/prismer"
test -f "$tmp/prefix/include/prismer/plugin.h"
test -f "$tmp/prefix/lib/cmake/PrismerSDK/PrismerSDKConfig.cmake"
ls "$tmp/prefix/lib/prismer/plugins/" | grep -q "prismer-plugin-image_folder.so"
if ls "$tmp/prefix/lib/prismer/plugins/" | grep -q bad_; then echo "FAIL: test-only plugins were installed"; exit 1; fi

echo "== build the out-of-tree example against the installed SDK"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -G Ninja -S "$src/sdk/examples/threshold_edge" -B "$tmp/example" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" "${launcher[@]}" >"$tmp/configure.log" || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/example" >"$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
plugin="$tmp/example/prismer-plugin-threshold_edge.so"
test -f "$plugin"

echo "== validate the example with the installed prismer"
"$tmp/prefix/bin/prismer" plugins validate "$plugin"

echo "== the installed prismer finds installed and PRISMER_PLUGIN_PATH plugins"
listing=$(PRISMER_PLUGIN_PATH="$tmp/example" "$tmp/prefix/bin/prismer" plugins list)
echo "$listing"
echo "$listing" | grep -q "threshold_edge"
echo "$listing" | grep -q "image_folder"
echo "1 passed, 0 failed"
