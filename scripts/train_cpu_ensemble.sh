#!/usr/bin/env bash
# Reproduce the shipped ensemble (weights/) on a two-core CPU machine.
#
#   bash scripts/train_cpu_ensemble.sh [MINUTES]
#
# 1. simulates the training set once (400,000 spectra, seed 11, ~5 min),
# 2. trains the members side by side, one core each, for MINUTES (default 55)
#    of training wall time each (after a short lr grid search; halving on plateaus),
# 3. simulates a 20,000-spectrum test set (seed 3) and combines the members
#    into weights/ with the threshold where precision = recall on 8,192
#    fresh validation spectra (seed 2).
set -euo pipefail
minutes=${1:-55}
members=(cnn unet)
mkdir -p data runs
[ -f data/train400k.h5 ] || eelsid simulate --n 400000 --seed 11 --out data/train400k.h5 --no-progress
for m in "${members[@]}"; do
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 eelsid train --config "configs/cpu/${m}_cpu.toml" \
        --max-minutes "$minutes" > "runs/${m}_cpu.log" 2>&1 &
done
wait
[ -f data/test20k.h5 ] || eelsid simulate --n 20000 --seed 3 --out data/test20k.h5 --no-progress
cards=()
for m in "${members[@]}"; do cards+=("runs/${m}_cpu/${m}_cpu.json"); done
eelsid ensemble "${cards[@]}" --out weights --test data/test20k.h5 --name eelsid-cpu-v1 \
    --note "members trained by scripts/train_cpu_ensemble.sh $minutes on a 2-core CPU"
