/* Checkpoints: round trip, bitwise resume, and every kind of bad file refused with the
   model untouched and nothing half-written. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork, kill, waitpid, link, nanosleep, lstat */
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "layer_case.h"

#define CK_NODES 40

/* files go to $RG_TEST_DIR (default build, where make test runs; CMake passes its build folder) */
static const char *ck_path(const char *name) {
    static char buf[4][512];
    static int next;
    const char *dir = getenv("RG_TEST_DIR");
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", dir ? dir : "build", name);
    return p;
}
#define CK_PATH ck_path("ck_test.safetensors")

typedef struct ck_run {
    rg_ctx *ctx;
    rg_model *model;
    rg_graph g;
    rg_tensor x, out, dout, y;
    rg_adam adam;
} ck_run;

static rg_config ck_config(void) {
    rg_config c = rg_config_default();
    c.arch = RG_ARCH_REV;
    c.layers = 3;
    c.hidden = 8;
    c.groups = 2;
    c.in_dim = 5;
    c.out_dim = 3;
    c.edge_dim = 2;
    c.dropout = 0.2;
    c.norm = RG_NORM_BATCH; /* running statistics are buffers: they must round-trip too */
    c.seed = 4;
    return c;
}

static rg_status ck_open(ck_run *r, const rg_config *c) {
    rg_status st;
    memset(r, 0, sizeof *r);
    if ((st = rg_ctx_create_cpu(&r->ctx, 0, 1)) != RG_OK) return st;
    if ((st = lc_graph(r->ctx, &r->g, CK_NODES, c->edge_dim, 3)) != RG_OK) return st;
    if ((st = lc_random(r->ctx, &r->x, CK_NODES, c->in_dim, -1, 1, 7)) != RG_OK) return st;
    if ((st = lc_random(r->ctx, &r->y, CK_NODES, c->out_dim, 0, 1, 8)) != RG_OK) return st;
    if ((st = rg_tensor_alloc(r->ctx, &r->out, CK_NODES, c->out_dim)) != RG_OK) return st;
    if ((st = rg_tensor_alloc(r->ctx, &r->dout, CK_NODES, c->out_dim)) != RG_OK) return st;
    r->adam = rg_adam_default(1e-2);
    return rg_model_create(r->ctx, c, &r->model);
}

static void ck_close(ck_run *r) {
    rg_model_destroy(r->model);
    rg_graph_free(r->ctx, &r->g);
    rg_tensor_free(r->ctx, &r->x);
    rg_tensor_free(r->ctx, &r->y);
    rg_tensor_free(r->ctx, &r->out);
    rg_tensor_free(r->ctx, &r->dout);
    rg_ctx_destroy(r->ctx);
}

/* one training step with a BCE loss on fixed 0/1-ish targets; returns the loss */
static rg_status ck_step(ck_run *r, int64_t step, double *loss) {
    rg_status st = rg_model_forward(r->model, r->out, &r->g, r->x, RG_MODE_TRAIN, (uint64_t)step);
    if (st == RG_OK) st = rg_bce_logits(r->ctx, loss, r->dout, r->out, r->y, rg_tensor_view(NULL, 0, 0));
    if (st == RG_OK) st = rg_model_zero_grad(r->model);
    if (st == RG_OK) st = rg_model_backward(r->model, rg_tensor_view(NULL, 0, 0), r->dout);
    if (st == RG_OK) st = rg_model_adam_step(r->model, &r->adam);
    return st;
}

/* Resuming from a checkpoint reproduces the uninterrupted run's later losses bit for bit. */
TEST resume_is_bitwise(void) {
    rg_config c = ck_config();
    ck_run a, b;
    double full[6], resumed[6];
    int64_t s, epoch = -1;
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&a, &c));
    for (s = 0; s < 6; s++) ASSERT_EQm(rg_last_error(), RG_OK, ck_step(&a, s, &full[s]));
    ck_close(&a);
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&a, &c));
    for (s = 0; s < 3; s++) ASSERT_EQm(rg_last_error(), RG_OK, ck_step(&a, s, &resumed[s]));
    ASSERT_EQm(rg_last_error(), RG_OK, rg_checkpoint_save(a.model, &a.adam, 3, CK_PATH));
    ck_close(&a);
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&b, &c));
    b.adam = rg_adam_default(99); /* overwritten by the checkpoint */
    ASSERT_EQm(rg_last_error(), RG_OK, rg_checkpoint_load(b.model, &b.adam, &epoch, CK_PATH));
    ASSERT_EQ(3, epoch);
    ASSERT_EQ(3, b.adam.step);
    for (s = 3; s < 6; s++) ASSERT_EQm(rg_last_error(), RG_OK, ck_step(&b, s, &resumed[s]));
    ck_close(&b);
    remove(CK_PATH);
    ASSERT_MEM_EQm("losses after resuming differ from the uninterrupted run", full, resumed, sizeof full);
    PASS();
}

static double *ck_params(ck_run *r) {
    rg_tensor p = rg_model_param_block(r->model);
    rg_real *h = (rg_real *)malloc((size_t)rg_tensor_numel(p) * sizeof(rg_real));
    double *d = (double *)malloc((size_t)rg_tensor_numel(p) * sizeof(double));
    int64_t i;
    rg_tensor_download(r->ctx, p, h);
    for (i = 0; i < rg_tensor_numel(p); i++) d[i] = h[i];
    free(h);
    return d;
}

static long ck_file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    long n;
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fclose(f);
    return n;
}

/* write bytes [0, n) of src to dst, with byte `flip` (if >= 0) changed */
static int ck_copy(const char *src, const char *dst, long n, long flip) {
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    long i;
    int c, ok = in && out;
    for (i = 0; ok && i < n && (c = fgetc(in)) != EOF; i++) fputc(i == flip ? (c == '"' ? 'x' : '"') : c, out);
    if (in) fclose(in);
    if (out) fclose(out);
    return ok;
}

/* a bad file: the right status, a message naming the file, the model untouched */
static enum greatest_test_res ck_refused(ck_run *r, const char *path, rg_status want, const char *needle) {
    double *before = ck_params(r), *after;
    int64_t n = rg_tensor_numel(rg_model_param_block(r->model));
    rg_status st = rg_checkpoint_load(r->model, &r->adam, NULL, path);
    int same;
    after = ck_params(r);
    same = memcmp(before, after, (size_t)n * sizeof(double)) == 0;
    free(before);
    free(after);
    ASSERT_EQ_FMT((int)want, (int)st, "%d");
    ASSERTm(rg_last_error(), strstr(rg_last_error(), path) != NULL);
    ASSERTm(rg_last_error(), strstr(rg_last_error(), needle) != NULL);
    ASSERTm("a refused checkpoint changed the model", same);
    PASS();
}

TEST bad_checkpoints_refused(void) {
    rg_config c = ck_config(), other = ck_config();
    ck_run a, b;
    double loss;
    long size;
    size_t allocs;
    char bad[512], missing[512], unwritable[512], leftover[520];
    snprintf(bad, sizeof bad, "%s", ck_path("ck_bad.safetensors"));
    snprintf(missing, sizeof missing, "%s", ck_path("no_such_checkpoint.safetensors"));
    snprintf(unwritable, sizeof unwritable, "%s", ck_path("no_such_dir/x.safetensors"));
    snprintf(leftover, sizeof leftover, "%s.tmp", unwritable);
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&a, &c));
    ASSERT_EQm(rg_last_error(), RG_OK, ck_step(&a, 0, &loss));
    ASSERT_EQm(rg_last_error(), RG_OK, rg_checkpoint_save(a.model, &a.adam, 1, CK_PATH));
    size = ck_file_size(CK_PATH);
    ASSERT(size > 100);
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&b, &c));
    allocs = b.ctx->n_allocs;
    ASSERT(ck_copy(CK_PATH, bad, 5, -1));
    CHECK_CALL(ck_refused(&b, bad, RG_ERR_FORMAT, "truncated"));
    ASSERT(ck_copy(CK_PATH, bad, 300, -1));
    CHECK_CALL(ck_refused(&b, bad, RG_ERR_FORMAT, "header length"));
    ASSERT(ck_copy(CK_PATH, bad, size - 9, -1));
    CHECK_CALL(ck_refused(&b, bad, RG_ERR_FORMAT, "truncated"));
    ASSERT(ck_copy(CK_PATH, bad, size, 40)); /* a quote in the JSON header flipped */
    CHECK_CALL(ck_refused(&b, bad, RG_ERR_FORMAT, "checkpoint"));
    CHECK_CALL(ck_refused(&b, missing, RG_ERR_IO, "cannot open"));
    ASSERT_EQ(allocs, b.ctx->n_allocs);
    ck_close(&b);
    /* another configuration */
    other.hidden = 12;
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&b, &other));
    CHECK_CALL(ck_refused(&b, CK_PATH, RG_ERR_FORMAT, "another configuration"));
    CHECK_CALL(ck_refused(&b, CK_PATH, RG_ERR_FORMAT, "hidden: checkpoint 8, model 12"));
    ck_close(&b);
    other = ck_config();
    other.seed = 5;
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&b, &other));
    CHECK_CALL(ck_refused(&b, CK_PATH, RG_ERR_FORMAT, "seed: checkpoint 4, model 5"));
    ck_close(&b);
    /* an unwritable place: an error, and no temporary file left behind */
    ASSERT_EQ(RG_ERR_IO, rg_checkpoint_save(a.model, &a.adam, 1, unwritable));
    ASSERT(strstr(rg_last_error(), unwritable) != NULL);
    ASSERT_EQ(-1, ck_file_size(leftover));
    ck_close(&a);
    remove(CK_PATH);
    remove(bad);
    PASS();
}

/* ---- files edited byte by byte, long paths, a directory per test ---- */

static unsigned char *ck_read(const char *path, long *size) {
    long n = ck_file_size(path);
    FILE *f = fopen(path, "rb");
    unsigned char *b = n >= 0 ? (unsigned char *)malloc((size_t)n + 1) : NULL;
    if (f && b && fread(b, 1, (size_t)n, f) == (size_t)n) {
        fclose(f);
        *size = n;
        return b;
    }
    if (f) fclose(f);
    free(b);
    return NULL;
}

static int ck_write(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(p, 1, n, f) == n;
    if (f) ok = fclose(f) == 0 && ok;
    return ok;
}

static uint64_t ck_le64(const unsigned char *b) {
    uint64_t v = 0;
    int k;
    for (k = 7; k >= 0; k--) v = v << 8 | b[k];
    return v;
}

/* src with header bytes [at, at + len) replaced by repl, the header length rewritten */
static int ck_splice(const char *src, const char *dst, long at, long len, const char *repl) {
    long size, hlen, rl = (long)strlen(repl), nh;
    unsigned char *b = ck_read(src, &size), *o;
    int k, ok;
    if (!b) return 0;
    hlen = (long)ck_le64(b);
    nh = hlen - len + rl;
    o = (unsigned char *)malloc((size_t)(size - len + rl));
    for (k = 0; k < 8; k++) o[k] = (unsigned char)((uint64_t)nh >> (8 * k));
    memcpy(o + 8, b + 8, (size_t)at);
    memcpy(o + 8 + at, repl, (size_t)rl);
    memcpy(o + 8 + at + rl, b + 8 + at + len, (size_t)(size - 8 - at - len));
    ok = at + len <= hlen && ck_write(dst, o, (size_t)(size - len + rl));
    free(b);
    free(o);
    return ok;
}

/* src with `marker` and the value after it (up to a space or a quote) replaced by repl */
static int ck_edit(const char *src, const char *dst, const char *marker, const char *repl) {
    long size, hlen, at, end;
    unsigned char *b = ck_read(src, &size);
    char *h, *m;
    if (!b) return 0;
    hlen = (long)ck_le64(b);
    h = (char *)malloc((size_t)hlen + 1);
    memcpy(h, b + 8, (size_t)hlen);
    h[hlen] = '\0';
    m = strstr(h, marker);
    at = m ? (long)(m - h) : -1;
    for (end = at + (long)strlen(marker); m && end < hlen && h[end] != ' ' && h[end] != '"'; end++) {}
    free(h);
    free(b);
    return at >= 0 && ck_splice(src, dst, at, end - at, repl);
}

/* src with the element of type rg_real at byte `at` of the file set to v */
static int ck_poke(const char *src, const char *dst, long at, rg_real v) {
    long size;
    unsigned char *b = ck_read(src, &size);
    int ok = b && at + (long)sizeof v <= size;
    if (ok) {
        memcpy(b + at, &v, sizeof v);
        ok = ck_write(dst, b, (size_t)size);
    }
    free(b);
    return ok;
}

/* src with the offsets of a tensor other than the first set to the first one's (same size) */
static int ck_overlap(const char *src, const char *dst) {
    long size, hlen, first_end = -1;
    unsigned char *b = ck_read(src, &size);
    char *h, *p, repl[64];
    int ok = 0;
    if (!b) return 0;
    hlen = (long)ck_le64(b);
    h = (char *)malloc((size_t)hlen + 1);
    memcpy(h, b + 8, (size_t)hlen);
    h[hlen] = '\0';
    for (p = strstr(h, "\"data_offsets\":["); p && !ok; p = strstr(p + 1, "\"data_offsets\":[")) {
        long lo, hi;
        char *q = p + strlen("\"data_offsets\":[");
        if (sscanf(q, "%ld,%ld", &lo, &hi) != 2) break;
        if (lo == 0) first_end = hi;
        else if (first_end > 0 && hi - lo == first_end) {
            snprintf(repl, sizeof repl, "0,%ld", first_end);
            ok = ck_splice(src, dst, (long)(q - h), (long)(strchr(q, ']') - q), repl);
        }
    }
    free(h);
    free(b);
    return ok;
}

/* a fresh directory under the test folder (free the name, remove with ck_rmtree) */
static char *ck_tempdir(void) {
    const char *tmpl = ck_path("ck_dirXXXXXX");
    char *d = (char *)malloc(strlen(tmpl) + 1);
    strcpy(d, tmpl);
    if (!mkdtemp(d)) { free(d); return NULL; }
    return d;
}

static void ck_rmtree(const char *path) {
    struct stat s;
    if (lstat(path, &s) == 0 && S_ISDIR(s.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *ent;
        while (d && (ent = readdir(d)) != NULL) {
            char *sub;
            if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, "..")) continue;
            sub = (char *)malloc(strlen(path) + strlen(ent->d_name) + 2);
            sprintf(sub, "%s/%s", path, ent->d_name);
            ck_rmtree(sub);
            free(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* how many entries a directory holds (besides . and ..) */
static int ck_count_entries(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *ent;
    int n = 0;
    while (d && (ent = readdir(d)) != NULL) n += strcmp(ent->d_name, ".") && strcmp(ent->d_name, "..");
    if (d) closedir(d);
    return d ? n : -1;
}

/* a path of exactly `total` characters under root, through nested folders it creates (no
   component longer than 200), with a file name of 60 to 160 characters; free it */
static char *ck_long_path(const char *root, size_t total) {
    char *p = (char *)malloc(total + 1);
    size_t n = strlen(root);
    memcpy(p, root, n + 1);
    while (total - n - 1 > 160) {
        size_t k = total - n - 1 - 100 > 200 ? 200 : total - n - 1 - 100;
        p[n++] = '/';
        memset(p + n, 'd', k);
        n += k;
        p[n] = '\0';
        if (mkdir(p, 0755) != 0) { free(p); return NULL; }
    }
    p[n++] = '/';
    memset(p + n, 'c', total - n);
    p[total] = '\0';
    return p;
}

static int64_t ck_epoch_of(ck_run *r, const char *path) {
    int64_t epoch = -1;
    return rg_checkpoint_load(r->model, NULL, &epoch, path) == RG_OK ? epoch : -1;
}

/* Paths of 1023 characters and more: the save replaces the target atomically (a hard link
   to the old file keeps the old checkpoint) and no other file is touched, in particular not
   the one the temporary name cut to 1023 characters would name. */
TEST long_paths_are_atomic(void) {
    static const size_t lengths[4] = {1023, 1024, 1030, 2000};
    rg_config c = ck_config();
    ck_run a;
    char *root = ck_tempdir();
    int i;
    ASSERT(root != NULL);
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&a, &c));
    for (i = 0; i < 4; i++) {
        char *path, *dir, *old, *cut, sub[600];
        long size;
        unsigned char *kept;
        int entries;
        snprintf(sub, sizeof sub, "%s/%d", root, i); /* one per length: no folder is a prefix of another's name */
        ASSERT_EQ(0, mkdir(sub, 0755));
        path = ck_long_path(sub, lengths[i]);
        ASSERT(path != NULL);
        dir = (char *)malloc(lengths[i] + 16);
        strcpy(dir, path);
        *strrchr(dir, '/') = '\0';
        old = (char *)malloc(lengths[i] + 16);
        sprintf(old, "%s/old", dir);
        cut = (char *)malloc(lengths[i] + 16);
        sprintf(cut, "%s.tmp", path);
        cut[1023] = '\0'; /* what a 1024-byte buffer made of the temporary name */
        ASSERT_EQm(rg_last_error(), RG_OK, rg_checkpoint_save(a.model, &a.adam, 1, path));
        ASSERT_EQ(0, link(path, old));
        if (lengths[i] > 1023) ASSERT(ck_write(cut, "precious", 8));
        entries = ck_count_entries(dir);
        ASSERT_EQm(rg_last_error(), RG_OK, rg_checkpoint_save(a.model, &a.adam, 2, path));
        ASSERT_EQ_FMT(2LL, (long long)ck_epoch_of(&a, path), "%lld");
        ASSERT_EQ_FMT(1LL, (long long)ck_epoch_of(&a, old), "%lld"); /* the old file was replaced, not rewritten */
        if (lengths[i] > 1023) {
            kept = ck_read(cut, &size);
            ASSERTm("the file the cut temporary name names was destroyed", kept && size == 8 && !memcmp(kept, "precious", 8));
            free(kept);
        }
        ASSERT_EQm("a temporary file was left beside the target", entries, ck_count_entries(dir));
        free(path);
        free(dir);
        free(old);
        free(cut);
    }
    ck_close(&a);
    ck_rmtree(root);
    free(root);
    PASS();
}

/* a message longer than the buffer shows as a prefix of it and "..."; *kept: the prefix's length */
static enum greatest_test_res ck_cut_message(const char *text, size_t *kept) {
    const char *msg;
    size_t n;
    rg_error_set(RG_ERR_ARG, "%s", text);
    msg = rg_last_error();
    n = strlen(msg);
    ASSERT(n > 1000 && n < strlen(text));
    ASSERT_STR_EQ("...", msg + n - 3);
    ASSERT_EQ(0, memcmp(msg, text, n - 3));
    *kept = n - 3;
    PASS();
}

/* A message longer than the old 512 bytes keeps its path whole; one longer than the buffer
   ends with "..." after a whole word, or after a whole UTF-8 character in a long word. */
TEST error_messages_are_not_cut(void) {
    rg_config c = ck_config();
    ck_run a;
    size_t n, k;
    char *path = (char *)malloc(1600), *words = (char *)malloc(40001), *euros = (char *)malloc(30001);
    const char *msg;
    snprintf(path, 1600, "%s/no_such_dir/", ck_path(""));
    for (k = strlen(path); k < 1500; k++) path[k] = (k % 100) ? 'p' : '/';
    path[1500] = '\0';
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&a, &c));
    ASSERT_EQ(RG_ERR_IO, rg_checkpoint_save(a.model, &a.adam, 1, path));
    msg = rg_last_error();
    ASSERTm(msg, strstr(msg, path) != NULL);
    ASSERTm(msg, msg[strlen(msg) - 1] == ']'); /* where it was raised, kept at the end */
    ck_close(&a);
    for (k = 0; k < 40000; k++) words[k] = "word "[k % 5];
    words[40000] = '\0';
    CHECK_CALL(ck_cut_message(words, &n));
    ASSERT_EQ_FMT(' ', words[n], "%c"); /* the cut falls between words */
    for (k = 0; k < 30000; k += 3) memcpy(euros + k, "\xe2\x82\xac", 3);
    euros[30000] = '\0';
    CHECK_CALL(ck_cut_message(euros, &n));
    ASSERT_EQ_FMT((size_t)0, n % 3, "%zu"); /* no character cut in half */
    rg_error_clear();
    free(path);
    free(words);
    free(euros);
    PASS();
}

/* Metadata out of range, not numbers, or missing, NaN/inf in data, overlapping offsets: each
   refused naming the key and the value, the model untouched. */
TEST bad_metadata_refused(void) {
    static const char *const edits[][3] = { /* marker, replacement, what the message must say */
        {"\"epoch\":\"", "\"epoch\":\"-3", "epoch=-3"},
        {"\"epoch\":\"", "\"epoch\":\"9223372036854775807", "epoch=9223372036854775807"},
        {"\"epoch\":\"", "\"epoch\":\"99999999999999999999", "epoch=99999999999999999999"},
        {"\"epoch\":\"", "\"epoch\":\"1e300", "epoch=1e300"},
        {"\"epoch\":\"", "\"epoch\":\"", "epoch="},
        {"step=", "step=1e300", "step=1e300"},
        {"step=", "step=-1", "step=-1"},
        {"step=", "step=2.5", "step=2.5"},
        {"lr=", "lr=nan", "lr=nan"},
        {"lr=", "lr=inf", "lr=inf"},
        {"lr=", "lr=-0.1", "lr=-0.1"},
        {"beta1=", "beta1=1", "beta1=1"},
        {"beta2=", "beta2=-0.5", "beta2=-0.5"},
        {"beta2=", "beta2=0.9x", "beta2=0.9x"},
        {" eps=", " eps=-1e-08", "eps=-1e-08"},
        {"weight_decay=", "weight_decay=inf", "weight_decay=inf"},
        {"decoupled=", "decoupled=2", "decoupled=2"},
        {" eps=", "", "no eps"},
        {"step=", "", "no step"},
        {"lr=", "lr=0.01 momentum=3", "momentum"},
    };
    rg_config c = ck_config();
    ck_run a, b;
    double loss;
    long size;
    unsigned char *file;
    rg_real bad_values[2];
    char bad[512];
    size_t i;
    snprintf(bad, sizeof bad, "%s", ck_path("ck_meta.safetensors"));
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&a, &c));
    ASSERT_EQm(rg_last_error(), RG_OK, ck_step(&a, 0, &loss));
    ASSERT_EQm(rg_last_error(), RG_OK, rg_checkpoint_save(a.model, &a.adam, 1, CK_PATH));
    ck_close(&a);
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&b, &c));
    for (i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        ASSERTm(edits[i][0], ck_edit(CK_PATH, bad, edits[i][0], edits[i][1]));
        if (GREATEST_IS_VERBOSE()) printf("  %s\n", edits[i][1]);
        CHECK_CALL(ck_refused(&b, bad, RG_ERR_FORMAT, edits[i][2]));
    }
    /* a NaN in the first tensor, an inf in the last (checked before anything is read in) */
    file = ck_read(CK_PATH, &size);
    ASSERT(file != NULL);
    bad_values[0] = (rg_real)NAN;
    bad_values[1] = (rg_real)INFINITY;
    ASSERT(ck_poke(CK_PATH, bad, 8 + (long)ck_le64(file), bad_values[0]));
    CHECK_CALL(ck_refused(&b, bad, RG_ERR_FORMAT, "not finite"));
    ASSERT(ck_poke(CK_PATH, bad, size - (long)sizeof(rg_real), bad_values[1]));
    CHECK_CALL(ck_refused(&b, bad, RG_ERR_FORMAT, "not finite"));
    free(file);
    ASSERT(ck_overlap(CK_PATH, bad));
    CHECK_CALL(ck_refused(&b, bad, RG_ERR_FORMAT, "overlap"));
    /* not safetensors at all */
    ASSERT(ck_write(bad, "this is a text file, not a checkpoint\n", 38));
    CHECK_CALL(ck_refused(&b, bad, RG_ERR_FORMAT, "not a safetensors file"));
    /* a malformed header: the offset counts from the start of the file (the ':' after
       "__metadata__" is byte 8 + 1 + 14) */
    ASSERT(ck_copy(CK_PATH, bad, size, 23));
    CHECK_CALL(ck_refused(&b, bad, RG_ERR_FORMAT, "byte 23"));
    /* nor does a save write what a load would refuse */
    remove(bad);
    b.adam.beta1 = 1;
    ASSERT_EQ(RG_ERR_ARG, rg_checkpoint_save(b.model, &b.adam, 1, bad));
    ASSERTm(rg_last_error(), strstr(rg_last_error(), "beta1") != NULL);
    b.adam = rg_adam_default(1e-2);
    ASSERT_EQ(RG_ERR_ARG, rg_checkpoint_save(b.model, &b.adam, -1, bad));
    ASSERTm(rg_last_error(), strstr(rg_last_error(), "epoch -1") != NULL);
    ASSERT_EQ(-1, ck_file_size(bad));
    ck_close(&b);
    remove(CK_PATH);
    remove(bad);
    PASS();
}

static void ck_sleep_us(long us) {
    struct timespec t;
    t.tv_sec = us / 1000000;
    t.tv_nsec = (us % 1000000) * 1000;
    nanosleep(&t, NULL);
}

static int ck_same_file(const char *path, const unsigned char *want, long want_size) {
    long size;
    unsigned char *b = ck_read(path, &size);
    int same = b && size == want_size && memcmp(b, want, (size_t)size) == 0;
    free(b);
    return same;
}

/* A child saving in a loop is killed at random moments, at a 1023-character path: the target
   is always the old checkpoint or the new one, and the next save leaves no temporary file. */
TEST kill_during_save(void) {
    rg_config c = ck_config();
    ck_run a;
    char *root = ck_tempdir(), *path, *dir, *ref;
    unsigned char *old_bytes, *new_bytes;
    long old_size, new_size;
    int i, left_temporary = 0, renamed = 0, entries;
    long waited;
    ASSERT(root != NULL);
    c.hidden = 256; /* a file of a few MB, so a kill often lands mid-save */
    c.layers = 6;
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&a, &c));
    ref = (char *)malloc(strlen(root) + 8);
    sprintf(ref, "%s/ref", root);
    ASSERT_EQm(rg_last_error(), RG_OK, rg_checkpoint_save(a.model, &a.adam, 2, ref));
    new_bytes = ck_read(ref, &new_size);
    ASSERT_EQm(rg_last_error(), RG_OK, rg_checkpoint_save(a.model, &a.adam, 1, ref));
    old_bytes = ck_read(ref, &old_size);
    ASSERT(old_bytes && new_bytes && old_size > 1000000);
    path = ck_long_path(root, 1023);
    ASSERT(path != NULL);
    dir = (char *)malloc(1024);
    strcpy(dir, path);
    *strrchr(dir, '/') = '\0';
    for (i = 0; i < 12; i++) {
        pid_t child;
        int status;
        ASSERT_EQm(rg_last_error(), RG_OK, rg_checkpoint_save(a.model, &a.adam, 1, path));
        fflush(NULL);
        child = fork();
        ASSERT(child >= 0);
        if (child == 0) {
            for (;;)
                if (rg_checkpoint_save(a.model, &a.adam, 2, path) != RG_OK) _exit(3);
        }
        /* once its temporary file is there (at most 2 s): at once, or up to 60 ms later (a
           later save) */
        for (waited = 0; waited < 2000000 && ck_count_entries(dir) < 2; waited += 200) ck_sleep_us(200);
        ck_sleep_us(20000 * (i % 4) * (i % 4) / 3);
        kill(child, SIGKILL);
        ASSERT_EQ(child, waitpid(child, &status, 0));
        ASSERTm("the saving child failed", WIFSIGNALED(status));
        ASSERTm("a kill left a target that is neither the old nor the new checkpoint",
                ck_same_file(path, old_bytes, old_size) || ck_same_file(path, new_bytes, new_size));
        left_temporary += ck_count_entries(dir) > 1;
        renamed += ck_same_file(path, new_bytes, new_size);
    }
    if (GREATEST_IS_VERBOSE())
        printf("  %d of %d kills landed during a save; %d found the new checkpoint\n", left_temporary, i, renamed);
    ASSERTm("no kill landed during a save: the test tested nothing", left_temporary > 0);
    ASSERT_EQm(rg_last_error(), RG_OK, rg_checkpoint_save(a.model, &a.adam, 2, path));
    entries = ck_count_entries(dir);
    ASSERT_EQm("a temporary file outlived the next save", 1, entries);
    ASSERT(ck_same_file(path, new_bytes, new_size));
    ck_close(&a);
    ck_rmtree(root);
    free(root);
    free(path);
    free(dir);
    free(ref);
    free(old_bytes);
    free(new_bytes);
    PASS();
}

/* Two processes saving to one file at once: every save succeeds, the file ends as one of
   their checkpoints, and no temporary file is left (each writes its own). */
TEST concurrent_saves(void) {
    rg_config c = ck_config();
    ck_run a;
    char *root = ck_tempdir(), *path, *ref;
    unsigned char *bytes[2];
    long sizes[2];
    pid_t child[2];
    int k, status, ok = 1;
    ASSERT(root != NULL);
    c.hidden = 128;
    ASSERT_EQm(rg_last_error(), RG_OK, ck_open(&a, &c));
    path = (char *)malloc(strlen(root) + 16);
    ref = (char *)malloc(strlen(root) + 16);
    sprintf(path, "%s/ck", root);
    sprintf(ref, "%s/../ck_ref", root);
    for (k = 0; k < 2; k++) {
        ASSERT_EQm(rg_last_error(), RG_OK, rg_checkpoint_save(a.model, &a.adam, 1 + k, ref));
        bytes[k] = ck_read(ref, &sizes[k]);
        ASSERT(bytes[k] != NULL);
    }
    remove(ref);
    fflush(NULL);
    for (k = 0; k < 2; k++) {
        child[k] = fork();
        ASSERT(child[k] >= 0);
        if (child[k] == 0) {
            int j, code = 0;
            for (j = 0; j < 40 && !code; j++)
                if (rg_checkpoint_save(a.model, &a.adam, 1 + k, path) != RG_OK) {
                    fprintf(stderr, "child %d: %s\n", k, rg_last_error());
                    code = 3;
                }
            /* freed, so a leak checker that follows the fork finds nothing */
            ck_close(&a);
            free(root);
            free(path);
            free(ref);
            free(bytes[0]);
            free(bytes[1]);
            _exit(code);
        }
    }
    for (k = 0; k < 2; k++) {
        ASSERT_EQ(child[k], waitpid(child[k], &status, 0));
        ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    ASSERTm("a save failed while another process saved the same file", ok);
    ASSERTm("concurrent saves left a file that is neither checkpoint",
            ck_same_file(path, bytes[0], sizes[0]) || ck_same_file(path, bytes[1], sizes[1]));
    ASSERT_EQm("a temporary file was left", 1, ck_count_entries(root));
    ck_close(&a);
    ck_rmtree(root);
    free(root);
    free(path);
    free(ref);
    free(bytes[0]);
    free(bytes[1]);
    PASS();
}

SUITE(checkpoint) {
    RUN_TEST(resume_is_bitwise);
    RUN_TEST(bad_checkpoints_refused);
    RUN_TEST(long_paths_are_atomic);
    RUN_TEST(error_messages_are_not_cut);
    RUN_TEST(bad_metadata_refused);
    RUN_TEST(kill_during_save);
    RUN_TEST(concurrent_saves);
}
