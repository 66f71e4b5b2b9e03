# revgnn: the primary build. Needs only a C compiler and make.
#   make test        every test, double and float builds; last line "N passed, N failed, N skipped"
#   make test-asan   the same tests under -fsanitize=address,undefined
#   make NO_OMP=1    build without OpenMP
#   make test GREATEST_H=/path/to/greatest.h   the same test files against upstream greatest
#   make bench       every benchmark (bench-gemm: built-in GEMM vs OpenBLAS, needs libopenblas-dev)

CC ?= cc
CXX ?= c++
NVCC ?= nvcc
OPT ?= -O2
WARN = -Wall -Wextra -pedantic -Werror
CFLAGS_BASE = -std=c99 $(OPT) $(WARN) -I.
LDLIBS = -lm
BUILD = build

# ---- OpenMP: on when the compiler has it, unless NO_OMP=1 ----
ifeq ($(NO_OMP),1)
  $(info ✗ OpenMP disabled (NO_OMP=1))
else
  HAVE_OMP := $(shell echo 'int main(void){return 0;}' | $(CC) -fopenmp -x c - -o /dev/null 2>/dev/null && echo yes)
  ifeq ($(HAVE_OMP),yes)
    $(info ✓ OpenMP found)
    CFLAGS_BASE += -fopenmp
  else
    $(info ✗ OpenMP not found: single-threaded build)
  endif
endif

# ---- tests ----
TEST_SRC = tests/runner.c tests/test_layers.c tests/cases_basic.c tests/cases_conv.c tests/test_gemm.c
TEST_DEPS = $(TEST_SRC) revgnn.h tests/harness.h tests/layer_case.h
ifdef GREATEST_H
  HARNESS_FLAGS = -include $(GREATEST_H) -DGREATEST_UPSTREAM=1
endif

.PHONY: all test test-asan bench bench-gemm openblas-check clean
all: $(BUILD)/test_double $(BUILD)/test_float

$(BUILD)/test_double: $(TEST_DEPS)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_BASE) $(HARNESS_FLAGS) -DREVGNN_REAL=double $(TEST_SRC) -o $@ $(LDLIBS)

$(BUILD)/test_float: $(TEST_DEPS)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_BASE) $(HARNESS_FLAGS) -DREVGNN_REAL=float $(TEST_SRC) -o $@ $(LDLIBS)

# The double build writes the reference the float build compares against, so it runs first.
test: $(BUILD)/test_double $(BUILD)/test_float
	@RG_TEST_REFERENCE=$(BUILD)/layer_reference.bin ./tests/run.sh $(BUILD)/test_double $(BUILD)/test_float

ASAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
$(BUILD)/asan/test_double: $(TEST_DEPS)
	@mkdir -p $(BUILD)/asan
	$(CC) $(CFLAGS_BASE) -O1 -g $(ASAN) -DREVGNN_REAL=double $(TEST_SRC) -o $@ $(LDLIBS)
$(BUILD)/asan/test_float: $(TEST_DEPS)
	@mkdir -p $(BUILD)/asan
	$(CC) $(CFLAGS_BASE) -O1 -g $(ASAN) -DREVGNN_REAL=float $(TEST_SRC) -o $@ $(LDLIBS)
test-asan: $(BUILD)/asan/test_double $(BUILD)/asan/test_float
	@RG_TEST_REFERENCE=$(BUILD)/asan/layer_reference.bin ./tests/run.sh $(BUILD)/asan/test_double $(BUILD)/asan/test_float

# ---- benchmarks ----
bench: bench-gemm

# OpenBLAS through pkg-config, looked up when used (openblas-check may just have installed it)
OPENBLAS_FLAGS = $(shell pkg-config --cflags --libs openblas 2>/dev/null || echo -lopenblas)
OPENBLAS_PROBE = printf '\043include <cblas.h>\nint main(void) { openblas_set_num_threads(1); return 0; }\n' | \
	$(CC) -x c - -o /dev/null $(OPENBLAS_FLAGS) 2>/dev/null
# OpenBLAS 0.3.21 (Debian 12) does not know recent Xeons and falls back to its SSE3 kernels
# ("Prescott"); name its AVX-512 or AVX2 ones unless OPENBLAS_CORETYPE is set already.
OPENBLAS_CORE = $(shell grep -qw avx512f /proc/cpuinfo 2>/dev/null && echo SkylakeX || \
	(grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo Haswell))

openblas-check:
	@if ! $(OPENBLAS_PROBE); then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "✗ OpenBLAS not found: apt-get install -y libopenblas-dev"; \
	    apt-get install -y libopenblas-dev >/dev/null && $(OPENBLAS_PROBE) || exit 1; \
	  else \
	    echo "✗ OpenBLAS not found: install it (Debian/Ubuntu: sudo apt-get install libopenblas-dev)"; exit 1; \
	  fi; \
	fi

$(BUILD)/bench_gemm: bench/gemm.c revgnn.h | openblas-check
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_BASE) bench/gemm.c -o $@ $(OPENBLAS_FLAGS) $(LDLIBS)

# libgomp's default idle threads spin for ~15 ms on CPUs with a slow PAUSE, taking the time
# of working threads where virtual CPUs share a core; passive waiting costs microseconds.
bench-gemm: $(BUILD)/bench_gemm
	@mkdir -p bench/results
	OPENBLAS_CORETYPE=$${OPENBLAS_CORETYPE:-$(OPENBLAS_CORE)} OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-passive} \
	  ./$(BUILD)/bench_gemm bench/results/gemm.csv

clean:
	rm -rf $(BUILD)
