#!/usr/bin/env bash
# The checks that need an NVIDIA GPU, in one run (CI has none):
#   1. the CUDA tests (tests/test_cuda_paths.py; they touch ml/ only, so no database is needed),
#   2. the GPU rows of bench/train_disentangler.py and bench/train_bhb.py,
#   3. the BHB by-magnitude seeds (research/experiments/bhb_magnitude.py), in parallel processes,
#      until the deadline; the report is written once every seed is done.
#
#   OUT=DIR DEADLINE_S=540 bash bench/gpu_checks.sh
#
# SKIP_TESTS=1 and SKIP_BENCH=1 leave the tests and the benches out. MAGNITUDE_START=DIR starts the seeds from a finished table (its
# records of the seeds in $SEEDS are dropped and rerun); MAGNITUDE_ARGS adds arguments to every seed's
# run (e.g. "--scores-from bench/results/bhb_colour_token" retrains VGG1D alone). Everything lands in $OUT: log.txt, cuda_tests.txt,
# train_disentangler.txt, train_bhb.txt, bhb_seeds.txt (every seed's log, prefixed) and
# bhb_magnitude.tar.gz (seed records, and report.md / report.json over the seeds that finished).
set -u
OUT=${OUT:-bench/out/gpu}
DEADLINE_S=${DEADLINE_S:-540}
PYTHON=${PYTHON:-python3}
SEEDS=${SEEDS:-"0 1 2 3 4"}
export PYTHONUNBUFFERED=1
started=$(date +%s)
mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
"$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())"

if [ -z "${SKIP_TESTS:-}" ]; then
    echo "== CUDA tests"
    "$PYTHON" -m pytest --noconftest -q -p no:cacheprovider tests/test_cuda_paths.py 2>&1 | tee "$OUT/cuda_tests.txt"
fi

if [ -z "${SKIP_BENCH:-}" ]; then
    echo "== bench/train_disentangler.py (GPU rows) $(( $(date +%s) - started )) s"
    "$PYTHON" bench/train_disentangler.py --device cuda 2>&1 | tee "$OUT/train_disentangler.txt"
    echo "== bench/train_bhb.py (GPU rows) $(( $(date +%s) - started )) s"
    "$PYTHON" bench/train_bhb.py --device cuda 2>&1 | tee "$OUT/train_bhb.txt"
fi

left=$(( DEADLINE_S - ($(date +%s) - started) - 20 ))
echo "== BHB by magnitude, seeds $SEEDS, ${left} s left"
magnitude=/tmp/bhb_magnitude
if [ -n "${MAGNITUDE_START:-}" ]; then
    rm -rf "$magnitude" && cp -r "$MAGNITUDE_START" "$magnitude"
    for seed in $SEEDS; do rm -f "$magnitude/seeds/seed_$seed.json"; done
fi
if [ "$left" -gt 60 ]; then
    pids=()
    for seed in $SEEDS; do
        OMP_NUM_THREADS=3 timeout -k 10 "$left" "$PYTHON" -m research.experiments.bhb_magnitude --config research/configs/bhb.yaml \
            --out "$magnitude" --device cuda --only-seeds "$seed" ${MAGNITUDE_ARGS:-} 2>&1 | sed -u "s/^/[seed $seed] /" >> "$OUT/bhb_seeds.txt" &
        pids+=($!)
    done
    wait "${pids[@]}"  # a bare wait would also wait for the log's tee, which ends only with the script
    grep -E "^\[seed [0-9]\] (seed|data:)|Error" "$OUT/bhb_seeds.txt"
    "$PYTHON" -m research.experiments.bhb_magnitude --config research/configs/bhb.yaml --out "$magnitude" --report-only 2>&1 | tail -2
    tar -czf "$OUT/bhb_magnitude.tar.gz" -C /tmp bhb_magnitude
fi
echo "== done in $(( $(date +%s) - started )) s"
