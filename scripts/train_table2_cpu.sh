#!/usr/bin/env bash
# The paper's Table 2 at CPU scale: every architecture (compact preset, with
# the logarithmic input channel) trained with the same budget - 1,800 steps of
# 256 spectra (0.46 M spectra) from data/train400k.h5 at a fixed learning rate
# of 1e-3 - plus the CNN without the logarithmic channel (the ablation).
#
#   bash scripts/train_table2_cpu.sh [ARCH ...]      # default: all of them
#   python benchmarks/architectures_table.py          # then print the table
set -euo pipefail
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(mlp cnn unet resnet vit cct cnn_linear)
mkdir -p runs/table2
[ -f data/train400k.h5 ] || eelsid simulate --n 400000 --seed 11 --out data/train400k.h5 --no-progress
for a in "${archs[@]}"; do
    arch=${a%_linear}
    name=${arch}_compact encoding=linear+log
    [ "$a" = "${arch}_linear" ] && name=$a encoding=linear
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 eelsid train --config "configs/${arch}_compact.toml" \
        --out "runs/table2/$name" --device cpu \
        --set model.name="$name" --set model.options.input_encoding="$encoding" \
        --set training.lr=0.001 --set training.steps_per_epoch=200 --set training.epochs=9 \
        --set training.precision=fp32 --set training.early_stop_patience=100 \
        --set data.source=hdf5 --set data.path=data/train400k.h5 --set data.in_memory=true \
        --set validation.n_spectra=4096 --set output.weights_dtype=float32 \
        > "runs/table2/$name.log" 2>&1
done
