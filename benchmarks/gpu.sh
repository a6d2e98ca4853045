#!/usr/bin/env bash
# st-jce on a GPU in under 8 minutes, for a machine with torch (CUDA) but no network and no weights:
# random-weight Qwen2 backbones (tiny, and the real 0.5B shape) with the real tokenizer when ../shared has
# it, text lengths 32 … 8,192 and batch sizes, at the default dtype (bf16 on a GPU), SDPA attention and,
# when the flash-attn package is installed, flash-attention 2 (unpadded batches; LastTokenPooling reads
# cu_seq_lens). Prints the figures and writes them under $OUT (or ./gpu-bench).
#   bash benchmarks/gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu-bench}"
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python - <<'PY'
import torch
assert torch.cuda.is_available(), "benchmarks/gpu.sh needs a CUDA GPU"
print(torch.__version__, torch.cuda.get_device_name())
PY
python -c "from st_jce.testing import random_qwen2; random_qwen2('$out/tiny'); random_qwen2('$out/qwen-0.5b', '0.5b')"
attentions=(sdpa)
python -c "import flash_attn" 2>/dev/null && attentions+=(flash_attention_2)
for attention in "${attentions[@]}"; do
  for model in tiny qwen-0.5b; do
    timeout 180 python benchmarks/scaling.py --device cuda --model "$out/$model" --attn-implementation "$attention" \
      --tokens 65536 --output "$out/scaling-$model-$attention.json"
  done
done
