#!/bin/sh
# Extracts the first C block under "## Quick start" in README.md, compiles it as a user
# would (C99, warnings as errors) and runs it. Prints a closing line for tests/run.sh.
set -u
cc=${CC:-cc}
out=${1:-build}/readme_example
mkdir -p "$(dirname "$out")"
awk '/^## Quick start/ {q = 1} q && /^```c$/ {c = 1; next} c && /^```$/ {exit} c {print}' README.md > "$out.c"
if [ ! -s "$out.c" ]; then
    echo "FAIL readme_example: no C block under '## Quick start' in README.md"
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
fi
if $cc -std=c99 -Wall -Wextra -pedantic -Werror -I. "$out.c" -o "$out" -lm && "$out"; then
    echo "readme_example: the README quick start compiles and runs"
    echo "1 passed, 0 failed, 0 skipped"
else
    echo "FAIL readme_example: the README quick start did not compile or run"
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
fi
