#!/bin/sh
# The CMake build as a user meets it: configuring the source tree defaults to Release and
# registers with ctest the same programs `make test` runs; a tiny consumer project builds
# and runs against revgnn::revgnn through add_subdirectory and, after `cmake --install`,
# through find_package. Skipped (with a note) where cmake is absent. Prints a closing line
# for tests/run.sh.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
passed=0 failed=0 skipped=0
ok() { echo "ok test_cmake: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL test_cmake: $1"; sed 's/^/    /' "$tmp/log" | tail -20; failed=$((failed + 1)); }
if ! command -v cmake >/dev/null 2>&1; then
    echo "SKIP test_cmake: cmake not found"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
tmp=$(mktemp -d /tmp/revgnn_test_cmake.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# the source tree, configured only: build type and the registered tests
if cmake -S "$root" -B "$tmp/tree" > "$tmp/log" 2>&1 &&
    grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$tmp/tree/CMakeCache.txt"; then
    ok "Release by default"
else
    bad "Release by default"
fi
# the programs of the Makefile's test target, in its order
want="harness_selftest test_double test_float test_oom readme_example test_fetch test_examples test_help test_cmake"
got=$(cd "$tmp/tree" && ctest -N 2>/dev/null | sed -n 's/^ *Test *#[0-9]*: //p' | sort | tr '\n' ' ')
if [ "$got" = "$(echo $want | tr ' ' '\n' | sort | tr '\n' ' ')" ]; then
    ok "ctest registers: $want"
else
    echo "got: $got" > "$tmp/log"
    bad "ctest registers: $want"
fi

# the consumer: one GCN layer on a 3-node path, through the target's include path
mkdir -p "$tmp/app"
cat > "$tmp/app/main.c" <<'C'
#define REVGNN_IMPLEMENTATION
#include "revgnn.h"
#include <stdio.h>
int main(void) {
    rg_ctx *ctx;
    rg_config cfg = rg_config_default();
    rg_model *m;
    cfg.in_dim = 4; cfg.out_dim = 2; cfg.hidden = 8; cfg.layers = 2; cfg.edge_dim = 0; cfg.conv = RG_CONV_GCN;
    if (rg_ctx_create_cpu(&ctx, 1, 1) != RG_OK || rg_model_create(ctx, &cfg, &m) != RG_OK) {
        fprintf(stderr, "%s\n", rg_last_error());
        return 1;
    }
    printf("consumer: %lld parameters\n", (long long)rg_model_num_params(m));
    rg_model_destroy(m);
    rg_ctx_destroy(ctx);
    return 0;
}
C
cat > "$tmp/app/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(consumer C)
if(REVGNN_SOURCE)
  add_subdirectory(${REVGNN_SOURCE} revgnn)
else()
  find_package(revgnn CONFIG REQUIRED)
endif()
add_executable(consumer main.c)
target_link_libraries(consumer PRIVATE revgnn::revgnn m)
CM
# build DIR ARGS...: configure, build and run the consumer (Debug: the quickest compile)
consume() {
    dir=$1
    shift
    cmake -S "$tmp/app" -B "$tmp/$dir" -DCMAKE_BUILD_TYPE=Debug "$@" > "$tmp/log" 2>&1 &&
        cmake --build "$tmp/$dir" >> "$tmp/log" 2>&1 && "$tmp/$dir/consumer" >> "$tmp/log" 2>&1 &&
        grep -q "^consumer: [1-9][0-9]* parameters$" "$tmp/log"
}
if consume sub -DREVGNN_SOURCE="$root"; then
    ok "consumer through add_subdirectory"
else
    bad "consumer through add_subdirectory"
fi
# the installed package: headers and config files under a prefix, no tests or examples built
if cmake -S "$root" -B "$tmp/inst" -DREVGNN_BUILD_TESTS=OFF -DREVGNN_BUILD_EXAMPLES=OFF > "$tmp/log" 2>&1 &&
    cmake --install "$tmp/inst" --prefix "$tmp/prefix" >> "$tmp/log" 2>&1 &&
    [ -f "$tmp/prefix/include/revgnn.h" ] && consume pkg -DCMAKE_PREFIX_PATH="$tmp/prefix"; then
    ok "consumer through find_package after cmake --install"
else
    bad "consumer through find_package after cmake --install"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
