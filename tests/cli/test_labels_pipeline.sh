#!/usr/bin/env bash
# `prismer run` with a labels pipeline: writes labels in the Prismer layout, skips them on a second run,
# survives corrupt images, and refuses bad pipelines with file:line:column, status 2 and no output.
set -uo pipefail
prismer=$1
source "$(dirname "$0")/testlib.sh"

"$prismer" synth-images "$tmp/images" --count 5 >/dev/null
# A truncated JPEG and a file that is no image at all: reported, counted, never fatal.
head -c 400 "$tmp/images/synthetic_0.jpg" >"$tmp/images/corrupt.jpg"
echo "garbage" >"$tmp/images/nested/garbage.png"

pipeline() {  # pipeline FILE OUTPUT [extra yaml lines]
  cat >"$1" <<YAML
pipeline: labels
output: $2
batch_size: 2
dataset:
  plugin: image_folder
  root: $tmp/images
  name: demo
experts:
  - plugin: classical_edge
    method: canny
$3
YAML
}

pipeline "$tmp/labels.yaml" "$tmp/labels" ""
expect_status "first run labels every good image" 0 "5 labelled, 0 already complete, 2 bad" "$prismer" run "$tmp/labels.yaml"
count=$(find "$tmp/labels/edge/demo" -name '*.png' -size +0 | wc -l)
[ "$count" -eq 5 ] && ok "5 label files in <output>/edge/demo/" || bad "found $count label files"
[ -f "$tmp/labels/edge/demo/corrupt.png" ] && [ ! -s "$tmp/labels/edge/demo/corrupt.png" ] &&
  ok "an empty placeholder label for a bad image" || bad "no placeholder for corrupt.jpg"
[ -f "$tmp/labels/edge/demo/nested/synthetic_1.png" ] && ok "sub-folders kept in the layout" || bad "nested layout"
grep -q "corrupt.jpg" "$tmp/out" && grep -q "garbage.png" "$tmp/out" && ok "bad images named" || bad "bad images not named"
find "$tmp/labels" -name '*.tmp*' | grep -q . && bad "temporary files left" || ok "no temporary files left"

expect_status "second run skips everything" 0 "0 labelled, 5 already complete" "$prismer" run "$tmp/labels.yaml"
rm "$tmp/labels/edge/demo/synthetic_2.png"
printf 'half a png' >"$tmp/labels/edge/demo/synthetic_4.png"
expect_status "a missing and a corrupt label are redone" 0 "2 labelled, 3 already complete" "$prismer" run "$tmp/labels.yaml"
expect_status "--set overrides" 0 "5 labelled" "$prismer" run "$tmp/labels.yaml" --set output="$tmp/labels2" --set experts.0.method=sobel
expect_status "--dry-run writes nothing" 0 "dry run" "$prismer" run "$tmp/labels.yaml" --dry-run --set output="$tmp/dry"
[ ! -e "$tmp/dry" ] && ok "dry run left no folder" || bad "dry run wrote $tmp/dry"

# Invalid pipelines: status 2, file:line:column, key path, nothing written.
pipeline "$tmp/unknown_key.yaml" "$tmp/never" "    treshold: 3"
expect_status "unknown expert key" 2 "unknown_key.yaml:11:5: experts\[0\].treshold: unknown key 'treshold'" "$prismer" run "$tmp/unknown_key.yaml"
pipeline "$tmp/wrong_type.yaml" "$tmp/never" "batch_size_typo: 1"
expect_status "unknown top-level key" 2 "wrong_type.yaml:11:1: batch_size_typo: unknown key" "$prismer" run "$tmp/wrong_type.yaml"
sed 's/batch_size: 2/batch_size: many/' "$tmp/labels.yaml" | sed "s#$tmp/labels#$tmp/never#" >"$tmp/type.yaml"
expect_status "wrong type" 2 "type.yaml:3:13: batch_size: expected an integer, got 'many'" "$prismer" run "$tmp/type.yaml"
sed "s#root: $tmp/images#root: $tmp/missing_folder#" "$tmp/labels.yaml" | sed "s#$tmp/labels#$tmp/never#" >"$tmp/missing.yaml"
expect_status "missing folder" 2 "missing.yaml:6:9: dataset.root: folder '.*missing_folder' does not exist" "$prismer" run "$tmp/missing.yaml"
sed 's/plugin: classical_edge/plugin: no_such_expert/' "$tmp/labels.yaml" | sed "s#$tmp/labels#$tmp/never#" >"$tmp/plugin.yaml"
expect_status "unknown plugin" 2 "plugin.yaml:9:13: experts\[0\].plugin: unknown expert plugin 'no_such_expert'" "$prismer" run "$tmp/plugin.yaml"
printf 'pipeline: labels\noutput: [unclosed\n' >"$tmp/syntax.yaml"
expect_status "YAML syntax error" 2 "syntax.yaml:[0-9]+:[0-9]+: invalid YAML" "$prismer" run "$tmp/syntax.yaml"
expect_status "missing pipeline file" 2 "nope.yaml: cannot open" "$prismer" run "$tmp/nope.yaml"
printf 'pipeline: nonsense\n' >"$tmp/kind.yaml"
expect_status "unknown pipeline kind" 2 "kind.yaml:1:11: pipeline: unknown pipeline 'nonsense'" "$prismer" run "$tmp/kind.yaml"
[ ! -e "$tmp/never" ] && ok "invalid pipelines wrote nothing" || bad "an invalid pipeline wrote $tmp/never"

finish
