#!/usr/bin/env bash
# Install PyTorch before the project so that pip never pulls a multi-GB CUDA build
# on a machine without a GPU. On Linux without CUDA: the CPU build of torch 2.13.0.
set -euo pipefail
py="${1:-python3}"
if "$py" -c "import torch" 2>/dev/null; then
  exit 0
fi
if [ "$(uname -s)" = "Linux" ] && ! command -v nvidia-smi >/dev/null 2>&1; then
  "$py" -m pip install "torch==2.13.0" || "$py" -m pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
else
  "$py" -m pip install "torch>=2.4"
fi
