#!/usr/bin/env bash
# GPU speed figures on a lent GPU machine (which has torch but not HyperSpy).
#
#   bash scripts/device_bench.sh [--no-identify]
#
# Installs HyperSpy, exSpy and their missing dependencies from wheels carried
# in .whl/ (see /work/.library/device/README.md for how they were fetched) and
# this package into /tmp/site, then prints bench_simulate (Table 1 and the
# realistic_v8 settings), the CUDA run of the device-preprocessing tests and
# bench_identify on CUDA (with the lazy 512x512x2048 spectrum image).
set -uo pipefail
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__)"
if ls .whl/*.whl > /dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl
fi
python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --no-cache-dir --target /tmp/site . \
    || echo "package install failed"
export PYTHONPATH=/tmp/site
for b in 8192 65536; do
    python3 benchmarks/bench_simulate.py --device cuda --batch-size $b --batches 5
done
python3 benchmarks/bench_simulate.py --device cuda --batch-size 65536 --batches 5 \
    --config configs/simulation/realistic_v8.json
if [ "${1:-}" != "--no-identify" ]; then
    python3 -m pytest -q -p no:cacheprovider tests/test_device_preprocessing.py 2>&1 | tail -n 3
    python3 benchmarks/bench_identify.py --device cuda --n 131072 --lazy 2>&1 | grep -v -i warn
fi
