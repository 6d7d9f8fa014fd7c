#!/usr/bin/env bash
# The demo pipeline (configs/demo.yaml) end to end on shared photos with seeded random weights: all six experts'
# labels in one process, captions from a (tiny, untrained) Prismer, <output>/captions/<image>.txt as demo.py writes
# them, a label picture per image, a rerun that reuses the labels, and the validator's refusals (PrismerZ with expert
# inputs, a backbone expert no listed expert produces, a missing folder). The captions of random weights are
# meaningless; what is checked is that every promised file is there and well-formed.
set -uo pipefail
prismer=$1
fixtures=${PRISMER_FIXTURES:-$(pwd)/../shared/fixtures}
images=${PRISMER_IMAGES:-$fixtures/../images}
source "$(dirname "$0")/testlib.sh"

for need in "$images" "$fixtures/data/transform_eval/features" "$fixtures/tokenizer/clip/bpe_simple_vocab_16e6.txt.gz"; do
  if [ ! -e "$need" ]; then
    echo "missing fixture: $need"
    if [ "${CI:-}" = "true" ]; then exit 1; fi
    echo "SKIP demo test (set PRISMER_FIXTURES / PRISMER_IMAGES)"; exit 0
  fi
done
# Two of the photos (every expert runs at full size on CPU: about a minute per photo), the second in a sub-folder so
# that relative paths are kept; PRISMER_DEMO_PHOTOS=all takes every photo.
mkdir -p "$tmp/photos/more"
mapfile -t photos < <(cd "$images" && ls | grep -iE '\.(jpg|jpeg|png)$' | sort)
if [ "${PRISMER_DEMO_PHOTOS:-2}" != "all" ]; then photos=("${photos[@]:0:${PRISMER_DEMO_PHOTOS:-2}}"); fi
rels=()
for i in "${!photos[@]}"; do
  rel=${photos[$i]}
  if [ "$i" -eq 1 ]; then rel="more/$rel"; fi
  cp "$images/${photos[$i]}" "$tmp/photos/$rel"
  rels+=("${rel%.*}")
done
count=${#rels[@]}
echo "demo on $count photos from $images: ${rels[*]}"

cat >"$tmp/demo.yaml" <<YAML
pipeline: demo
images: $tmp/photos
name: photos
output: $tmp/demo
threads: 2
batch_size: 2
features_dir: $fixtures/data/transform_eval/features
experts:
  - {plugin: depth, weights: random}
  - {plugin: edge, weights: random}
  - {plugin: normal, weights: random}
  - {plugin: obj_detection, weights: random}
  - {plugin: ocr_detection, weights: random, clip: random, pca: random, bpe: $fixtures/tokenizer/clip/bpe_simple_vocab_16e6.txt.gz}
  - {plugin: seg_coco, weights: random}
backbone:
  plugin: prismer
  preset: tiny
  image_resolution: 64
  experts: [depth, normal, seg_coco, edge, obj_detection, ocr_detection]
task: {plugin: caption, num_beams: 2, max_length: 12, min_length: 6}
YAML

expect_status "demo runs: six experts, then captions" 0 "$count captions in" "$prismer" run "$tmp/demo.yaml"
cp "$tmp/out" "$tmp/first_run.log"
grep -q "6 experts" "$tmp/first_run.log" && ok "one labels stage with all six experts" || bad "labels stage"
for stem in "${rels[@]}"; do
  txt="$tmp/demo/captions/$stem.txt"
  if [ -s "$txt" ] && grep -qE '^[A-Z0-9].*\.$' "$txt" && [ "$(wc -l <"$txt")" -eq 0 ]; then ok "$stem.txt: $(cat "$txt")"
  else bad "$stem.txt missing or not 'Capitalised sentence.' ($(cat "$txt" 2>/dev/null))"; fi
  grep -qF "$(cat "$txt" 2>/dev/null)" "$tmp/first_run.log" && ok "$stem: caption printed" || bad "$stem: caption printed"
  for expert in depth edge normal obj_detection seg_coco; do
    label="$tmp/demo/labels/$expert/photos/$stem.png"
    if [ -s "$label" ] && is_png "$label"; then ok "$expert label of $stem"; else bad "$expert label of $stem"; fi
  done
  [ -f "$tmp/demo/labels/obj_detection/photos/$stem.json" ] && ok "obj_detection classes of $stem" || bad "obj_detection json of $stem"
  picture="$tmp/demo/label_pictures/${stem}_labels.png"  # <relative path>_labels.png
  if [ -s "$picture" ] && is_png "$picture"; then ok "label picture of $stem"; else bad "label picture of $stem"; fi
  # ocr_detection: always the PNG (all 255 when no word was found, so a rerun skips the image); the word file
  # `<stem>.pt` only when words were found.
  ocr="$tmp/demo/labels/ocr_detection/photos/$stem"
  if [ -s "$ocr.png" ] && is_png "$ocr.png" && { [ ! -e "$ocr.pt" ] || [ -s "$ocr.pt" ]; }; then ok "ocr_detection label of $stem"
  else bad "ocr_detection label of $stem"; fi
done
[ -s "$tmp/demo/results.json" ] && ok "results.json" || bad "results.json"
find "$tmp/demo" -name '*.tmp*' | grep -q . && bad "temporary files left" || ok "no temporary files left"

cp -r "$tmp/demo/captions" "$tmp/first_captions"
expect_status "rerun reuses every label" 0 "nothing to do" "$prismer" run "$tmp/demo.yaml"
diff -r "$tmp/first_captions" "$tmp/demo/captions" >/dev/null && ok "rerun: same captions" || bad "rerun: captions differ"

expect_status "PrismerZ with expert inputs is refused" 2 "PrismerZ.*reads the RGB image only" \
  "$prismer" run "$tmp/demo.yaml" --set "backbone.experts=[]"
expect_status "a backbone expert nobody produces is refused" 2 "reads 'depth' labels but no entry of experts" \
  "$prismer" run "$tmp/demo.yaml" --set "experts=[{plugin: edge}]" --set "backbone.experts=[depth]"
expect_status "a missing images folder is refused" 2 "images.*does not exist" \
  "$prismer" run "$tmp/demo.yaml" --set "images=$tmp/nope"
expect_status "PrismerZ demo: no experts, captions only" 0 "$count captions in" \
  "$prismer" run "$tmp/demo.yaml" --set "experts=[]" --set "backbone.experts=[]" --set "output=$tmp/demoz"
grep -q "expert labels" "$tmp/out" && bad "PrismerZ ran an expert stage" || ok "PrismerZ: no expert stage"
[ "$(find "$tmp/demoz/captions" -name '*.txt' | wc -l)" -eq "$count" ] && ok "PrismerZ: $count caption files" || bad "PrismerZ caption files"

finish
