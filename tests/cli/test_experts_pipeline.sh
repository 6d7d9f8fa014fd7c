#!/usr/bin/env bash
# The expert labels pipeline with a neural expert (DexiNed `edge`, seeded random weights) next to a classical one:
# labels written in the layout, a second run skips everything and says so, a corrupt JPEG is reported, counted and
# gets placeholder labels without stopping the run, ranks split the work, configs/experts.yaml validates, and
# `prismer visualize` draws a picture per image.
set -uo pipefail
prismer=$1
source "$(dirname "$0")/testlib.sh"

"$prismer" synth-images "$tmp/images" --count 3 >/dev/null
head -c 400 "$tmp/images/synthetic_0.jpg" >"$tmp/images/corrupt.jpg"

cat >"$tmp/experts.yaml" <<YAML
pipeline: labels
output: $tmp/labels
batch_size: 2
threads: 2
dataset:
  plugin: image_folder
  root: $tmp/images
  name: demo
experts:
  - plugin: edge
    weights: random
  - plugin: classical_edge
    label_name: canny
YAML

expect_status "first run: 3 labelled, the corrupt JPEG reported" 0 "3 labelled, 0 already complete, 1 bad" \
  "$prismer" run "$tmp/experts.yaml"
grep -q "corrupt.jpg" "$tmp/out" && ok "the bad image is named" || bad "the bad image is not named"
grep -qE "images/s" "$tmp/out" && ok "progress shows images/s" || bad "no progress rate"
count=$(find "$tmp/labels/edge/demo" -name '*.png' -size +0 | wc -l)
[ "$count" -eq 3 ] && ok "3 edge labels in <output>/edge/demo/" || bad "found $count non-empty edge labels"
[ -f "$tmp/labels/edge/demo/nested/synthetic_1.png" ] && ok "sub-folders kept" || bad "nested layout"
is_png "$tmp/labels/edge/demo/synthetic_0.png" && ok "edge labels are PNGs" || bad "edge label is not a PNG"
[ -f "$tmp/labels/edge/demo/corrupt.png" ] && [ ! -s "$tmp/labels/edge/demo/corrupt.png" ] &&
  [ -f "$tmp/labels/canny/demo/corrupt.png" ] && ok "placeholder labels for the corrupt image" || bad "no placeholders"
find "$tmp/labels" -name '*.tmp*' | grep -q . && bad "temporary files left" || ok "no temporary files left"

expect_status "second run skips everything and says so" 0 "nothing to do" "$prismer" run "$tmp/experts.yaml"
grep -q "0 labelled, 3 already complete, 1 bad" "$tmp/out" && ok "second run counts" || bad "second run counts"
rm "$tmp/labels/canny/demo/synthetic_2.png"
expect_status "only the missing label is recomputed" 0 "1 labelled, 2 already complete" "$prismer" run "$tmp/experts.yaml"

# Two ranks split the folder: disjoint shards that together cover it.
shard_yaml() { sed -e "s#$tmp/labels#$tmp/shards#" -e '/plugin: edge/,/weights: random/d' "$tmp/experts.yaml"; }
shard_yaml >"$tmp/shards.yaml"
expect_status "rank 0 of 2" 0 "rank 0 of 2 \(2 of 4 images\)" "$prismer" run "$tmp/shards.yaml" --rank 0 --world-size 2
expect_status "rank 1 of 2 (from RANK/WORLD_SIZE)" 0 "rank 1 of 2 \(2 of 4 images\)" env RANK=1 WORLD_SIZE=2 "$prismer" run "$tmp/shards.yaml"
count=$(find "$tmp/shards/canny/demo" -name '*.png' -size +0 | wc -l)
[ "$count" -eq 3 ] && ok "the shards cover every good image" || bad "shards wrote $count labels"
expect_status "rank outside the world" 2 "rank 2 is outside 0..1" "$prismer" run "$tmp/shards.yaml" --rank 2 --world-size 2

# The shipped configs/experts.yaml is a valid pipeline (with random weights standing in for the downloads).
# Every expert the file lists gets `weights: random`, whatever their number and order.
listed=$(sed -n 's/^  - plugin: *\([A-Za-z0-9_]*\).*/\1/p' configs/experts.yaml)
unbuilt=""
random_weights=()
i=0
for p in $listed; do
  "$prismer" plugins list --kind expert | grep -q "^$p " || unbuilt="$unbuilt $p"
  random_weights+=(--set "experts.$i.weights=random")
  # the OCR expert's other downloads: CLIP text tower, PCA, CLIP BPE, lexicon
  [ "$p" = ocr_detection ] && random_weights+=(--set "experts.$i.clip=random" --set "experts.$i.pca=random"
                                             --set "experts.$i.bpe=\"\"" --set "experts.$i.lexicon=\"\"")
  i=$((i + 1))
done
if [ -z "$unbuilt" ]; then
  expect_status "configs/experts.yaml validates" 0 "dry run" "$prismer" run configs/experts.yaml --dry-run \
    "${random_weights[@]}" --set dataset.root="$tmp/images" --set device=cpu
else
  echo "SKIP configs/experts.yaml validates (plugins not built:$unbuilt)"
fi

expect_status "visualize writes a picture per image" 0 "2 pictures written" "$prismer" visualize "$tmp/labels" \
  "$tmp/images/synthetic_0.jpg" "$tmp/images/nested/synthetic_1.jpg" --out "$tmp/vis"
grep -q "2 expert labels" "$tmp/out" && ok "visualize finds both experts' labels" || bad "visualize label count"
is_png "$tmp/vis/synthetic_0_labels.png" && is_png "$tmp/vis/synthetic_1_labels.png" && ok "pictures are PNGs" ||
  bad "pictures missing"
expect_status "visualize: a missing image fails" 1 "nope.jpg" "$prismer" visualize "$tmp/labels" "$tmp/nope.jpg" --out "$tmp/vis"

finish
