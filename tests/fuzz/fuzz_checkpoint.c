/* libFuzzer target for the safetensors checkpoint reader (rg_checkpoint_load): the input is
   the file, loaded into the model of fuzz_model_config(). The reader takes a path, so the
   input is written to a temporary file (one per process) each run. Any status is fine; a
   crash, a sanitizer report or a leak is a finding.
      make fuzz-checkpoint FUZZ_SECONDS=3600
      build/fuzz/checkpoint -jobs=8 -max_total_time=3600 build/fuzz/corpus/checkpoint
   The seed is a checkpoint the library saved (build/fuzz/seeds, tests/fuzz/seeds.c). */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#define REVGNN_IMPLEMENTATION
#include "revgnn.h"
#include "fuzz_data.h"

static char fuzz_path[64];
static rg_ctx *fuzz_ctx;
static rg_model *fuzz_model;

static void fuzz_cleanup(void) {
    remove(fuzz_path);
    rg_model_destroy(fuzz_model);
    rg_ctx_destroy(fuzz_ctx);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    rg_config c = fuzz_model_config();
    int fd;
    (void)argc;
    (void)argv;
    snprintf(fuzz_path, sizeof fuzz_path, "/tmp/revgnn_fuzz_ckpt_XXXXXX");
    fd = mkstemp(fuzz_path);
    if (fd < 0 || rg_ctx_create_cpu(&fuzz_ctx, 1, 1) != RG_OK || rg_model_create(fuzz_ctx, &c, &fuzz_model) != RG_OK) {
        fprintf(stderr, "fuzz_checkpoint: setup failed: %s\n", rg_last_error());
        exit(1);
    }
    close(fd);
    atexit(fuzz_cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rg_adam opt = rg_adam_default(0.01);
    int64_t epoch = 0;
    FILE *f = fopen(fuzz_path, "wb");
    if (!f) return 0;
    if (size) fwrite(data, 1, size, f);
    fclose(f);
    (void)rg_checkpoint_load(fuzz_model, &opt, &epoch, fuzz_path);
    return 0;
}
