#!/usr/bin/env bash
# Train the shipped members on from their weights (or from scratch), on *fresh* spectra (400,000 unless N_TRAIN says otherwise), on two CPU cores
# (the candidates of sessions 11-15, see docs/results.md; v13 shipped).
#
#   bash scripts/finetune_cpu_fresh.sh [MINUTES] [NAME] [SETTING] [SEED] [PATIENCE] [MAX_EPOCHS] [INIT] [N_TRAIN]
#
#   v7 (defaults):  bash scripts/finetune_cpu_fresh.sh 65 v7 realistic_v8 17 8
#   v9 (measured pi* positions):  bash scripts/finetune_cpu_fresh.sh 28 v9 realistic_v9 19 6
#   v10 (giant-resonance delays):  bash scripts/finetune_cpu_fresh.sh 28 v10 realistic_v10 23 6
#   v11 (white-line ratios):  bash scripts/finetune_cpu_fresh.sh 28 v11 realistic_v11 29 6
#   v12 (v11 + broader fine structure):  bash scripts/finetune_cpu_fresh.sh 28 v12 realistic_v12 31 6
#   v13 (shipped as eelsid-cpu-v13), from eelsid-cpu-v6's members (weights/ up to commit f7f1dc7):
#     mkdir -p runs/v6 && for f in unet_cpu resnet_cpu; do for x in json safetensors; do
#       git show f7f1dc7:weights/$f.$x > runs/v6/$f.$x; done; done
#     bash scripts/finetune_cpu_fresh.sh 90 v13 realistic_v13 37 8 53 runs/v6
#   (the candidates before v13 started from weights/ when it held v6)
#   v14 (v13 + hard pairs mined from v13 on simulated spectra), from eelsid-cpu-v13 (weights/ at dc6ef17):
#     bash scripts/finetune_cpu_fresh.sh 60 v14 realistic_v14 41 8
#   v15 (the same two architectures trained from scratch on realistic_v13, session 15):
#     bash scripts/finetune_cpu_fresh.sh 85 v15 realistic_v13 43 12 1000 scratch
#   v16 (v13's members on realistic_v16: white-line pairs with tied widths and offsets, session 16):
#     bash scripts/finetune_cpu_fresh.sh 80 v16 realistic_v16 47 8 1000
#   v17 (v13's members on 800,000 fresh realistic_v13 spectra, session 17):
#     bash scripts/finetune_cpu_fresh.sh 110 v17 realistic_v13 59 10 1000 weights 800000
#   v19 (v13's members on realistic_v19: v13 + a fine-structure envelope, session 18):
#     bash scripts/finetune_cpu_fresh.sh 40 v19 realistic_v19 67 8 1000 weights
#   v20 (v13's members on realistic_v20: narrow lanthanide giant resonances on a weak continuum, session 19):
#     bash scripts/finetune_cpu_fresh.sh 70 v20 realistic_v20 71 8 1000 weights
#   v21 (v20 + hard pairs of the lanthanide N4,5 edges, session 19):
#     bash scripts/finetune_cpu_fresh.sh 50 v21 realistic_v21 73 8 1000 weights
#   v22 (v21 with the lanthanide giant resonance as a Fano profile, session 20):
#     bash scripts/finetune_cpu_fresh.sh 75 v22 realistic_v22 79 8 1000 weights
#
# 1. simulates N_TRAIN (default 400,000) spectra of configs/simulation/SETTING.json with a seed the
#    shipped members never saw (~5 min per 400,000; held in memory as float16, 2.5 GB per 400,000 per member),
# 2. trains both members on from INIT/ (default weights/; one core each, at once): lr 3e-4 halved after
#    3 epochs without a better validation F1 (fresh SETTING spectra, seed 2), stopped after
#    PATIENCE such epochs, MAX_EPOCHS epochs of 200 steps (default 1000) or MINUTES of training;
#    INIT=scratch trains them from random weights instead, at the configs' lr 3e-3,
# 3. combines them into runs/NAME with the threshold where precision = recall on
#    8,192 simulated validation spectra and scores a 20,000-spectrum test set (seed 3),
# 4. scores runs/NAME on ../shared/eels-benchmark when it is there.
set -euo pipefail
minutes=${1:-65}
name=${2:-v7}
setting=${3:-realistic_v8}
seed=${4:-17}
patience=${5:-8}
max_epochs=${6:-1000}
init=${7:-weights}
n_train=${8:-400000}
sim=configs/simulation/$setting.json
train=data/${setting}_$((n_train / 1000))k_s$seed.h5
test=data/${setting}_test20k.h5
mkdir -p data runs
[ -f "$train" ] || eelsid simulate --n "$n_train" --seed "$seed" --config "$sim" --out "$train" --no-progress
for m in unet_cpu resnet_cpu; do
    if [ "$init" = scratch ]; then start=(); else start=(--set training.init_weights="$init/$m.json" --set training.lr=3e-4); fi
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 eelsid train --config "configs/cpu/$m.toml" --out "runs/${m}_$name" \
        --set data.path="$train" --set validation.simulation="$sim" "${start[@]}" \
        --set training.early_stop_patience="$patience" --set training.epochs="$max_epochs" --max-minutes "$minutes" > "runs/${m}_$name.log" 2>&1 &
done
wait
[ -f "$test" ] || eelsid simulate --n 20000 --seed 3 --config "$sim" --out "$test" --no-progress
eelsid ensemble "runs/unet_cpu_$name/unet_cpu.json" "runs/resnet_cpu_$name/resnet_cpu.json" --out "runs/$name" \
    --simulation "$sim" --test "$test" --name "eelsid-cpu-$name" \
    --note "$([ "$init" = scratch ] && echo "members trained from scratch on $n_train $setting spectra (seed $seed), lr 3e-3" || echo "members of $init trained on from their weights on $n_train fresh $setting spectra (seed $seed), lr 3e-4"), one CPU core each"
if [ -d ../shared/eels-benchmark ]; then
    python benchmarks/real_spectra.py --weights "runs/$name" --json "runs/$name/real.json"
fi
