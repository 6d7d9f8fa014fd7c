#!/usr/bin/env bash
# The quickstart pipeline end to end at a toy size (a few dozen scenes, one short epoch per stage): every stage runs
# from its own written YAML, metrics.json has the headline figures and the untrained baselines for both variants,
# samples.json names unseen scenes, and bad settings are refused before any work. (The full-size run and its
# CIDEr / VQA thresholds are `scripts/quickstart`; at this size the scores are not meaningful.)
set -uo pipefail
prismer=$1
source "$(dirname "$0")/testlib.sh"

small=(--set "data=$tmp/data" --set "output=$tmp/results" --set scenes.count=24 --set scenes.test_count=6
       --set caption.epochs=1 --set caption.batch_size=8 --set vqa.epochs=1 --set vqa.batch_size=8
       --set caption.eval_batch_size=6 --set vqa.eval_batch_size=10 --set samples=2 --set threads=2
       --set vqa_scenes=12)

if "$prismer" run configs/quickstart.yaml "${small[@]}" >"$tmp/out" 2>&1; then ok "quickstart runs"; else bad "quickstart runs"; fi
for f in tokenizer/vocab.json tokenizer/merges.txt metrics.json samples.json \
         prismer/caption.yaml prismer/vqa.yaml prismer/untrained_caption.yaml prismer/caption/pytorch_model.bin \
         prismer/vqa/pytorch_model.bin prismer/caption/model.safetensors prismerz/caption/pytorch_model.bin prismerz/untrained/vqa/metrics.json; do
  if [ -s "$tmp/results/$f" ]; then ok "wrote $f"; else bad "wrote $f"; fi
done
for key in '"cider"' '"vqa_accuracy"' '"untrained_cider"' '"untrained_vqa_accuracy"' '"prismerz"'; do
  if grep -q "$key" "$tmp/results/metrics.json" 2>/dev/null; then ok "metrics.json has $key"; else bad "metrics.json has $key"; fi
done
if grep -q "synthetic/test/00000.png" "$tmp/results/samples.json" 2>/dev/null; then ok "samples are unseen test scenes"; else bad "samples are unseen test scenes"; fi
if grep -q "held-out scores" "$tmp/out" && grep -q "prismerz (RGB only), trained" "$tmp/out"; then ok "prints the score table"; else bad "prints the score table"; fi
# a written stage reruns alone
if "$prismer" run "$tmp/results/prismerz/untrained_caption.yaml" >"$tmp/out" 2>&1 && grep -q "CIDEr" "$tmp/out"; then
  ok "a stage file reruns alone"; else bad "a stage file reruns alone"; fi
# refused before any work
"$prismer" run "$tmp/results/prismer/caption.yaml" --set output=$tmp/bad --set "save_formats=[torch, onnx]" >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q "save_formats" "$tmp/out" && grep -q "onnx" "$tmp/out" && [ ! -e "$tmp/bad" ]; then
  ok "unknown save format refused"; else bad "unknown save format refused (status $rc)"; fi
"$prismer" run configs/quickstart.yaml "${small[@]}" --set output=$tmp/bad --set primary=nosuch >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q "primary" "$tmp/out" && [ ! -e "$tmp/bad" ]; then ok "unknown primary variant refused"; else bad "unknown primary variant refused (status $rc)"; fi
"$prismer" run configs/quickstart.yaml "${small[@]}" --set output=$tmp/bad --set caption.dataset=x >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q "set by the quickstart" "$tmp/out" && [ ! -e "$tmp/bad" ]; then ok "stage-owned key refused"; else bad "stage-owned key refused (status $rc)"; fi

finish
