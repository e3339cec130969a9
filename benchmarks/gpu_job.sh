#!/usr/bin/env bash
# The scale-out measurements for a lent GPU machine, as one prepared script
# (issue 14): the throughput table up to R = 4096 at both matmul precisions, then
# a 1,000-run sweep of the paper's setup (30k steps each), timed. Everything it
# writes goes to $OUT (default: benchmarks/gpu_out).
#
#   bash benchmarks/gpu_job.sh        # ~10 minutes on one H200 if the goals hold
#
# ml-collections is not installed there: carry it as a wheel in .whl/ (see the
# device tool's README); this script installs .whl/*.whl when the folder exists.
set -u
OUT=${OUT:-benchmarks/gpu_out}; mkdir -p "$OUT"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-}
nvidia-smi --query-gpu=name,memory.total --format=csv > "$OUT/gpu.txt" 2>&1
timeout 200 python3 benchmarks/scale.py --runs=1,16,64,256,1024,4096 --steps=200 \
  --repeats=2 --sequential_upto=1 --rss_runs=0 --max_seconds=30 --orders=cheapest \
  --out="$OUT/scale_gpu.json" 2>&1 | tee "$OUT/scale_gpu.log"
# the contraction orders side by side at a few R (the batch-first order is 14x the FLOPs)
timeout 100 python3 benchmarks/scale.py --runs=1,64,1024 --steps=100 --repeats=2 \
  --sequential_upto=0 --rss_runs=0 --max_seconds=20 --precisions=highest \
  --out="$OUT/scale_gpu_orders.json" 2>&1 | tee "$OUT/scale_gpu_orders.log"
# 1,000 runs: 10 seeds x 5 lr x 5 weight decays = 250 dense, then 3 k x 250 tickets
start=$SECONDS
timeout 330 python3 launch/main.py --config=configs/sweep_modadd.py:gpu1000 \
  --workdir="$OUT/sweep1000" --noprogress --config.matmul_precision=default \
  2>&1 | tail -n 40 > "$OUT/sweep1000.log"
echo "rc=$? wall_s=$((SECONDS - start))" >> "$OUT/sweep1000.log"
rm -rf "$OUT"/sweep1000/*/checkpoints "$OUT"/sweep1000/*/masks "$OUT"/sweep1000/*/start_params
