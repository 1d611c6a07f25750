#!/usr/bin/env bash
# How changes to the simulator's Table 1 settings move the real-spectrum
# figures: the compact CNN with the logarithmic channel, trained with the
# equal budget of scripts/train_table2_cpu.sh (1,800 steps x 256, lr 1e-3) on
# 200,000 spectra of each setting, scored on ../shared/eels-benchmark at its
# card threshold. Prints one line of figures per setting.
#
#   bash benchmarks/simulator_variants.sh        # about 4 hours on 2 cores
set -euo pipefail
mkdir -p data runs/variants
declare -A settings=(
    [lowjump]='{"jump_ratio": [0.05, 1.5]}'
    [fs30]='{"fs_max_scale": 30.0}'
    [wl]='{"white_line_strength": [1.0, 10.0]}'
    [combo]='{"white_line_strength": [1.0, 10.0], "jump_ratio": [0.05, 1.5], "fs_max_scale": 30.0}'
    [realistic]="$(cat configs/simulation/realistic.json)"
    [realistic_bg]="$(python -c 'import json; c = json.load(open("configs/simulation/realistic.json")); c["background_second_fraction"] = [0.0, 3.0]; print(json.dumps(c))')"
    [realistic_v4]="$(cat configs/simulation/realistic_v4.json)"
    [v4_pistar]="$(python -c 'import json; c = json.load(open("configs/simulation/realistic_v4.json")); c["pi_star_strength"] = [0.0, 10.0]; print(json.dumps(c))')"
    [v5_decay]="$(python -c 'import json; c = json.load(open("configs/simulation/realistic_v5.json")); c["fs_decay_ev"] = [10.0, 60.0]; print(json.dumps(c))')"
    [v5_decay_strong]="$(python -c 'import json; c = json.load(open("configs/simulation/realistic_v5.json")); c["fs_decay_ev"] = [5.0, 30.0]; print(json.dumps(c))')"
    [v5_oxide]="$(cat configs/simulation/realistic_v6.json)"
    [v4_fewer]="$(python -c 'import json; c = json.load(open("configs/simulation/realistic_v4.json")); c["n_elements_probs"] = [0.5, 0.3, 0.15, 0.05]; print(json.dumps(c))')"
)
# baseline: the first 200,000 spectra of the Table 1 default training set
[ -f data/train400k.h5 ] || eelsid simulate --n 400000 --seed 11 --out data/train400k.h5 --no-progress
LIMIT=200000 RUNS=runs/variants/defaults bash scripts/train_table2_cpu.sh cnn
for name in "${!settings[@]}"; do
    echo "${settings[$name]}" > "data/$name.json"
    [ -f "data/${name}200k.h5" ] || eelsid simulate --n 200000 --seed 11 --config "data/$name.json" \
        --out "data/${name}200k.h5" --no-progress
    DATA="data/${name}200k.h5" RUNS="runs/variants/$name" bash scripts/train_table2_cpu.sh cnn
done
for name in defaults "${!settings[@]}"; do
    echo "== $name"
    python benchmarks/real_spectra.py --weights "runs/variants/$name/cnn_compact/cnn_compact.json" \
        --no-scans | grep -E "threshold|model card"
done
