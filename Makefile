# revgnn: the primary build. Needs only a C compiler and make.
#   make test        every test, double and float builds; last line "N passed, N failed, N skipped"
#   make test-asan   the same tests under -fsanitize=address,undefined, with $(CC) and with clang
#                    when present (build/asan, build/asan-clang); both run the allocation-failure
#                    sweep (tests/test_oom.c) too
#   make fuzz        libFuzzer targets (clang) for each OGB file kind and the checkpoint reader,
#                    FUZZ_SECONDS (default 60) each; longer: make fuzz FUZZ_SECONDS=3600, one
#                    target: make fuzz-ogb-edge, in parallel: make -j4 fuzz (see tests/fuzz/)
#   make NO_OMP=1    build without OpenMP
#   make test GREATEST_H=/path/to/greatest.h   the same test files against upstream greatest
#   make bench       runs memory-scaling, bench-throughput and bench-gemm (~15 min on 2 cores);
#                    results go to $(RESULTS) (default build/bench-results; RESULTS=bench/results
#                    updates the committed ones)
#   make memory-scaling   memory against depth: CSV and SVG plot (a few minutes on 2 cores)
#   make bench-throughput time per training step and the roofline
#   make bench-gemm  built-in GEMM vs OpenBLAS (skipped with a note without libopenblas-dev)
#   make bench-load  loading an ogbn-proteins-shaped dataset (writes ~3.6 GB to /tmp once)
#   (CMake, optional: see CMakeLists.txt; make test runs tests/test_cmake.sh when cmake is present)
#   make cuda        the examples, benchmarks and CUDA tests with nvcc into build/cuda (no GPU needed)

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
TEST_SRC = tests/runner.c tests/test_core.c tests/test_graph.c tests/test_errors.c tests/test_train.c \
           tests/test_layers.c tests/cases_basic.c tests/cases_convs.c tests/test_convs.c \
           tests/cases_gen.c tests/test_norm.c tests/cases_models.c tests/test_models.c \
           tests/test_checkpoint.c tests/test_data.c \
           tests/test_gemm.c
TEST_DEPS = $(TEST_SRC) revgnn.h tests/harness.h tests/layer_case.h
ifdef GREATEST_H
  HARNESS_FLAGS = -DGREATEST_UPSTREAM_HEADER='"$(abspath $(GREATEST_H))"'
endif

.PHONY: all test test-asan test-compile bench bench-gemm bench-throughput bench-load memory-scaling examples run clean cuda
all: $(BUILD)/test_double $(BUILD)/test_float

$(BUILD)/test_double: $(TEST_DEPS)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_BASE) $(HARNESS_FLAGS) -DREVGNN_REAL=double $(TEST_SRC) -o $@ $(LDLIBS)

$(BUILD)/test_float: $(TEST_DEPS)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_BASE) $(HARNESS_FLAGS) -DREVGNN_REAL=float $(TEST_SRC) -o $@ $(LDLIBS)

# The allocation-failure sweep replaces REVGNN_MALLOC, so it is a program of its own; without
# OpenMP, so its allocations come in one order.
OOM_DEPS = tests/test_oom.c tests/fuzz/fuzz_data.h revgnn.h tests/harness.h
$(BUILD)/test_oom: $(OOM_DEPS)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_NO_OMP) $(HARNESS_FLAGS) -Itests tests/test_oom.c -o $@ $(LDLIBS)

# The double build writes the reference the float build compares against, so it runs first.
$(BUILD)/harness_selftest: tests/harness_selftest.c tests/harness.h
	@mkdir -p $(BUILD)
	$(CC) -std=c99 $(OPT) $(WARN) -Itests tests/harness_selftest.c -o $@

# ---- examples ----
EX_OPT ?= -O3 -march=native
EX_DEPS = examples/common.h revgnn.h
$(BUILD)/%: examples/%.c $(EX_DEPS)
	@mkdir -p $(BUILD)
	$(CC) -std=c99 $(EX_OPT) $(WARN) -I. $(filter -fopenmp,$(CFLAGS_BASE)) $< -o $@ $(LDLIBS)
# sanitizer builds for tests/test_examples.sh: bad input must not crash or leak
$(BUILD)/%_check: examples/%.c $(EX_DEPS)
	@mkdir -p $(BUILD)
	$(CC) -std=c99 -O1 -g $(ASAN) $(WARN) -I. $(filter -fopenmp,$(CFLAGS_BASE)) $< -o $@ $(LDLIBS)
examples: $(BUILD)/proteins $(BUILD)/arxiv

# The main job: a RevGNN on the built-in synthetic proteins-like graph, then the same run
# with zero layers (an MLP on the node features) for comparison.
run: $(BUILD)/proteins
	./$(BUILD)/proteins
	@echo
	@echo "the same run with zero layers, an MLP on the node features:"
	./$(BUILD)/proteins --arch res --layers 0 --groups 1

test: $(BUILD)/test_double $(BUILD)/test_float $(BUILD)/harness_selftest $(BUILD)/proteins_check $(BUILD)/arxiv_check \
      $(BUILD)/arxiv $(BUILD)/proteins $(BUILD)/test_oom
	@RG_TEST_REFERENCE=$(BUILD)/layer_reference.bin ./tests/run.sh $(BUILD)/harness_selftest $(BUILD)/test_double \
	    $(BUILD)/test_float $(BUILD)/test_oom "./tests/readme_example.sh $(BUILD)" ./tests/test_fetch.sh \
	    "./tests/test_examples.sh $(BUILD)" "./tests/test_help.sh $(BUILD)" ./tests/test_cmake.sh

ASAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# Sanitizer builds: with $(CC) into build/asan, and with clang into build/asan-clang when
# clang is there (its -fsanitize=undefined sees pointer arithmetic on NULL, which gcc's does not).
CLANG ?= clang
HAVE_CLANG := $(shell command -v $(CLANG) >/dev/null 2>&1 && echo yes)
CLANG_OMP := $(shell echo 'int main(void){return 0;}' | $(CLANG) -fopenmp -x c - -o /dev/null 2>/dev/null && echo -fopenmp)
ifneq ($(NO_OMP),1)
  CLANG_FLAGS_OMP = $(CLANG_OMP)
endif
CFLAGS_NO_OMP = $(filter-out -fopenmp,$(CFLAGS_BASE))
# $(1) folder, $(2) compiler, $(3) its OpenMP flag
define SAN_RULES
$(BUILD)/$(1)/test_double: $$(TEST_DEPS)
	@mkdir -p $$(@D)
	$(2) $$(CFLAGS_NO_OMP) $(3) -O1 -g $$(ASAN) -DREVGNN_REAL=double $$(TEST_SRC) -o $$@ $$(LDLIBS)
$(BUILD)/$(1)/test_float: $$(TEST_DEPS)
	@mkdir -p $$(@D)
	$(2) $$(CFLAGS_NO_OMP) $(3) -O1 -g $$(ASAN) -DREVGNN_REAL=float $$(TEST_SRC) -o $$@ $$(LDLIBS)
$(BUILD)/$(1)/test_oom: $$(OOM_DEPS)
	@mkdir -p $$(@D)
	$(2) $$(CFLAGS_NO_OMP) -O1 -g $$(ASAN) -Itests tests/test_oom.c -o $$@ $$(LDLIBS)
endef
$(eval $(call SAN_RULES,asan,$(CC),$(filter -fopenmp,$(CFLAGS_BASE))))
# -Wno-pass-failed: at -O1 with sanitizers clang cannot honour every `omp simd` hint, and
# says so (a missed optimisation, not a defect)
$(eval $(call SAN_RULES,asan-clang,$(CLANG),$(CLANG_FLAGS_OMP) -Wno-pass-failed))
SAN_RUN = RG_TEST_REFERENCE=$(BUILD)/$(1)/layer_reference.bin ./tests/run.sh $(BUILD)/$(1)/test_double \
	$(BUILD)/$(1)/test_float $(BUILD)/$(1)/test_oom
ifeq ($(HAVE_CLANG),yes)
SAN_DIRS = asan asan-clang
else
SAN_DIRS = asan
endif
# both builds run even when the first fails; the target fails if either did
test-asan: $(foreach d,$(SAN_DIRS),$(BUILD)/$(d)/test_double $(BUILD)/$(d)/test_float $(BUILD)/$(d)/test_oom)
	@echo "== $(CC) -fsanitize=address,undefined"; st=0; $(call SAN_RUN,asan) || st=1; \
	if [ "$(HAVE_CLANG)" = yes ]; then \
	    echo "✓ clang found: the same tests built with $(CLANG)"; $(call SAN_RUN,asan-clang) || st=1; \
	else echo "✗ clang not found: the clang sanitizer build skipped (Debian: apt-get install clang)"; fi; \
	exit $$st

# ---- fuzzing: libFuzzer targets (tests/fuzz/), clang only. Seeds are written by the library
# itself (build/fuzz/seeds) into build/fuzz/corpus/<target>, where libFuzzer keeps what it
# finds; a crash leaves build/fuzz/crash-<target>-* and fails the run. ----
FUZZ_SECONDS ?= 60
FUZZ_OGB = edge node-feat edge-feat node-label node_species split
FUZZ_TARGETS = $(addprefix ogb-,$(FUZZ_OGB)) checkpoint
FUZZ_FLAGS = -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(WARN) -I. -Itests/fuzz
FUZZ_DEPS = tests/fuzz/fuzz_data.h revgnn.h
# one loader binary for every file kind (FUZZ_KIND chooses at run time): one build, not six
$(BUILD)/fuzz/ogb: tests/fuzz/fuzz_ogb.c $(FUZZ_DEPS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_FLAGS) -DRG__CSV_BLOCK=64 $< -o $@ -lm
$(BUILD)/fuzz/checkpoint: tests/fuzz/fuzz_checkpoint.c $(FUZZ_DEPS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_FLAGS) $< -o $@ -lm
$(BUILD)/fuzz/seeds: tests/fuzz/seeds.c $(FUZZ_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_NO_OMP) -Itests/fuzz $< -o $@ $(LDLIBS)
$(BUILD)/fuzz/corpus/.seeded: $(BUILD)/fuzz/seeds
	./$(BUILD)/fuzz/seeds $(BUILD)/fuzz/corpus && touch $@
.PHONY: fuzz $(addprefix fuzz-,$(FUZZ_TARGETS))
# fuzz-T runs build/fuzz/B for FUZZ_SECONDS: B is "ogb" with FUZZ_KIND for the loader targets
fuzz_run = @echo "== fuzz $(1) for $(FUZZ_SECONDS) s"; \
	FUZZ_KIND=$(patsubst ogb-%,%,$(1)) ./$(BUILD)/fuzz/$(2) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(BUILD)/fuzz/crash-$(1)- $(BUILD)/fuzz/corpus/$(1) > $(BUILD)/fuzz/$(1).log 2>&1; rc=$$?; \
	    grep -E '^stat::(number_of_executed_units|peak_rss_mb)' $(BUILD)/fuzz/$(1).log | sed 's/^/$(1): /'; \
	    [ $$rc -eq 0 ] || { tail -n 60 $(BUILD)/fuzz/$(1).log; echo "fuzz $(1): failed (log $(BUILD)/fuzz/$(1).log)"; exit 1; }
$(addprefix fuzz-ogb-,$(FUZZ_OGB)): fuzz-ogb-%: $(BUILD)/fuzz/ogb $(BUILD)/fuzz/corpus/.seeded
	$(call fuzz_run,ogb-$*,ogb)
fuzz-checkpoint: $(BUILD)/fuzz/checkpoint $(BUILD)/fuzz/corpus/.seeded
	$(call fuzz_run,checkpoint,checkpoint)
ifeq ($(HAVE_CLANG),yes)
fuzz: $(addprefix fuzz-,$(FUZZ_TARGETS))
else
fuzz:
	@echo "✗ clang not found: the fuzz targets need clang and its libFuzzer (Debian: apt-get install clang)"; exit 1
endif

# The header on its own: C99 pedantic, C++17, and nvcc when present (stb's compile tests);
# revgnn_cuda.cuh's declarations as C99 (its implementation is built by `make cuda`).
test-compile:
	@mkdir -p $(BUILD)
	@printf '#define REVGNN_IMPLEMENTATION\n#include "revgnn.h"\nint main(void) { return 0; }\n' > $(BUILD)/compile_check.c
	$(CC) -std=c99 $(WARN) -I. -c $(BUILD)/compile_check.c -o $(BUILD)/compile_check_c99.o
	$(CC) -std=c99 $(WARN) -fopenmp -DREVGNN_REAL=double -I. -c $(BUILD)/compile_check.c -o $(BUILD)/compile_check_omp.o
	$(CC) -std=c99 $(WARN) -DREVGNN_NO_STDIO -I. -c $(BUILD)/compile_check.c -o $(BUILD)/compile_check_nostdio.o
	$(CXX) -x c++ -std=c++17 $(WARN) -I. -c $(BUILD)/compile_check.c -o $(BUILD)/compile_check_cxx.o
	@printf '#include "revgnn.h"\n#include "revgnn_cuda.cuh"\nint main(void) { return rg_cuda_device_count(); }\n' \
	    > $(BUILD)/compile_check_cuda_decl.c
	$(CC) -std=c99 $(WARN) -I. -c $(BUILD)/compile_check_cuda_decl.c -o $(BUILD)/compile_check_cuda_decl.o
	@if command -v $(NVCC) >/dev/null 2>&1; then \
	    echo "$(NVCC) -x cu (compile only)"; \
	    $(NVCC) -x cu -Werror all-warnings -I. -c $(BUILD)/compile_check.c -o $(BUILD)/compile_check_cu.o || exit 1; \
	else echo "✗ nvcc not found: CUDA compile check skipped"; fi

# ---- benchmarks (optimised for this machine); results into $(RESULTS), outside the tree's
# tracked files unless RESULTS=bench/results ----
BENCH_OPT ?= -O3 -march=native
RESULTS ?= $(BUILD)/bench-results
$(BUILD)/memory_scaling: bench/memory_scaling.c bench/common.h revgnn.h
	@mkdir -p $(BUILD)
	$(CC) -std=c99 $(BENCH_OPT) $(WARN) -I. $(filter -fopenmp,$(CFLAGS_BASE)) $< -o $@ $(LDLIBS)
$(BUILD)/throughput: bench/throughput.c bench/common.h revgnn.h
	@mkdir -p $(BUILD)
	$(CC) -std=c99 $(BENCH_OPT) $(WARN) -I. $(filter -fopenmp,$(CFLAGS_BASE)) $< -o $@ $(LDLIBS)
$(BUILD)/load: bench/load.c bench/common.h revgnn.h
	@mkdir -p $(BUILD)
	$(CC) -std=c99 $(BENCH_OPT) $(WARN) -I. $(filter -fopenmp,$(CFLAGS_BASE)) $< -o $@ $(LDLIBS)

# activation, parameter and total memory against depth, and against rev's groups (CSV + SVG)
memory-scaling: $(BUILD)/memory_scaling
	@mkdir -p $(RESULTS)
	./$(BUILD)/memory_scaling --out $(RESULTS)

# time per training step vs depth, FLOPs, bytes and the roofline
bench-throughput: $(BUILD)/throughput
	@mkdir -p $(RESULTS)
	./$(BUILD)/throughput --csv $(RESULTS)/throughput.csv

# loading an ogbn-proteins-shaped OGB directory (written once to /tmp/revgnn_load_bench, ~3.6 GB)
bench-load: $(BUILD)/load
	./$(BUILD)/load

# ---- CUDA: the examples, benchmarks and tests/test_cuda.cu built with nvcc (needs no GPU to
# build; test_cuda skips without one). sm_80 (A100) and sm_90 (H100/H200) code. ----
NVCC_ARCH ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90
NVCC_FLAGS = -x cu -std=c++17 -O3 $(NVCC_ARCH) -Werror all-warnings -Xcompiler -Wall,-Wextra -I.
NVCC_LIBS = -lcublas
ifeq ($(HAVE_OMP),yes)
  NVCC_FLAGS += -Xcompiler -fopenmp
  NVCC_LIBS += -lgomp
endif
CUDA_DEPS = revgnn.h revgnn_cuda.cuh
CUDA_TEST_SRC = tests/test_cuda.cu tests/test_layers.c tests/cases_basic.c tests/cases_convs.c tests/cases_gen.c \
                tests/cases_models.c
CUDA_BIN = $(BUILD)/cuda/proteins $(BUILD)/cuda/arxiv $(BUILD)/cuda/memory_scaling $(BUILD)/cuda/test_cuda \
           $(patsubst bench/%.c,$(BUILD)/cuda/%,$(wildcard bench/throughput.c))

$(BUILD)/cuda/%: examples/%.c examples/common.h $(CUDA_DEPS)
	@mkdir -p $(BUILD)/cuda
	$(NVCC) $(NVCC_FLAGS) $< -o $@ $(NVCC_LIBS)
$(BUILD)/cuda/%: bench/%.c bench/common.h $(CUDA_DEPS)
	@mkdir -p $(BUILD)/cuda
	$(NVCC) $(NVCC_FLAGS) $< -o $@ $(NVCC_LIBS)
$(BUILD)/cuda/test_cuda: $(CUDA_TEST_SRC) tests/harness.h tests/layer_case.h $(CUDA_DEPS)
	@mkdir -p $(BUILD)/cuda
	$(NVCC) $(NVCC_FLAGS) -Itests $(CUDA_TEST_SRC) -o $@ $(NVCC_LIBS)

# compiles everything CUDA (no GPU needed); ./build/cuda/test_cuda runs the parity tests on one
cuda:
	@if command -v $(NVCC) >/dev/null 2>&1; then $(MAKE) --no-print-directory $(CUDA_BIN); \
	else echo "✗ nvcc not found: make cuda skipped (set NVCC=/path/to/nvcc)"; fi

# OpenBLAS through pkg-config; bench-gemm is skipped with a note where it is not installed
OPENBLAS_FLAGS = $(shell pkg-config --cflags --libs openblas 2>/dev/null || echo -lopenblas)
OPENBLAS_PROBE = printf '\043include <cblas.h>\nint main(void) { openblas_set_num_threads(1); return 0; }\n' | \
	$(CC) -x c - -o /dev/null $(OPENBLAS_FLAGS) 2>/dev/null
# OpenBLAS 0.3.21 (Debian 12) does not know recent Xeons and falls back to its SSE3 kernels
# ("Prescott"); name its AVX-512 or AVX2 ones unless OPENBLAS_CORETYPE is set already.
OPENBLAS_CORE = $(shell grep -qw avx512f /proc/cpuinfo 2>/dev/null && echo SkylakeX || \
	(grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo Haswell))

$(BUILD)/bench_gemm: bench/gemm.c bench/common.h revgnn.h
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_BASE) bench/gemm.c -o $@ $(OPENBLAS_FLAGS) $(LDLIBS)

# libgomp's default idle threads spin for ~15 ms on CPUs with a slow PAUSE, taking the time
# of working threads where virtual CPUs share a core; passive waiting costs microseconds.
bench-gemm:
	@if $(OPENBLAS_PROBE); then $(MAKE) --no-print-directory $(BUILD)/bench_gemm && mkdir -p $(RESULTS) && \
	  OPENBLAS_CORETYPE=$${OPENBLAS_CORETYPE:-$(OPENBLAS_CORE)} OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-passive} \
	    ./$(BUILD)/bench_gemm $(RESULTS)/gemm.csv; \
	else echo "✗ OpenBLAS not found: bench-gemm skipped (Debian/Ubuntu: apt-get install libopenblas-dev)"; fi

bench: memory-scaling bench-throughput bench-gemm

clean:
	rm -rf $(BUILD)
