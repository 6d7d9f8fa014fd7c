#!/usr/bin/env bash
# The `prismer` command end to end: version, plugins list/validate, inspect/convert, score, bad input.
set -uo pipefail
prismer=$1
bin_dir=${PRISMER_BINARY_DIR:?}
fixtures=${PRISMER_FIXTURES:-../shared/fixtures}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
check() {  # check NAME COMMAND... : the command must succeed
  local name=$1; shift
  if "$@" >"$tmp/out" 2>&1; then passed=$((passed + 1)); echo "PASS $name"
  else failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/    /' "$tmp/out"; fi
}
expect_status() {  # expect_status NAME STATUS PATTERN COMMAND... : exit status and a pattern in the output
  local name=$1 want=$2 pattern=$3; shift 3
  "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [ "$rc" -eq "$want" ] && grep -qE -- "$pattern" "$tmp/out"; then passed=$((passed + 1)); echo "PASS $name"
  else failed=$((failed + 1)); echo "FAIL $name (status $rc, wanted $want and /$pattern/)"; sed 's/^/    /' "$tmp/out"; fi
}

expect_status "--version" 0 "plugin API [0-9]+, LibTorch" "$prismer" --version
expect_status "unknown command" 2 "unknown command 'bogus'" "$prismer" bogus
expect_status "no command" 2 "usage: prismer" "$prismer"

expect_status "plugins list" 0 "image_folder +dataset" "$prismer" plugins list
expect_status "plugins list --kind expert" 0 "classical_edge +expert" "$prismer" plugins list --kind expert
check "plugins list --json is JSON" bash -c "'$prismer' plugins list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert {p[\"name\"] for p in d} >= {\"image_folder\", \"classical_edge\"}'"
expect_status "plugins list --kind bogus" 2 "must be expert" "$prismer" plugins list --kind bogus

# The command's validate path for one plugin of each kind (test_plugin_registry runs the same conformance checks on
# every built plugin; the big experts take minutes there, so they are not repeated here).
for name in classical_edge image_folder caption vqa prismer; do
  expect_status "plugins validate $name" 0 "[0-9]+ passed, 0 failed" "$prismer" plugins validate "$name"
done
api=$("$prismer" --version | sed -n 's/.*plugin API \([0-9]*\).*/\1/p')  # the bad plugin reports api + 41
expect_status "validate: wrong API version" 1 "FAIL +load: .*wrong plugin API version: got $((api + 41)), supported $api" \
  "$prismer" plugins validate "$bin_dir/tests/bad_plugins/prismer-plugin-bad_abi_plugin.so"
expect_status "validate: no entry point" 1 "FAIL +load: .*not a Prismer plugin" \
  "$prismer" plugins validate "$bin_dir/tests/bad_plugins/prismer-plugin-no_entry_plugin.so"
printf 'not a library' >"$tmp/junk.so"
expect_status "validate: not a library" 1 "FAIL +load: .*cannot load the library" "$prismer" plugins validate "$tmp/junk.so"
expect_status "validate: unknown name" 1 "unknown plugin 'nope'" "$prismer" plugins validate nope
expect_status "validate: failing check" 1 "FAIL +construct: .*no_such_dir' does not exist" \
  "$prismer" plugins validate image_folder --set root=/no_such_dir

sd="$fixtures/prismer/prismerz_rgb/state_dict.pt"
expect_status "inspect official-format state_dict" 0 "parameters: [0-9]+" "$prismer" inspect "$sd"
check "inspect --json" bash -c "'$prismer' inspect --json '$sd' | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"format\"]==\"torch.save zip archive\" and len(d[\"tensors\"])>10'"
expect_status "convert to safetensors" 0 "wrote [0-9]+ tensors" "$prismer" convert "$sd" "$tmp/sd.safetensors"
expect_status "convert back to torch.save" 0 "wrote [0-9]+ tensors" "$prismer" convert "$tmp/sd.safetensors" "$tmp/sd.pt"
check "Python's pickle+zipfile read our torch.save file" python3 tests/cli/check_torch_zip.py "$tmp/sd.pt" "$tmp/sd.safetensors"
expect_status "convert --strip-prefix module." 0 "wrote" "$prismer" convert "$fixtures/pickles/legacy_wrapped.pt" "$tmp/w.safetensors" --strip-prefix module.
check "stripped keys" bash -c "! '$prismer' inspect '$tmp/w.safetensors' | grep -q 'module\.'"
expect_status "inspect truncated zip" 1 "truncated_zip.pt: not a readable torch zip archive" "$prismer" inspect "$fixtures/pickles/truncated_zip.pt"
expect_status "inspect truncated legacy" 1 "truncated_legacy.pth: .*truncated" "$prismer" inspect "$fixtures/pickles/truncated_legacy.pth"
expect_status "inspect missing file" 1 "absent.pt: no such file" "$prismer" inspect "$tmp/absent.pt"
expect_status "convert to unknown extension" 2 "must end in .safetensors" "$prismer" convert "$sd" "$tmp/x.txt"
check "no partial output" bash -c "! ls '$tmp' | grep -q '\.tmp'"

expect_status "zoo: a missing checkpoint names the download command" 1 \
  "checkpoint: .*prismer download --models caption_prismer_base" \
  env PRISMER_ZOO_DIR="$tmp/models" "$prismer" plugins validate prismer --set checkpoint=zoo:caption_prismer_base
expect_status "zoo list works offline" 0 "caption_prismer_base" "$prismer" zoo list --dir "$tmp/models"

gts="$fixtures/metrics/coco_caption/gts.json"
res="$fixtures/metrics/coco_caption/results_model_a.json"
expect_status "score caption" 0 "CIDEr" "$prismer" score caption --annotations "$gts" --results "$res"
expect_status "score caption: missing file" 2 "nope.json" "$prismer" score caption --annotations "$gts" --results "$tmp/nope.json"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
