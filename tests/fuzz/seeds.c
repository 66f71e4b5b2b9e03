/* Writes the fuzz targets' seed corpora with the library itself, into DIR/<target>/:
   ogb-<kind>/seed: that file of a small synthetic dataset in the OGB layout (fuzz_data.h),
   checkpoint/seed: a checkpoint saved by rg_checkpoint_save. Run by `make fuzz`:
      build/fuzz/seeds build/fuzz/corpus */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <stdlib.h>
#include <unistd.h>
#define REVGNN_IMPLEMENTATION
#include "revgnn.h"
#include "fuzz_data.h"

static int copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[4096];
    size_t n;
    int ok = in && out;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
    if (in) fclose(in);
    if (out) ok &= fclose(out) == 0;
    return ok;
}

int main(int argc, char **argv) {
    char tmp[64], from[1024], to[1024];
    rg_config c = fuzz_model_config();
    rg_adam opt = rg_adam_default(0.01);
    rg_ctx *ctx = NULL;
    rg_model *m = NULL;
    size_t k;
    int ok;
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    mkdir(argv[1], 0700);
    snprintf(tmp, sizeof tmp, "/tmp/revgnn_fuzz_seeds_XXXXXX");
    ok = mkdtemp(tmp) != NULL && fuzz_write_ogb(tmp);
    for (k = 0; ok && k < FUZZ_N_KINDS; k++) {
        snprintf(to, sizeof to, "%s/ogb-%s", argv[1], fuzz_kinds[k][0]);
        mkdir(to, 0700);
        snprintf(from, sizeof from, "%s/%s", tmp, fuzz_kinds[k][1]);
        snprintf(to, sizeof to, "%s/ogb-%s/seed", argv[1], fuzz_kinds[k][0]);
        ok = copy_file(from, to);
    }
    snprintf(to, sizeof to, "%s/checkpoint", argv[1]);
    mkdir(to, 0700);
    snprintf(to, sizeof to, "%s/checkpoint/seed", argv[1]);
    opt.step = 3;
    ok = ok && rg_ctx_create_cpu(&ctx, 1, 1) == RG_OK && rg_model_create(ctx, &c, &m) == RG_OK &&
         rg_checkpoint_save(m, &opt, 1, to) == RG_OK;
    if (!ok) fprintf(stderr, "seeds: %s\n", rg_last_error());
    rg_model_destroy(m);
    rg_ctx_destroy(ctx);
    fuzz_remove_ogb(tmp); /* the folder the seeds were copied from */
    return ok ? 0 : 1;
}
