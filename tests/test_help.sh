#!/bin/sh
# What an example's user reads: --help gives each flag's default and each preset's flags,
# proteins and arxiv list only the flags that apply to them, arxiv without --data trains a
# multi-class graph, and error messages carry no library source location ("[revgnn.h:123]").
# usage: tests/test_help.sh BUILD_DIR (with BUILD_DIR/proteins and BUILD_DIR/arxiv)
set -u
bin=${1:-build}
passed=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# check NAME STATUS: the status of the checks just run on $tmp/out
check() {
    if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "ok test_help: $1"; else
        failed=$((failed + 1)); echo "FAIL test_help: $1"; sed 's/^/    /' "$tmp/out" | head -40; fi
}
"$bin/proteins" --help > "$tmp/out" 2>&1
grep -q -- "--nodes N .*(default 10000)" "$tmp/out" && grep -q -- "--layers L .*(default 28)" "$tmp/out" &&
    grep -q -- "--parts P .*(default 10)" "$tmp/out" && grep -q -- "--species-onehot 0|1 .*(default 1)" "$tmp/out" &&
    grep -q "^  revgnn-deep .*--layers 1001 --hidden 80" "$tmp/out" && ! grep -q -- "--normalize-features" "$tmp/out"
check "proteins --help: defaults, presets, its own flags" $?
"$bin/arxiv" --help > "$tmp/out" 2>&1
grep -q -- "--epochs E .*(default 100)" "$tmp/out" && grep -q -- "--conv NAME .*(default gcn)" "$tmp/out" &&
    grep -q "^  revgat .*--heads 3" "$tmp/out" && ! grep -q -- "--species-onehot\|--parts\|--views" "$tmp/out"
check "arxiv --help: defaults, presets, no partition or species flags" $?
"$bin/arxiv" --nodes 300 --layers 2 --hidden 16 --epochs 1 > "$tmp/out" 2>&1
grep -q "^arxiv: 300 nodes, .* 8 classes" "$tmp/out" && grep -q "^result: test_acc=" "$tmp/out"
check "arxiv without --data: a multi-class synthetic graph" $?
"$bin/arxiv" --data "$tmp/none" > "$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q "does not exist" "$tmp/out" && ! grep -q "\.h:[0-9]*\]" "$tmp/out"
check "errors: no library source location" $?
echo "$passed passed, $failed failed, 0 skipped"
[ $failed -eq 0 ]
