#!/usr/bin/env bash
# Train the shipped members on from their weights, on 400,000 *fresh* spectra, on two CPU cores
# (session 11's "eelsid-cpu-v7" candidate; not shipped, see docs/results.md).
#
#   bash scripts/finetune_cpu_fresh.sh [MINUTES] [OUT]
#
# 1. simulates 400,000 realistic_v8 spectra with a seed the shipped members never saw (17; ~5 min),
# 2. trains both members on from weights/ (one core each, at once): lr 3e-4 halved after
#    3 epochs without a better validation F1, stopped after 8 such epochs or MINUTES (default 65),
# 3. combines them into OUT (default runs/v7) with the threshold where precision = recall on
#    8,192 simulated validation spectra and scores the 20,000-spectrum test set (seed 3),
# 4. scores OUT on ../shared/eels-benchmark when it is there.
set -euo pipefail
minutes=${1:-65}
out=${2:-runs/v7}
sim=configs/simulation/realistic_v8.json
mkdir -p data runs
[ -f data/realistic_v8_400k_s17.h5 ] || eelsid simulate --n 400000 --seed 17 --config "$sim" \
    --out data/realistic_v8_400k_s17.h5 --no-progress
for m in unet_cpu resnet_cpu; do
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 eelsid train --config "configs/cpu/$m.toml" --out "runs/${m}_v7" \
        --set data.path=data/realistic_v8_400k_s17.h5 --set validation.simulation="$sim" \
        --set training.init_weights="weights/$m.json" --set training.lr=3e-4 \
        --set training.early_stop_patience=8 --max-minutes "$minutes" > "runs/${m}_v7.log" 2>&1 &
done
wait
[ -f data/realistic_v8_test20k.h5 ] || eelsid simulate --n 20000 --seed 3 --config "$sim" \
    --out data/realistic_v8_test20k.h5 --no-progress
eelsid ensemble runs/unet_cpu_v7/unet_cpu.json runs/resnet_cpu_v7/resnet_cpu.json --out "$out" \
    --simulation "$sim" --test data/realistic_v8_test20k.h5 --name eelsid-cpu-v7 \
    --note "v6 members trained on from their weights on 400,000 fresh realistic_v8 spectra (seed 17), lr 3e-4, one CPU core each"
if [ -d ../shared/eels-benchmark ]; then
    python benchmarks/real_spectra.py --weights "$out" --json "$out/real.json"
fi
