#!/usr/bin/env bash
# Train (or continue training) one model on a lent GPU machine, within one
# device call (at most 10 minutes), and bring the run folder back in $OUT.
#
#   bash scripts/device_train.sh CONFIG RUN_NAME MINUTES
#
# The GPU machine has torch, numpy, scipy, h5py and safetensors but not
# HyperSpy: the package runs from the checkout (PYTHONPATH=.). The run folder
# travels as one archive (the device returns at most 8 files per call):
# carry `runs/RUN_NAME.tgz` into the next call and it resumes from its checkpoint.
set -euo pipefail
config=$1 name=$2 minutes=${3:-8}
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
mkdir -p runs
if [ -f "runs/$name.tgz" ]; then tar xzf "runs/$name.tgz" -C runs; fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python3 -m hyperspy_eelsid.cli train --config "$config" --out "runs/$name" \
    --device cuda --max-minutes "$minutes" 2>&1 | tee "runs/$name/last_call.log"
tar czf "${OUT:-runs}/$name.tgz" -C runs "$name"
cp "runs/$name/log.csv" "${OUT:-runs}/$name.log.csv" 2>/dev/null || true
