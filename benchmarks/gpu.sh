#!/usr/bin/env bash
# st-jce on one GPU in one run, under 8 minutes, for a machine with its own torch (CUDA) but no network and no
# weights: random-weight Qwen2 of the real 0.5B shape with the real tokenizer (../shared, or ST_JCE_SHARED).
#   1. encoding tok/s of st-jce, plain sentence-transformers and the bare backbone forward on short (MBPP
#      queries), MBPP-like (MBPP code) and long (2,048-token) texts, and the smallest cosine st-jce / plain;
#   2. a training step at batch 512, length 512, bf16, activation checkpointing: real tokens/s, computed / real
#      tokens and peak memory of the plain and the cached (GradCache, mini-batch 128) loss, padded and unpadded.
# Figures are printed and written as JSON under $OUT (or ./gpu-bench). Wheels in .whl/ (benchmarks/README.md says
# which and how) are installed first. `--smoke` runs the same steps on the CPU with a tiny model, in a minute.
#   bash benchmarks/gpu.sh [--smoke]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p "${OUT:-gpu-bench}"
out="$(cd "${OUT:-gpu-bench}" && pwd)"
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/st-jce-site .whl/*.whl
  export PYTHONPATH="/tmp/st-jce-site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if [ "${1:-}" = "--smoke" ]; then
  encode=(--smoke)
  train=(--shape tiny --device cpu --batch-sizes 64 --mini-batch-size 16 --steps 1)
else
  python3 -c "import torch; assert torch.cuda.is_available(), 'benchmarks/gpu.sh needs a CUDA GPU (or --smoke)'"
  encode=(--device cuda --shape 0.5b --n 512 --long-n 64)
  train=(--shape 0.5b --device cuda --bf16 --activation-checkpointing --batch-sizes 512 --mini-batch-size 128)
fi
python3 -c "import torch, transformers, sentence_transformers as st; print('torch', torch.__version__, '| transformers',
transformers.__version__, '| sentence-transformers', st.__version__, '|',
torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU')" | tee "$out/versions.txt"
python3 benchmarks/device_encode.py "${encode[@]}" --output "$out/encode.json"
timeout 420 python3 benchmarks/train.py "${train[@]}" --max-seq-length 512 --output "$out/train.json"
