#!/usr/bin/env bash
# Time `mirage demo --device cuda` from scratch (training + sweep + report), then once more cached.
# Run from the repository root after `make venv` (on a GPU machine: `make venv TORCH=torch`).
# Usage: benchmarks/demo_gpu.sh [OUT]   (default OUT: a fresh temporary folder, removed afterwards)
set -euo pipefail
cd "$(dirname "$0")/.."
MIRAGE="${MIRAGE:-.venv/bin/mirage}"
PYTHON="${PYTHON:-.venv/bin/python}"
OUT="${1:-$(mktemp -d)/demo}"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_EVALUATE_OFFLINE=1 TOKENIZERS_PARALLELISM=false

"$PYTHON" -c 'import torch; assert torch.cuda.is_available(), "no CUDA device visible to torch"; print("GPU:", torch.cuda.get_device_name(0), "| torch", torch.__version__)'
rm -rf "$OUT"

SECONDS=0
"$MIRAGE" demo --device cuda --out "$OUT"
first=$SECONDS

SECONDS=0
"$MIRAGE" demo --device cuda --out "$OUT" > /dev/null
cached=$SECONDS

echo "mirage demo --device cuda: first run ${first} s, cached rerun ${cached} s (report: $OUT/report/report.html)"
