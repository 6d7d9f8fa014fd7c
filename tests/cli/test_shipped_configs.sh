#!/usr/bin/env bash
# The shipped training configs (configs/caption.yaml, vqa.yaml, pretrain.yaml: the original's fine-tuning and
# pre-training set-ups) validate against data in the original's layout: the data-list fixtures' root
# (fixtures/data/datalists/root, every list format the original reads). Only the machine-specific paths and the
# zoo downloads are overridden; everything else (plugins, experts, schedules, task options) is the file as shipped.
# As shipped, with data paths that do not exist here, each fails with an error naming the file, line and key.
set -uo pipefail
prismer=$1
fixtures=${PRISMER_FIXTURES:-$(pwd)/../shared/fixtures}
source "$(dirname "$0")/testlib.sh"

root=$fixtures/data/datalists/root
features=$fixtures/data/transform_eval/features
for need in "$root/dataset_vqa" "$root/cc12m" "$root/cc3m" "$root/experts" "$features"; do
  if [ ! -e "$need" ]; then
    echo "missing fixture: $need"
    if [ "${CI:-}" = "true" ]; then exit 1; fi
    echo "SKIP shipped-config test (set PRISMER_FIXTURES)"; exit 0
  fi
done

# no downloads: the model starts from its random initialisation, the stand-in tokenizer, the fixtures' feature tables
no_zoo=(--set label_root="$root/experts" --set features_dir="$features" --set backbone.vocab= --set backbone.merges=)

for name in caption vqa pretrain; do
  expect_status "configs/$name.yaml as shipped: missing data named" 2 "error: configs/$name.yaml:[0-9]+:[0-9]+: dataset\..*does not exist" \
    "$prismer" run "configs/$name.yaml" --dry-run
done

expect_status "configs/caption.yaml validates (COCO Karpathy train / test)" 0 \
  "configuration is valid \([1-9][0-9]* training samples, [1-9][0-9]* evaluation samples\), nothing was written" \
  "$prismer" run configs/caption.yaml --dry-run "${no_zoo[@]}" --set backbone.checkpoint= \
  --set dataset.root="$root/dataset_vqa" --set eval_dataset.root="$root/dataset_vqa"
expect_status "configs/vqa.yaml validates (VQAv2 + Visual Genome)" 0 \
  "configuration is valid \([1-9][0-9]* training samples\), nothing was written" \
  "$prismer" run configs/vqa.yaml --dry-run "${no_zoo[@]}" --set backbone.checkpoint= --set dataset.root="$root/dataset_vqa"
expect_status "configs/pretrain.yaml validates (CC12M, CC3M, COCO, VG)" 0 \
  "configuration is valid \([1-9][0-9]* training samples\), nothing was written" \
  "$prismer" run configs/pretrain.yaml --dry-run "${no_zoo[@]}" --set backbone.clip= --set backbone.roberta= \
  --set dataset.cc12m_data_path="$root/cc12m" --set dataset.cc3m_data_path="$root/cc3m" \
  --set dataset.coco_data_path="$root/dataset_vqa" --set dataset.vg_data_path="$root/dataset_vqa"
# the zoo references as shipped: a missing download is named with the command that fetches it
expect_status "configs/caption.yaml: the pre-trained checkpoint's download command" 2 \
  "backbone.*checkpoint.*prismer download --models pretrain_prismer_base" \
  env PRISMER_ZOO_DIR="$tmp/zoo" "$prismer" run configs/caption.yaml --dry-run "${no_zoo[@]}" \
  --set dataset.root="$root/dataset_vqa" --set eval_dataset.root="$root/dataset_vqa"
finish
