#!/usr/bin/env bash
# Train (or continue training) models side by side on one lent GPU machine,
# within one device call (at most 10 minutes), and bring the runs back in $OUT.
#
#   bash scripts/device_train.sh MINUTES NAME:CONFIG[:INIT_CARD[:LR]] ...
#
# e.g.  bash scripts/device_train.sh 8 unet_gpu:configs/gpu/unet_gpu.toml \
#           resnet_gpu:configs/gpu/resnet_gpu.toml
#
# Small networks leave most of an H100 idle, so several runs share it. Each
# run is `eelsid train --config CONFIG --out runs/NAME --device cuda`, stopped
# after the epoch that passes MINUTES (a checkpoint is kept); INIT_CARD starts
# it from a saved model's weights (fine-tuning) and LR overrides its learning
# rate. The GPU machine has torch, numpy, scipy, h5py and safetensors but not
# HyperSpy: the package runs from the checkout (PYTHONPATH=.). Each run folder
# travels back as one archive (a call returns at most 8 files): carry
# `runs/NAME.tgz` into a call on a fresh machine and the run resumes from its
# checkpoint; on a machine still warm, runs/NAME is still there.
set -uo pipefail
minutes=$1
shift
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
mkdir -p runs
names=()
for spec in "$@"; do
    IFS=: read -r name config init lr <<< "$spec"
    names+=("$name")
    if [ ! -d "runs/$name" ] && [ -f "runs/$name.tgz" ]; then tar xzf "runs/$name.tgz" -C runs; fi
    mkdir -p "runs/$name"
    args=(--config "$config" --out "runs/$name" --device cuda --max-minutes "$minutes" --set "model.name=$name")
    if [ -n "${init:-}" ]; then args+=(--set "training.init_weights=$init"); fi
    if [ -n "${lr:-}" ]; then args+=(--set "training.lr=$lr"); fi
    python3 -m hyperspy_eelsid.cli train "${args[@]}" >> "runs/$name/train.log" 2>&1 &
done
wait
for name in "${names[@]}"; do
    echo "== $name"
    tail -n 4 "runs/$name/train.log"
    tar czf "${OUT:-runs}/$name.tgz" -C runs "$name"
done
