/* libFuzzer target for the OGB CSV loader (rg_dataset_load_ogb). One binary, build/fuzz/ogb,
   for every file kind, chosen by the environment variable FUZZ_KIND (edge, node-feat,
   edge-feat, node-label, node_species, split; see fuzz_data.h):
   the input replaces that one file of a small valid folder the library wrote, and the whole
   folder is loaded, so every check after the file's own parsing runs too. The loader reads
   files only, so the input is written to a temporary folder (one per process) each run.
   Any status is fine; a crash, a sanitizer report or a leak is a finding.
      make fuzz                      every target for FUZZ_SECONDS (default 60) each
      make fuzz-ogb-edge FUZZ_SECONDS=3600   one target, longer
      FUZZ_KIND=edge build/fuzz/ogb -jobs=8 -max_total_time=3600 build/fuzz/corpus/ogb-edge
   Seeds come from build/fuzz/seeds (tests/fuzz/seeds.c), which writes them with the library. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#define REVGNN_IMPLEMENTATION
#include "revgnn.h"
#include "fuzz_data.h"

static char fuzz_dir[64];
static const char *fuzz_file; /* the file of the folder the input replaces */

static void fuzz_cleanup(void) { fuzz_remove_ogb(fuzz_dir); }

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *kind = getenv("FUZZ_KIND");
    if (!kind || !(fuzz_file = fuzz_kind_file(kind))) {
        fprintf(stderr, "fuzz_ogb: set FUZZ_KIND to edge, node-feat, edge-feat, node-label, node_species or split\n");
        exit(1);
    }
    snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/revgnn_fuzz_XXXXXX");
    if (!mkdtemp(fuzz_dir) || !fuzz_write_ogb(fuzz_dir)) {
        fprintf(stderr, "fuzz_ogb: could not set up %s for kind %s\n", fuzz_dir, kind);
        exit(1);
    }
    atexit(fuzz_cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rg_dataset_options opt = rg_dataset_options_default();
    rg_dataset ds;
    FILE *f = fuzz_open(fuzz_dir, fuzz_file);
    if (!f) return 0;
    if (size) fwrite(data, 1, size, f);
    fclose(f);
    opt.species_onehot = 1;
    if (rg_dataset_load_ogb(NULL, fuzz_dir, &opt, &ds) == RG_OK) rg_dataset_free(NULL, &ds);
    return 0;
}
