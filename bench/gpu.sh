#!/usr/bin/env bash
# The GPU measurements, for a machine with an NVIDIA GPU (written for an H100 or H200). The
# CUDA backend was written without a GPU at hand: the first run of this script is also its
# first real test, so it starts with the parity tests and stops if they fail.
#
#   1. build/cuda/test_cuda: every op, layer case and training step against the CPU backend.
#   2. memory_scaling --device cuda: peak memory and time per training step against depth
#      (3 ... 1001 layers) for every architecture, and against the group count; CSV + SVG.
#   3. proteins --preset revgnn-deep --device cuda on an ogbn-proteins-sized synthetic graph
#      (132,534 nodes, mean degree 597: ~79M directed edges, 8-wide edge features, 112 tasks,
#      10 random parts per epoch): peak memory and s/epoch (epoch 1 trains only; epoch 2
#      also evaluates).
#   4. bench/peer/pyg_revgnn.py: PyTorch Geometric's GroupAddRev with the same model and
#      training on a graph of the same size, when python3 can import torch_geometric.
#
# usage: bench/gpu.sh [--quick]    --quick: a small sweep and a 20,000-node graph (minutes)
# Results go to bench/results/gpu/ (OUT=dir to change), with machine.txt naming the GPU,
# driver, toolkit, commit and date. Steps 3 and 4 build the graph on the host first (a few
# minutes and ~15 GB of RAM at full size).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-bench/results/gpu}
quick=0
[ "${1:-}" = "--quick" ] && quick=1

command -v nvidia-smi >/dev/null || { echo "gpu.sh: nvidia-smi not found: no NVIDIA GPU here?" >&2; exit 1; }
make -s cuda
mkdir -p "$out"
gpu=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -n 1)
mem_mib=$(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits | head -n 1)
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "gpu: $gpu"
    echo "toolkit: $(nvcc --version | tail -n 1)"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "host: $(uname -srm), $(nproc) cores"
} > "$out/machine.txt"
cat "$out/machine.txt"

if [ "$quick" = 1 ]; then
    nodes=20000 sweep="--quick"
else
    nodes=132534 sweep="--nodes 20000 --degree 30 --hidden 64 --steps 3"
fi
# the sweep plans each configuration first and marks it OOM above 85 % of the GPU's memory
limit_gb=$(awk -v m="$mem_mib" 'BEGIN { printf "%.1f", m * 1048576 * 0.85 / 1e9 }')

echo "== 1. parity tests"
if ! ./build/cuda/test_cuda > "$out/test_cuda.txt" 2>&1; then
    cat "$out/test_cuda.txt"
    echo "gpu.sh: the CUDA backend does not match the CPU backend here (see above): stopping" >&2
    exit 1
fi
tail -n 3 "$out/test_cuda.txt"

echo "== 2. memory scaling"
# shellcheck disable=SC2086 # $sweep is a list of flags
./build/cuda/memory_scaling --device cuda --mem-limit "$limit_gb" $sweep --out "$out" | tee "$out/memory_scaling.txt"

echo "== 3. RevGNN-Deep, ogbn-proteins-sized synthetic graph"
./build/cuda/proteins --preset revgnn-deep --device cuda --nodes "$nodes" --degree 597 --parts 10 \
    --eval-parts 5 --epochs 2 --eval-every 2 | tee "$out/proteins_revgnn_deep.txt"

echo "== 4. PyTorch Geometric, the same configuration"
if python3 -c "import torch, torch_geometric; assert torch.cuda.is_available()" 2>/dev/null; then
    python3 bench/peer/pyg_revgnn.py --nodes "$nodes" --degree 597 --layers 1001 --hidden 80 --groups 2 \
        --dropout 0.1 --parts 10 --epochs 1 | tee "$out/pyg_revgnn_deep.txt"
else
    echo "skipped: python3 cannot import torch (with CUDA) and torch_geometric" | tee "$out/pyg_revgnn_deep.txt"
fi

echo
echo "== summary ($gpu)"
tail -n 1 "$out/test_cuda.txt"
grep -h "^epoch    1/" "$out/proteins_revgnn_deep.txt" | sed 's/^/revgnn, training epoch: /' || true
grep -h "^result:" "$out/proteins_revgnn_deep.txt" | sed 's/^/revgnn: /' || true
grep -h "^result:" "$out/pyg_revgnn_deep.txt" | sed 's/^/pyg:    /' || true
echo "memory sweep: $out/memory_scaling.csv, $out/memory_scaling.svg"
