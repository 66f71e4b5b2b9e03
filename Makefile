# revgnn: the primary build. Needs only a C compiler and make.
#   make test        every test, double and float builds; last line "N passed, N failed, N skipped"
#   make test-asan   the same tests under -fsanitize=address,undefined
#   make NO_OMP=1    build without OpenMP
#   make test GREATEST_H=/path/to/greatest.h   the same test files against upstream greatest

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

.PHONY: all test test-asan clean
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

clean:
	rm -rf $(BUILD)
