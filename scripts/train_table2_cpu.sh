#!/usr/bin/env bash
# The paper's Table 2 at CPU scale: every architecture (compact preset, with
# the logarithmic input channel) trained with the same budget - 1,800 steps of
# 256 spectra (0.46 M spectra) from data/train400k.h5 at a fixed learning rate
# of 1e-3 - plus the CNN without the logarithmic channel (the ablation).
#
#   bash scripts/train_table2_cpu.sh [ARCH ...]      # default: all of them
#   python benchmarks/architectures_table.py          # then print the table
#
# DATA (default data/train400k.h5, simulated here if missing), RUNS (default
# runs/table2) and LIMIT (use only the first LIMIT spectra) change the data
# and the output folder (benchmarks/simulator_variants.sh uses them).
set -euo pipefail
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(mlp cnn unet resnet vit cct cnn_linear)
data=${DATA:-data/train400k.h5} runs=${RUNS:-runs/table2}
limit=()
[ -z "${LIMIT:-}" ] || limit=(--set data.limit="$LIMIT")
mkdir -p "$runs"
[ -f "$data" ] || [ "$data" != data/train400k.h5 ] || \
    eelsid simulate --n 400000 --seed 11 --out data/train400k.h5 --no-progress
for a in "${archs[@]}"; do
    arch=${a%_linear}
    name=${arch}_compact encoding=linear+log
    [ "$a" = "${arch}_linear" ] && name=$a encoding=linear
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 eelsid train --config "configs/${arch}_compact.toml" \
        --out "$runs/$name" --device cpu \
        --set model.name="$name" --set model.options.input_encoding="$encoding" \
        --set training.lr=0.001 --set training.steps_per_epoch=200 --set training.epochs=9 \
        --set training.precision=fp32 --set training.early_stop_patience=100 \
        --set data.source=hdf5 --set data.path="$data" --set data.in_memory=true "${limit[@]}" \
        --set validation.n_spectra=4096 --set output.weights_dtype=float32 \
        > "$runs/$name.log" 2>&1
done
