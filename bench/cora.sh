#!/bin/bash
# The README's cora table: each configuration over seeds 0-4, test accuracy at the epoch of
# best validation accuracy, and the means. Results do not depend on the thread count (the CPU
# kernels are bitwise deterministic), so seeds run side by side, one thread each.
#   bash bench/cora.sh [DATA_DIR]        (default ../shared/data/cora; needs build/arxiv: make examples)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-${RG_SHARED_DATA:-../shared/data}/cora}
[ -x build/arxiv ] || make -s build/arxiv
[ -d "$data" ] || { echo "cora.sh: no dataset at $data" >&2; exit 2; }
jobs=$(nproc)

configs=(
    "2-layer GCN|--arch res --conv gcn --layers 2 --groups 1 --hidden 64 --norm none --dropout 0.6 --input-dropout 0.6 --lr 0.01 --weight-decay 5e-4 --epochs 400 --normalize-features 1"
    "RevGCN, 16 layers|--arch rev --conv gcn --layers 16 --groups 2 --hidden 128 --norm layer --dropout 0.5 --input-dropout 0.8 --lr 0.005 --weight-decay 5e-4 --epochs 300 --normalize-features 1"
)
for entry in "${configs[@]}"; do
    name=${entry%%|*}
    flags=${entry#*|}
    # shellcheck disable=SC2086 # flags split on purpose
    results=$(printf '%s\n' 0 1 2 3 4 | xargs -P "$jobs" -I{} sh -c \
        "./build/arxiv --data '$data' --threads 1 $flags --seed {} | sed -n 's/^result: /seed={} /p'")
    echo "$results" | sort | awk -v name="$name" -v flags="$flags" '
        { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
          t = t sprintf("%s%.1f", NR > 1 ? ", " : "", 100 * v["test_acc"]); st += v["test_acc"]; sv += v["valid_acc"] }
        END { printf "%s: test %s -> mean %.2f %% (valid mean %.2f %%)\n  %s\n", name, t, 100 * st / NR, 100 * sv / NR, flags }'
done
