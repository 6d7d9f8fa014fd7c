#!/usr/bin/env bash
# The GPU check, as one command on a lent device machine (see the device tool's README): unpack the Debian
# packages carried in .deb/ (this project's dependencies, not on that machine), build the backbone benchmark
# and parity test against the machine's CUDA LibTorch (python3's torch), run the parity test (CPU), compare
# the CUDA model with the CPU one, and time the encoder and decoding on the GPU.
#
#   prepare here:  mkdir .deb && (cd .deb && apt-get download <packages below>)
#                  copy the needed fixture folders to .gpu_fixtures/prismer/
#   run there:     bash bench/gpu/device_check.sh      (carry: .deb, .gpu_fixtures)
# Packages: libyaml-cpp-dev libyaml-cpp0.7 libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 libcxxopts-dev
#   nlohmann-json3-dev libboost1.74-dev libboost-filesystem1.74-dev libboost-filesystem1.74.0
#   libboost-atomic1.74.0 libboost-atomic1.74-dev libboost-system1.74-dev libboost-system1.74.0 doctest-dev
#   libicu-dev libicu72 libxml2-dev libxml2 zlib1g-dev
set -uo pipefail
out=${OUT:-/tmp/device-check}
mkdir -p "$out"
deps=/tmp/deps
mkdir -p "$deps"
for f in .deb/*.deb; do dpkg -x "$f" "$deps"; done
libdir=$deps/usr/lib/x86_64-linux-gnu
# zlib's development link is absolute and points at Debian's file name: point it at this machine's libz.
sysz=$(ls /usr/lib/x86_64-linux-gnu/libz.so.1 /lib/x86_64-linux-gnu/libz.so.1 2>/dev/null | head -n 1)
[ -n "$sysz" ] && ln -sf "$sysz" "$libdir/libz.so"
export CPATH=$deps/usr/include
export LD_LIBRARY_PATH=$libdir:${LD_LIBRARY_PATH:-}
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' | tee "$out/versions.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm --format=csv | tee -a "$out/versions.txt"

build() {  # build STANDARD
  cmake -G Ninja -S . -B /tmp/build -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_STANDARD="$1" -DPRISMER_WITH_OPENCV=OFF \
    -DPRISMER_WITH_ZOO=OFF -DCMAKE_PREFIX_PATH="$torch_prefix;$deps/usr" >"$out/configure.log" 2>&1 || return 1
  cmake --build /tmp/build -j "$(nproc)" --target bench_backbone test_prismer_parity >"$out/build.log" 2>&1
}
start=$(date +%s)
if ! build 17; then
  echo "C++17 build failed; retrying with C++20"; grep -m 20 -E "error" "$out/build.log" "$out/configure.log"
  rm -rf /tmp/build
  build 20 || { tail -n 30 "$out/configure.log"; grep -m 40 -E "error" "$out/build.log"; exit 1; }
fi
echo "build: $(( $(date +%s) - start )) s"
PRISMER_FIXTURES=$PWD/.gpu_fixtures CI=true /tmp/build/bin/test_prismer_parity >"$out/parity.log" 2>&1
echo "parity test exit status $?"
grep -E "largest error|cached vs|Status|test cases" "$out/parity.log"
/tmp/build/bin/bench_backbone --device cuda 2>&1 | tee "$out/bench_cuda.txt"
