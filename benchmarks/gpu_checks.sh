#!/usr/bin/env bash
# The GPU checks in one go, for a CUDA machine without network: benchmarks/demo_gpu.sh (the
# demo from scratch, then cached), then benchmarks/vision_gpu.py (both vision sweeps, full sizes).
# Each step has a time limit, and a failed step does not stop the next. Run from anywhere:
#
#   bash benchmarks/gpu_checks.sh                         # with the environment as it is (e.g. .venv)
#   WHEELS=.whl bash benchmarks/gpu_checks.sh             # first install the project and the wheels
#                                                         # in WHEELS into SITE (no index, no deps)
#   DEVICE=cpu WHEELS=... bash benchmarks/gpu_checks.sh   # rehearsal on a CPU: demo --quick, vision --small
#
# Knobs (environment): WHEELS, SITE (/tmp/site), PYTHON (.venv/bin/python if there and no WHEELS,
# else python3), MIRAGE, OMNIGLOT (zip; default .gpu_data/images_background_small1.zip if there,
# else vision_gpu.py's own default), DEVICE (cuda), DEMO_TIMEOUT (300 s), VISION_TIMEOUT (240 s),
# OUT (/tmp/gpu_checks). OUT receives at most five files: gpu_checks.log, demo-metrics.csv,
# demo-emergence.csv, demo.tar.gz (report, results, logs; no checkpoints or samples) and
# vision.tar.gz (per-size JSONs and results.csv of both sweeps).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/gpu_checks}"
SITE="${SITE:-/tmp/site}"
DEVICE="${DEVICE:-cuda}"
WORK="$(mktemp -d)"
if [ -z "${PYTHON:-}" ]; then
    if [ -z "${WHEELS:-}" ] && [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
if [ -z "${OMNIGLOT:-}" ] && [ -f .gpu_data/images_background_small1.zip ]; then
    OMNIGLOT=.gpu_data/images_background_small1.zip
fi
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_EVALUATE_OFFLINE=1
mkdir -p "$OUT"

step() {  # step NAME SECONDS COMMAND...: run under a time limit; report exit code and wall time
    local name=$1 limit=$2 start=$SECONDS rc=0
    shift 2
    local command="$*"
    echo; echo "=== $name (limit ${limit} s): ${command:0:200}"
    timeout -k 10 "$limit" "$@" || rc=$?
    echo; echo "=== $name: exit $rc after $((SECONDS - start)) s"
}

main() {
    echo "=== $(date -u +%FT%TZ) $(uname -nm); python: $PYTHON; device: $DEVICE; work: $WORK"
    if command -v nvidia-smi > /dev/null; then
        nvidia-smi -L
        nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    fi
    if [ -n "${WHEELS:-}" ]; then
        step install 180 "$PYTHON" -m pip install -q --no-index --no-deps --no-cache-dir --no-build-isolation \
            --upgrade --target "$SITE" "$WHEELS"/*.whl .
        export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}" PATH="$SITE/bin:$PATH"
        MIRAGE="${MIRAGE:-$SITE/bin/mirage}"
    fi
    if [ -z "${MIRAGE:-}" ]; then
        MIRAGE="$(dirname "$PYTHON")/mirage"
        [ -x "$MIRAGE" ] || MIRAGE="$(command -v mirage || echo mirage)"
    fi
    step versions 120 "$PYTHON" -c '
import importlib.metadata as md, sys
sys.path = [p for p in sys.path if p not in ("", ".")]  # the installed mirage_metrics, not the source folder
import torch, datasets, evaluate, lm_eval, mirage_metrics, transformers  # also compiles them before the timings
print("python", sys.version.split()[0], "| torch", torch.__version__, "| cuda", torch.version.cuda,
      "| available:", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
print(" ".join(f"{n}={md.version(n)}" for n in ("transformers", "huggingface-hub", "tokenizers", "accelerate",
      "datasets", "evaluate", "lm_eval", "fsspec", "pyarrow", "numpy", "pandas", "mirage-metrics")))
print("mirage_metrics from", mirage_metrics.__file__)'

    if [ "$DEVICE" = cpu ]; then
        step demo "${DEMO_TIMEOUT:-300}" "$MIRAGE" demo --quick --device cpu --out "$WORK/demo"
        step vision "${VISION_TIMEOUT:-240}" "$PYTHON" benchmarks/vision_gpu.py --device cpu --small \
            ${OMNIGLOT:+--omniglot "$OMNIGLOT"} --out "$WORK/vision"
    else
        step demo "${DEMO_TIMEOUT:-300}" env MIRAGE="$MIRAGE" PYTHON="$PYTHON" bash benchmarks/demo_gpu.sh "$WORK/demo"
        step vision "${VISION_TIMEOUT:-240}" "$PYTHON" benchmarks/vision_gpu.py --device "$DEVICE" \
            ${OMNIGLOT:+--omniglot "$OMNIGLOT"} --out "$WORK/vision"
    fi

    echo; echo "=== outputs into $OUT"
    for name in metrics emergence; do
        cp "$WORK/demo/report/$name.csv" "$OUT/demo-$name.csv" 2> /dev/null || echo "no demo $name.csv"
    done
    if [ -d "$WORK/demo" ]; then
        (cd "$WORK/demo" && find . -type f ! -name 'samples_*' \( ! -path './models/*' -o -name toy_training.json \) \
            -print0 | tar -czf "$OUT/demo.tar.gz" --null -T -)
    fi
    if [ -d "$WORK/vision" ]; then
        (cd "$WORK/vision" && find . -type f \( -name '*.json' -o -name '*.csv' \) -print0 \
            | tar -czf "$OUT/vision.tar.gz" --null -T -)
    fi
    chmod a+r "$OUT"/*
    ls -l "$OUT"
}

main 2>&1 | tee "$OUT/gpu_checks.log"
