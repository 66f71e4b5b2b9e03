/* Data: the OGB loader on the real Cora files (counts from their README) and on a tiny
   hand-written multi-label dataset with edge features and species; every kind of bad input
   (status, "path:line" and the value in the message, output zeroed; leaks are
   LeakSanitizer's under make test-asan); the synthetic generator (deterministic, positive
   rates, features built as the loader builds them, a round trip through CSV files, labels
   that need the neighbourhood); and the
   metrics against hand computations and a brute-force ROC-AUC. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, mkdir, rmdir, unlink */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "revgnn.h"

static char td_msg[768];

#define TD_PATH 4096 /* room for the long-path test's names */

/* ---- a temporary dataset folder ---- */

/* every file a test may write, so the folder can be removed */
static const char *const td_files[] = {
    "raw/num-node-list.csv", "raw/num-edge-list.csv", "raw/edge.csv", "raw/edge-feat.csv", "raw/node-feat.csv",
    "raw/node-label.csv", "raw/node_species.csv", "raw/edge.csv.gz", "split/species/train.csv",
    "split/species/valid.csv", "split/species/test.csv", "split/other/train.csv"};
/* (a folder where raw/edge.csv should be is removed by its test) */
static const char *const td_dirs[] = {"split/other", "split/species", "split", "raw", ""};

static void td_path(char *out, size_t size, const char *dir, const char *rel) {
    snprintf(out, size, "%s/%s", dir, rel);
}

/* writes n bytes of content to dir/rel */
static int td_write_n(const char *dir, const char *rel, const char *content, size_t n) {
    char path[TD_PATH];
    FILE *f;
    td_path(path, sizeof path, dir, rel);
    f = fopen(path, "wb");
    if (!f) return 0;
    if (fwrite(content, 1, n, f) != n) n = 0;
    return fclose(f) == 0 && (n > 0 || !*content);
}

static int td_write(const char *dir, const char *rel, const char *content) {
    char path[TD_PATH];
    td_path(path, sizeof path, dir, rel);
    if (!content) return remove(path) == 0;
    return td_write_n(dir, rel, content, strlen(content));
}

static int td_exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

/* a fresh folder with raw/, split/species/ and split/other/; dir gets its path */
static int td_mkdir(char *dir, size_t size) {
    char path[TD_PATH];
    size_t k;
    snprintf(dir, size, "/tmp/revgnn_test_data_XXXXXX");
    if (!mkdtemp(dir)) return 0;
    for (k = sizeof td_dirs / sizeof *td_dirs - 1; k-- > 0;) {
        td_path(path, sizeof path, dir, td_dirs[k]);
        if (mkdir(path, 0700) != 0) return 0;
    }
    return 1;
}

static void td_rmdir(const char *dir) {
    char path[TD_PATH];
    size_t k;
    for (k = 0; k < sizeof td_files / sizeof *td_files; k++) {
        td_path(path, sizeof path, dir, td_files[k]);
        remove(path);
    }
    for (k = 0; k < sizeof td_dirs / sizeof *td_dirs; k++) {
        td_path(path, sizeof path, dir, td_dirs[k]);
        rmdir(path);
    }
}

/* The tiny dataset: 4 nodes, 3 edges stored once with 2 features, 3 tasks, 3 species (taxon
   ids 3702 < 9606 < 10090 become 0, 1, 2). CRLF ends, a space, an exponent and a last line
   without "\n" are all allowed. */
static int td_write_tiny(const char *dir) {
    return td_write(dir, "raw/num-node-list.csv", "4\n") && td_write(dir, "raw/num-edge-list.csv", "3\n") &&
           td_write(dir, "raw/edge.csv", "0,1\n1,2\n3,1\n") &&
           td_write(dir, "raw/edge-feat.csv", "0.5,1\r\n0.25, 2\r\n1e-1,-3\r\n") &&
           td_write(dir, "raw/node-label.csv", "1,0,1\n0,0,1\n1,1,0\n0,1,0") &&
           td_write(dir, "raw/node_species.csv", "9606\n3702\n9606\n10090\n") &&
           td_write(dir, "split/species/train.csv", "0\n2\n") && td_write(dir, "split/species/valid.csv", "1\n") &&
           td_write(dir, "split/species/test.csv", "3\n");
}

/* ---- Cora ---- */

TEST cora_counts(void) {
    const char *shared = getenv("RG_SHARED_DATA");
    char dir[512];
    rg_dataset ds;
    rg_dataset_options opt = rg_dataset_options_default();
    rg_status st;
    double ones = 0;
    int64_t i, e, other = 0, reverse_missing = 0;
    snprintf(dir, sizeof dir, "%s/cora", shared ? shared : "../shared/data");
    snprintf(td_msg, sizeof td_msg, "%s/raw/edge.csv", dir);
    if (!shared && !td_exists(td_msg)) SKIPm("no ../shared/data/cora (set RG_SHARED_DATA)");
    st = rg_dataset_load_ogb(NULL, dir, NULL, &ds);
    ASSERT_EQm(rg_last_error(), RG_OK, st);
    for (i = 0; i < ds.n_nodes * ds.x_dim; i++) {
        ones += ds.x[i];
        other += ds.x[i] != 0 && ds.x[i] != 1;
    }
    /* every edge u -> v has its reverse v -> u (rows are sorted by source) */
    for (e = 0; e < ds.graph.n_edges; e++) {
        int32_t u = ds.graph.src[e], v = ds.graph.dst[e];
        int64_t f, found = 0;
        for (f = ds.graph.rowptr[u]; f < ds.graph.rowptr[u + 1]; f++) found += ds.graph.src[f] == v;
        reverse_missing += found == 0;
    }
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_validate(&ds.graph));
    ASSERT_EQ(2708, (int)ds.n_nodes);
    ASSERT_EQ(10556, (int)ds.graph.n_edges);
    ASSERT_EQ(0, (int)ds.graph.edge_dim);
    ASSERT_EQ(0, (int)reverse_missing);
    ASSERT_EQ(1433, (int)ds.x_dim);
    ASSERT_EQ(49216.0, ones);
    ASSERT_EQ(0, (int)other);
    ASSERT_EQ((int)RG_TASK_MULTICLASS, (int)ds.task);
    ASSERT_EQ(7, (int)ds.n_tasks);
    ASSERT(ds.labels != NULL && ds.y == NULL && ds.species == NULL && ds.n_species == 0);
    for (i = 0; i < ds.n_nodes; i++) ASSERT(ds.labels[i] >= 0 && ds.labels[i] < 7);
    ASSERT_EQ(140, (int)ds.split_size[0]);
    ASSERT_EQ(500, (int)ds.split_size[1]);
    ASSERT_EQ(1000, (int)ds.split_size[2]);
    for (i = 0; i < 140; i++) ASSERT_EQ((int)i, ds.split[0][i]);
    for (i = 0; i < 500; i++) ASSERT_EQ((int)(140 + i), ds.split[1][i]);
    for (i = 1; i < 1000; i++) ASSERTm("test ids are not ascending", ds.split[2][i - 1] < ds.split[2][i]);
    rg_dataset_free(NULL, &ds);
    ASSERT(ds.x == NULL && ds.n_nodes == 0);
    /* the split named explicitly gives the same; an absent one is an error naming its file */
    opt.split = "planetoid";
    st = rg_dataset_load_ogb(NULL, dir, &opt, &ds);
    ASSERT_EQm(rg_last_error(), RG_OK, st);
    ASSERT_EQ(1000, (int)ds.split_size[2]);
    rg_dataset_free(NULL, &ds);
    opt.split = "nope";
    ASSERT_EQ(RG_ERR_IO, rg_dataset_load_ogb(NULL, dir, &opt, &ds));
    ASSERTm(rg_last_error(), strstr(rg_last_error(), "split/nope/train.csv") != NULL);
    PASS();
}

/* ---- the tiny multi-label dataset ---- */

static enum greatest_test_res td_check_tiny(const rg_dataset *ds, int onehot) {
    /* incoming rows after the reverse edges: 0 <- 1; 1 <- 0, 2, 3; 2 <- 1; 3 <- 1 */
    static const int64_t rowptr[] = {0, 1, 4, 5, 6};
    static const int32_t src[] = {1, 0, 2, 3, 1, 1};
    static const double feat[6][2] = {{0.5, 1}, {0.5, 1}, {0.25, 2}, {0.1, -3}, {0.25, 2}, {0.1, -3}};
    static const int32_t species[] = {1, 0, 1, 2};
    static const double y[4][3] = {{1, 0, 1}, {0, 0, 1}, {1, 1, 0}, {0, 1, 0}};
    /* x = the sum of the incident edge features (as rg_real, summed in double) */
    const rg_real f01 = (rg_real)0.5, f12 = (rg_real)0.25, f31 = (rg_real)0.1;
    const rg_real x[4][2] = {{f01, 1},
                             {(rg_real)((double)f01 + (double)f12 + (double)f31), 0},
                             {f12, 2},
                             {f31, -3}};
    int64_t i, j;
    ASSERT_EQ(4, (int)ds->n_nodes);
    ASSERT_EQ(6, (int)ds->graph.n_edges);
    ASSERT_EQ(2, (int)ds->graph.edge_dim);
    for (i = 0; i <= 4; i++) ASSERT_EQ(rowptr[i], ds->graph.rowptr[i]);
    for (i = 0; i < 6; i++) {
        ASSERT_EQ(src[i], ds->graph.src[i]);
        for (j = 0; j < 2; j++) ASSERT_EQ((rg_real)feat[i][j], ds->graph.edge_feat[i * 2 + j]);
    }
    ASSERT_EQ(onehot ? 5 : 2, (int)ds->x_dim);
    for (i = 0; i < 4; i++) {
        for (j = 0; j < 2; j++) ASSERT_EQ(x[i][j], ds->x[i * ds->x_dim + j]);
        for (j = 0; onehot && j < 3; j++) ASSERT_EQ((rg_real)(j == species[i]), ds->x[i * ds->x_dim + 2 + j]);
    }
    ASSERT_EQ((int)RG_TASK_MULTILABEL, (int)ds->task);
    ASSERT_EQ(3, (int)ds->n_tasks);
    ASSERT(ds->labels == NULL && ds->y != NULL);
    for (i = 0; i < 4; i++)
        for (j = 0; j < 3; j++) ASSERT_EQ((rg_real)y[i][j], ds->y[i * 3 + j]);
    ASSERT_EQ(3, (int)ds->n_species);
    for (i = 0; i < 4; i++) ASSERT_EQ(species[i], ds->species[i]);
    ASSERT_EQ(2, (int)ds->split_size[0]);
    ASSERT_EQ(1, (int)ds->split_size[1]);
    ASSERT_EQ(1, (int)ds->split_size[2]);
    ASSERT(ds->split[0][0] == 0 && ds->split[0][1] == 2 && ds->split[1][0] == 1 && ds->split[2][0] == 3);
    PASS();
}

TEST tiny_multilabel(void) {
    char dir[256];
    rg_dataset ds;
    rg_dataset_options opt = rg_dataset_options_default();
    rg_status st;
    enum greatest_test_res res = GREATEST_TEST_RES_PASS;
    ASSERTm("cannot make a temporary folder", td_mkdir(dir, sizeof dir));
    ASSERTm("cannot write the dataset", td_write_tiny(dir));
    opt.species_onehot = 1;
    st = rg_dataset_load_ogb(NULL, dir, &opt, &ds);
    if (st == RG_OK) {
        res = td_check_tiny(&ds, 1);
        rg_dataset_free(NULL, &ds);
    }
    if (st == RG_OK && res == GREATEST_TEST_RES_PASS) { /* no one-hot; the counts from the files themselves */
        td_write(dir, "raw/num-node-list.csv", NULL);
        td_write(dir, "raw/num-edge-list.csv", NULL);
        st = rg_dataset_load_ogb(NULL, dir, NULL, &ds);
        if (st == RG_OK) {
            res = td_check_tiny(&ds, 0);
            rg_dataset_free(NULL, &ds);
        }
    }
    td_rmdir(dir);
    ASSERT_EQm(rg_last_error(), RG_OK, st);
    return res;
}

/* ---- bad input ---- */

typedef struct td_case {
    const char *file, *content; /* content NULL: the file is removed */
    rg_status status;
    const char *needle1, *needle2;
} td_case;

static const td_case td_bad[] = {
    /* missing files */
    {"raw/edge.csv", NULL, RG_ERR_IO, "raw/edge.csv", "cannot open"},
    {"raw/node-label.csv", NULL, RG_ERR_IO, "raw/node-label.csv", "cannot open"},
    {"split/species/valid.csv", NULL, RG_ERR_IO, "split/species/valid.csv", "cannot open"},
    /* malformed and non-numeric values */
    {"raw/edge.csv", "0,1\n1,x\n3,1\n", RG_ERR_FORMAT, "raw/edge.csv:2:", "\"x\" is not an integer"},
    {"raw/edge.csv", "0,1\n1,2.5\n3,1\n", RG_ERR_FORMAT, "raw/edge.csv:2:", "\"2.5\" is not an integer"},
    {"raw/edge-feat.csv", "0.5,1\n0.25,abc\n0.1,-3\n", RG_ERR_FORMAT, "raw/edge-feat.csv:2:",
     "\"abc\" is not a number"},
    {"raw/edge-feat.csv", "0.5,1\n0.25,2\n0.1,1e\n", RG_ERR_FORMAT, "raw/edge-feat.csv:3:", "\"1e\" is not a number"},
    {"raw/edge-feat.csv", "0.5,1\n0.25,2\n0.1,-\n", RG_ERR_FORMAT, "raw/edge-feat.csv:3:", "\"-\" is not a number"},
    {"raw/edge-feat.csv", "0.5,1\n0.25,2 3\n0.1,1\n", RG_ERR_FORMAT, "raw/edge-feat.csv:2:", "\"2 3\" is not a number"},
    {"raw/node-label.csv", "1,0,1\n0,nan,1\n1,1,0\n0,1,0\n", RG_ERR_FORMAT, "raw/node-label.csv:2:",
     "\"nan\" is not an integer"},
    {"raw/node_species.csv", "9606\n3702\n96x06\n10090\n", RG_ERR_FORMAT, "raw/node_species.csv:3:", "\"96x06\""},
    {"raw/num-node-list.csv", "four\n", RG_ERR_FORMAT, "raw/num-node-list.csv:1:", "\"four\""},
    /* ids and values out of range */
    {"raw/edge.csv", "0,1\n1,2\n3,4\n", RG_ERR_FORMAT, "raw/edge.csv:3:", "node id 4 is out of range [0, 4)"},
    {"raw/edge.csv", "0,1\n-1,2\n3,1\n", RG_ERR_FORMAT, "raw/edge.csv:2:", "node id -1 is out of range"},
    {"split/species/test.csv", "3\n7\n", RG_ERR_FORMAT, "split/species/test.csv:2:", "node id 7 is out of range"},
    {"split/species/train.csv", "0\n2\n0\n", RG_ERR_FORMAT, "split/species/train.csv:3:", "node id 0 repeats line 1"},
    {"raw/node-label.csv", "1,0,1\n0,0,2\n1,1,0\n0,1,0\n", RG_ERR_FORMAT, "raw/node-label.csv:2:",
     "label 2 is out of range [0, 2)"},
    {"raw/num-node-list.csv", "0\n", RG_ERR_FORMAT, "raw/num-node-list.csv:1:", "count 0 is out of range"},
    /* row counts that disagree */
    {"raw/node-label.csv", "1,0,1\n0,0,1\n1,1,0\n0,1,0\n1,1,1\n", RG_ERR_FORMAT, "raw/node-label.csv:5:",
     "one row more than the 4 nodes in raw/num-node-list.csv"},
    {"raw/num-node-list.csv", "5\n", RG_ERR_FORMAT, "raw/node-label.csv:4:", "ends after 4 rows, short of the 5 nodes"},
    {"raw/node_species.csv", "9606\n3702\n9606\n", RG_ERR_FORMAT, "raw/node_species.csv:3:",
     "ends after 3 rows, short of the 4 nodes in raw/num-node-list.csv"},
    {"raw/node-feat.csv", "1,2\n3,4\n5,6\n", RG_ERR_FORMAT, "raw/node-feat.csv:3:", "short of the 4 nodes"},
    {"raw/edge-feat.csv", "0.5,1\n0.25,2\n", RG_ERR_FORMAT, "raw/edge-feat.csv:2:",
     "short of the 3 edges in raw/edge.csv"},
    {"raw/edge-feat.csv", "0.5,1\n0.25,2\n0.1,1\n1,1\n", RG_ERR_FORMAT, "raw/edge-feat.csv:4:",
     "one row more than the 3 edges in raw/edge.csv"},
    {"raw/num-edge-list.csv", "4\n", RG_ERR_FORMAT, "raw/edge.csv:3:", "short of the 4 edges in raw/num-edge-list.csv"},
    {"raw/num-node-list.csv", "4\n4\n", RG_ERR_FORMAT, "raw/num-node-list.csv:2:", "one row more"},
    /* wrong column counts */
    {"raw/edge.csv", "0,1,2\n1,2\n3,1\n", RG_ERR_FORMAT, "raw/edge.csv:1:", "3 columns, expected 2"},
    {"raw/edge.csv", "0,1\n\n3,1\n", RG_ERR_FORMAT, "raw/edge.csv:2:", "0 columns, expected 2"},
    {"raw/edge-feat.csv", "0.5,1\n0.25\n0.1,-3\n", RG_ERR_FORMAT, "raw/edge-feat.csv:2:", "1 columns, expected 2"},
    {"raw/node-label.csv", "1,0,1\n0,0\n1,1,0\n0,1,0\n", RG_ERR_FORMAT, "raw/node-label.csv:2:",
     "2 columns, expected 3"},
    {"raw/node-label.csv", "", RG_ERR_FORMAT, "raw/node-label.csv:0:", "the file is empty"},
    {"split/species/valid.csv", "1,2\n", RG_ERR_FORMAT, "split/species/valid.csv:1:", "2 columns, expected 1"},
    /* empty splits fail at load, not later in a metric */
    {"split/species/valid.csv", "", RG_ERR_FORMAT, "split/species/valid.csv", "no node ids"},
    {"split/species/train.csv", "\n", RG_ERR_FORMAT, "split/species/train.csv", "no node ids"},
    /* invisible characters are shown escaped: a BOM not at the start, a control character */
    {"raw/edge.csv", "0,1\n\xEF\xBB\xBF" "1,2\n3,1\n", RG_ERR_FORMAT, "raw/edge.csv:2:",
     "\"\\xef\\xbb\\xbf1\" is not an integer"},
    {"raw/edge.csv", "0,1\n1,\x01" "2\n3,1\n", RG_ERR_FORMAT, "raw/edge.csv:2:", "\"\\x012\" is not an integer"},
    /* a trailing empty line is allowed, two are not */
    {"raw/edge.csv", "0,1\n1,2\n3,1\n\n\n", RG_ERR_FORMAT, "raw/edge.csv:4:", "one row more"},
    /* class ids bounded by the data, counts by what the files can hold: bad input, not OOM */
    {"raw/node-label.csv", "0\n2000000000\n1\n0\n", RG_ERR_FORMAT, "raw/node-label.csv:2:",
     "class id 2000000000 is out of range [0, 4)"},
    {"raw/num-node-list.csv", "2147483646\n", RG_ERR_FORMAT, "raw/node-label.csv:4:",
     "ends after 4 rows, short of the 2147483646 nodes in raw/num-node-list.csv"},
    {"raw/num-edge-list.csv", "2147483646\n", RG_ERR_FORMAT, "raw/edge.csv:3:",
     "ends after 3 rows, short of the 2147483646 edges in raw/num-edge-list.csv"}};

/* loads dir into a dataset filled with garbage; checks the status, the message and that the
   output came back zeroed */
static enum greatest_test_res td_expect_fail(const char *dir, const rg_dataset_options *opt, rg_status want,
                                             const char *n1, const char *n2) {
    rg_dataset ds;
    rg_status st;
    memset(&ds, 0x5a, sizeof ds);
    st = rg_dataset_load_ogb(NULL, dir, opt, &ds);
    if (st == RG_OK) rg_dataset_free(NULL, &ds);
    snprintf(td_msg, sizeof td_msg, "expected %s, got %s: \"%s\"", rg_status_name(want), rg_status_name(st),
             rg_last_error());
    ASSERT_EQm(td_msg, want, st);
    snprintf(td_msg, sizeof td_msg, "\"%s\" does not name \"%s\"", rg_last_error(), n1);
    ASSERTm(td_msg, strstr(rg_last_error(), n1) != NULL);
    snprintf(td_msg, sizeof td_msg, "\"%s\" does not name \"%s\"", rg_last_error(), n2 ? n2 : "");
    ASSERTm(td_msg, !n2 || strstr(rg_last_error(), n2) != NULL);
    ASSERTm("the output is not zeroed", ds.n_nodes == 0 && ds.x == NULL && ds.y == NULL && ds.labels == NULL &&
                                            ds.graph.rowptr == NULL && ds.split[0] == NULL && ds.species == NULL);
    PASS();
}

static enum greatest_test_res td_bad_case(const char *dir, const td_case *c) {
    ASSERTm("cannot write the dataset", td_write_tiny(dir));
    td_write(dir, "raw/node-feat.csv", NULL);
    ASSERTm(c->file, td_write(dir, c->file, c->content));
    CHECK_CALL(td_expect_fail(dir, NULL, c->status, c->needle1, c->needle2));
    PASS();
}

TEST loader_bad_input(void) {
    char dir[256];
    size_t k;
    enum greatest_test_res res = GREATEST_TEST_RES_PASS;
    ASSERTm("cannot make a temporary folder", td_mkdir(dir, sizeof dir));
    for (k = 0; k < sizeof td_bad / sizeof *td_bad && res == GREATEST_TEST_RES_PASS; k++)
        res = td_bad_case(dir, &td_bad[k]);
    td_rmdir(dir);
    if (res != GREATEST_TEST_RES_PASS) fprintf(stderr, "loader_bad_input: case %u failed\n", (unsigned)(k - 1));
    return res;
}

TEST loader_bad_setup(void) {
    char dir[256];
    rg_dataset_options opt = rg_dataset_options_default();
    enum greatest_test_res res = GREATEST_TEST_RES_PASS;
    rg_dataset ds;
    ASSERTm("cannot make a temporary folder", td_mkdir(dir, sizeof dir));
    ASSERTm("cannot write the dataset", td_write_tiny(dir));
    /* only the compressed file: say how to get the .csv */
    td_write(dir, "raw/edge.csv", NULL);
    td_write(dir, "raw/edge.csv.gz", "not really gzip");
    res = td_expect_fail(dir, NULL, RG_ERR_IO, "raw/edge.csv.gz", "run data/fetch.sh, or gunzip it");
    /* two split folders and no choice */
    if (res == GREATEST_TEST_RES_PASS) {
        td_write(dir, "raw/edge.csv.gz", NULL);
        td_write(dir, "raw/edge.csv", "0,1\n1,2\n3,1\n");
        td_write(dir, "split/other/train.csv", "0\n");
        res = td_expect_fail(dir, NULL, RG_ERR_ARG, "2 splits under", "rg_dataset_options.split");
        td_write(dir, "split/other/train.csv", NULL);
    }
    /* the one-hot species needs the species file */
    if (res == GREATEST_TEST_RES_PASS) {
        td_write(dir, "raw/node_species.csv", NULL);
        opt.species_onehot = 1;
        res = td_expect_fail(dir, &opt, RG_ERR_IO, "raw/node_species.csv", "cannot open");
    }
    td_rmdir(dir);
    if (res != GREATEST_TEST_RES_PASS) return res;
    /* a folder that is not there, and NULL arguments */
    CHECK_CALL(td_expect_fail("/nonexistent/revgnn", NULL, RG_ERR_IO, "/nonexistent/revgnn", "does not exist"));
    ASSERT_EQ(RG_ERR_ARG, rg_dataset_load_ogb(NULL, NULL, NULL, &ds));
    ASSERT_EQ(RG_ERR_ARG, rg_dataset_load_ogb(NULL, "x", NULL, NULL));
    PASS();
}

/* the tiny dataset as OGB's own reader also takes it: BOMs at the start, one trailing empty
   line; and with no edges at all, an empty edge-feat.csv */
TEST loader_accepts_ogb_forms(void) {
    char dir[256];
    rg_dataset ds;
    rg_status st;
    enum greatest_test_res res = GREATEST_TEST_RES_PASS;
    ASSERTm("cannot make a temporary folder", td_mkdir(dir, sizeof dir));
    ASSERTm("cannot write the dataset", td_write_tiny(dir));
    td_write(dir, "raw/edge.csv", "\xEF\xBB\xBF" "0,1\n1,2\n3,1\n\n");
    td_write(dir, "raw/edge-feat.csv", "\xEF\xBB\xBF" "0.5,1\r\n0.25, 2\r\n1e-1,-3\r\n\r\n");
    td_write(dir, "raw/node-label.csv", "\xEF\xBB\xBF" "1,0,1\n0,0,1\n1,1,0\n0,1,0\n\n");
    td_write(dir, "split/species/test.csv", "\xEF\xBB\xBF" "3\n\n");
    st = rg_dataset_load_ogb(NULL, dir, NULL, &ds);
    if (st == RG_OK) {
        res = td_check_tiny(&ds, 0);
        rg_dataset_free(NULL, &ds);
    }
    if (st == RG_OK && res == GREATEST_TEST_RES_PASS) {
        td_write(dir, "raw/num-edge-list.csv", "0\n");
        td_write(dir, "raw/edge.csv", "");
        td_write(dir, "raw/edge-feat.csv", "");
        st = rg_dataset_load_ogb(NULL, dir, NULL, &ds);
        if (st == RG_OK) {
            if (ds.graph.n_edges != 0 || ds.graph.edge_dim != 0 || ds.n_nodes != 4) res = GREATEST_TEST_RES_FAIL;
            rg_dataset_free(NULL, &ds);
        }
    }
    td_rmdir(dir);
    ASSERT_EQm(rg_last_error(), RG_OK, st);
    ASSERTm("the dataset differs", res == GREATEST_TEST_RES_PASS);
    PASS();
}

/* Values beyond rg_real's range, read or derived (x as the sum of edge features), are
   refused naming the file, line and column: they would train on inf. */
TEST loader_beyond_range(void) {
    const int is_float = sizeof(rg_real) == sizeof(float);
    const char *huge = is_float ? "1e39" : "1e309", *big = is_float ? "3e38" : "1e308";
    char dir[256], content[256];
    rg_dataset ds;
    rg_status st;
    enum greatest_test_res res;
    ASSERTm("cannot make a temporary folder", td_mkdir(dir, sizeof dir));
    ASSERTm("cannot write the dataset", td_write_tiny(dir));
    snprintf(content, sizeof content, "1,2\n3,%s\n5,6\n7,8\n", huge);
    td_write(dir, "raw/node-feat.csv", content);
    res = td_expect_fail(dir, NULL, RG_ERR_FORMAT, "raw/node-feat.csv:2: column 2:", "beyond the range of");
    if (res == GREATEST_TEST_RES_PASS) { /* 3.5e38 is beyond float and fine in double */
        td_write(dir, "raw/node-feat.csv", "1,2\n3,-3.5e38\n5,6\n7,8\n");
        if (is_float) {
            res = td_expect_fail(dir, NULL, RG_ERR_FORMAT, "raw/node-feat.csv:2: column 2:", "-3.5e38");
        } else {
            st = rg_dataset_load_ogb(NULL, dir, NULL, &ds);
            if (st != RG_OK || ds.x[3] != -3.5e38) res = GREATEST_TEST_RES_FAIL;
            if (st == RG_OK) rg_dataset_free(NULL, &ds);
        }
    }
    td_write(dir, "raw/node-feat.csv", NULL);
    if (res == GREATEST_TEST_RES_PASS) {
        snprintf(content, sizeof content, "0.5,1\n0.25,2\n%s,-3\n", huge);
        td_write(dir, "raw/edge-feat.csv", content);
        res = td_expect_fail(dir, NULL, RG_ERR_FORMAT, "raw/edge-feat.csv:3: column 1:", "beyond the range of");
    }
    if (res == GREATEST_TEST_RES_PASS) { /* node 1 sums edges 0-1, 1-2 and 3-1: finite each, not their sum */
        snprintf(content, sizeof content, "%s,1\n%s,2\n%s,-3\n", big, big, big);
        td_write(dir, "raw/edge-feat.csv", content);
        res = td_expect_fail(dir, NULL, RG_ERR_FORMAT, "raw/edge-feat.csv", "node 1, column 1");
    }
    td_rmdir(dir);
    return res;
}

/* lines longer than rg_dataset_options.max_line are refused by name, before any buffer grows */
TEST loader_line_cap(void) {
    char dir[256], line[300];
    rg_dataset_options opt = rg_dataset_options_default();
    enum greatest_test_res res;
    ASSERT_EQ((size_t)RG_CSV_MAX_LINE, opt.max_line);
    ASSERTm("cannot make a temporary folder", td_mkdir(dir, sizeof dir));
    ASSERTm("cannot write the dataset", td_write_tiny(dir));
    memset(line, '0', sizeof line);
    memcpy(line, "1,", 2);
    memcpy(line + sizeof line - 3, "\n2", 3); /* row 1: "1,000...0", row 2: "2" */
    td_write_n(dir, "raw/node-feat.csv", line, sizeof line);
    opt.max_line = 64;
    res = td_expect_fail(dir, &opt, RG_ERR_FORMAT, "raw/node-feat.csv:1:", "longer than 64 bytes");
    td_rmdir(dir);
    return res;
}

/* NUL bytes are shown escaped, not cut off */
TEST loader_nul_escaped(void) {
    char dir[256];
    enum greatest_test_res res;
    ASSERTm("cannot make a temporary folder", td_mkdir(dir, sizeof dir));
    ASSERTm("cannot write the dataset", td_write_tiny(dir));
    td_write(dir, "raw/node-feat.csv", NULL);
    td_write_n(dir, "raw/edge.csv", "0,1\n1,2\0x\n3,1\n", 14);
    res = td_expect_fail(dir, NULL, RG_ERR_FORMAT, "raw/edge.csv:2:", "\"2\\x00x\" is not an integer");
    td_rmdir(dir);
    return res;
}

/* the folders a user gets wrong: missing, empty, a folder for a file, a split that is not there */
TEST loader_bad_folders(void) {
    char dir[256], path[TD_PATH];
    rg_dataset_options opt = rg_dataset_options_default();
    enum greatest_test_res res;
    ASSERTm("cannot make a temporary folder", td_mkdir(dir, sizeof dir));
    /* no raw/ files at all: the layout expected */
    res = td_expect_fail(dir, NULL, RG_ERR_IO, dir, "expected raw/edge.csv, raw/node-label.csv");
    if (res == GREATEST_TEST_RES_PASS) {
        td_write_tiny(dir);
        opt.split = "nosuch";
        res = td_expect_fail(dir, &opt, RG_ERR_IO, "split/nosuch/train.csv", "the splits there: species");
    }
    if (res == GREATEST_TEST_RES_PASS) {
        td_write(dir, "raw/edge.csv", NULL);
        td_path(path, sizeof path, dir, "raw/edge.csv");
        ASSERT_EQ(0, mkdir(path, 0700));
        res = td_expect_fail(dir, NULL, RG_ERR_IO, "raw/edge.csv", "is a folder, not a file");
        rmdir(path);
    }
    td_rmdir(dir);
    return res;
}

/* a dataset under a path of over 1024 bytes loads: names are built at their true length */
TEST loader_long_path(void) {
    char base[64], dir[TD_PATH], seg[201];
    rg_dataset ds;
    rg_status st = RG_ERR_IO;
    size_t k, depth = 6;
    memset(seg, 'd', 200);
    seg[200] = '\0';
    snprintf(base, sizeof base, "/tmp/revgnn_test_long_XXXXXX");
    ASSERTm("cannot make a temporary folder", mkdtemp(base) != NULL);
    snprintf(dir, sizeof dir, "%s", base);
    for (k = 0; k < depth; k++) {
        size_t n = strlen(dir);
        snprintf(dir + n, sizeof dir - n, "/%s", seg);
        if (mkdir(dir, 0700) != 0) break;
    }
    if (k == depth) {
        char path[TD_PATH];
        for (k = sizeof td_dirs / sizeof *td_dirs - 1; k-- > 0;) {
            td_path(path, sizeof path, dir, td_dirs[k]);
            mkdir(path, 0700);
        }
        if (td_write_tiny(dir)) st = rg_dataset_load_ogb(NULL, dir, NULL, &ds);
        if (st == RG_OK) rg_dataset_free(NULL, &ds);
        td_rmdir(dir);
    }
    while (strlen(dir) > strlen(base)) { /* remove the chain, innermost first */
        rmdir(dir);
        *strrchr(dir, '/') = '\0';
    }
    rmdir(base);
    ASSERTm("the path is not over 1024 bytes", strlen(base) + depth * 201 > 1024);
    ASSERT_EQm(rg_last_error(), RG_OK, st);
    PASS();
}

/* ---- the synthetic generator ---- */

static rg_synthetic_options td_small_options(uint64_t seed) {
    rg_synthetic_options o = rg_synthetic_options_default();
    o.nodes = 300;
    o.avg_degree = 12;
    o.n_tasks = 5;
    o.n_species = 3;
    o.edge_dim = 4;
    o.seed = seed;
    o.species_onehot = 1;
    return o;
}

static int td_same_dataset(const rg_dataset *a, const rg_dataset *b) {
    const rg_graph *g = &a->graph, *h = &b->graph;
    int k;
    if (a->n_nodes != b->n_nodes || a->x_dim != b->x_dim || a->n_tasks != b->n_tasks || g->n_edges != h->n_edges)
        return 0;
    for (k = 0; k < 3; k++)
        if (a->split_size[k] != b->split_size[k] ||
            memcmp(a->split[k], b->split[k], (size_t)a->split_size[k] * sizeof(int32_t)))
            return 0;
    return !memcmp(a->x, b->x, (size_t)(a->n_nodes * a->x_dim) * sizeof(rg_real)) &&
           !memcmp(a->y, b->y, (size_t)(a->n_nodes * a->n_tasks) * sizeof(rg_real)) &&
           !memcmp(a->species, b->species, (size_t)a->n_nodes * sizeof(int32_t)) &&
           !memcmp(g->rowptr, h->rowptr, (size_t)(g->n_nodes + 1) * sizeof(int64_t)) &&
           !memcmp(g->src, h->src, (size_t)g->n_edges * sizeof(int32_t)) &&
           !memcmp(g->edge_feat, h->edge_feat, (size_t)(g->n_edges * g->edge_dim) * sizeof(rg_real));
}

TEST synthetic_deterministic(void) {
    rg_synthetic_options o = td_small_options(11);
    rg_dataset a, b, c;
    int same, other;
    ASSERT_EQm(rg_last_error(), RG_OK, rg_dataset_synthetic(&o, &a));
    ASSERT_EQm(rg_last_error(), RG_OK, rg_dataset_synthetic(&o, &b));
    o.seed = 12;
    ASSERT_EQm(rg_last_error(), RG_OK, rg_dataset_synthetic(&o, &c));
    same = td_same_dataset(&a, &b);
    other = td_same_dataset(&a, &c) || !memcmp(a.x, c.x, (size_t)(a.n_nodes * a.x_dim) * sizeof(rg_real));
    rg_dataset_free(NULL, &a);
    rg_dataset_free(NULL, &b);
    rg_dataset_free(NULL, &c);
    ASSERTm("the same seed gave another dataset", same);
    ASSERTm("another seed gave the same features", !other);
    PASS();
}

/* the default (proteins-like) dataset: sizes, ranges, positive rates, the split, and x built
   as the loader builds ogbn-proteins' node features */
TEST synthetic_default(void) {
    rg_synthetic_options o = rg_synthetic_options_default();
    rg_dataset ds;
    int64_t i, e, f, t, N, D, bad_x = 0, bad_feat = 0, bad_y = 0, bad_rate = 0, bad_split = 0;
    int32_t *seen;
    ASSERT_EQm(rg_last_error(), RG_OK, rg_dataset_synthetic(&o, &ds));
    N = ds.n_nodes;
    D = ds.graph.edge_dim;
    for (i = 0; i < N; i++)
        for (f = 0; f < D; f++) {
            double acc = 0;
            for (e = ds.graph.rowptr[i]; e < ds.graph.rowptr[i + 1]; e++) acc += ds.graph.edge_feat[e * D + f];
            bad_x += ds.x[i * ds.x_dim + f] != (rg_real)acc;
        }
    for (e = 0; e < ds.graph.n_edges * D; e++) bad_feat += !(ds.graph.edge_feat[e] >= 0 && ds.graph.edge_feat[e] < 1);
    for (t = 0; t < ds.n_tasks; t++) {
        int64_t pos = 0;
        for (i = 0; i < N; i++) {
            bad_y += ds.y[i * ds.n_tasks + t] != 0 && ds.y[i * ds.n_tasks + t] != 1;
            pos += ds.y[i * ds.n_tasks + t] == 1;
        }
        /* the q-quantile with q in [0.5, 0.9): N - 1 - floor(q N) positives */
        bad_rate += pos < N / 10 - 1 || pos > N / 2;
    }
    seen = (int32_t *)calloc((size_t)N, sizeof(int32_t));
    for (t = 0; t < 3 && seen; t++)
        for (i = 0; i < ds.split_size[t]; i++) {
            bad_split += ds.split[t][i] < 0 || ds.split[t][i] >= N || (i > 0 && ds.split[t][i] <= ds.split[t][i - 1]);
            if (!bad_split) seen[ds.split[t][i]]++;
        }
    for (i = 0; i < N && seen; i++) bad_split += seen[i] != 1;
    free(seen);
    ASSERT_EQm(rg_last_error(), RG_OK, rg_graph_validate(&ds.graph));
    ASSERT_EQ(4000, (int)N);
    ASSERT_EQ(4000 * 30, (int)ds.graph.n_edges); /* mean in-degree 30 */
    ASSERT_EQ(8, (int)D);
    ASSERT_EQ(8, (int)ds.x_dim);
    ASSERT_EQ(112, (int)ds.n_tasks);
    ASSERT_EQ(8, (int)ds.n_species);
    ASSERT_EQ((int)RG_TASK_MULTILABEL, (int)ds.task);
    for (i = 0; i < N; i++) ASSERT(ds.species[i] >= 0 && ds.species[i] < 8);
    ASSERT_EQ(2400, (int)ds.split_size[0]);
    ASSERT_EQ(800, (int)ds.split_size[1]);
    ASSERT_EQ(800, (int)ds.split_size[2]);
    rg_dataset_free(NULL, &ds);
    ASSERT_EQm("x is not the sum of the incoming edge features", 0, (int)bad_x);
    ASSERT_EQm("an edge feature is outside [0, 1)", 0, (int)bad_feat);
    ASSERT_EQm("a target is not 0 or 1", 0, (int)bad_y);
    ASSERT_EQm("a task's positive rate is outside [10%, 50%]", 0, (int)bad_rate);
    ASSERT_EQm("the split does not cover every node once, ascending", 0, (int)bad_split);
    PASS();
}

/* A synthetic dataset written as OGB CSV (each undirected edge once, taxon ids 100 + species)
   loads back as itself: the loader and the generator build x the same way. */
static int td_write_ogb(const char *dir, const rg_dataset *ds) {
    static const char *const parts[3] = {"split/species/train.csv", "split/species/valid.csv",
                                         "split/species/test.csv"};
    const rg_graph *g = &ds->graph;
    const char *fmt = sizeof(rg_real) == sizeof(double) ? "%s%.17g" : "%s%.9g";
    char path[512];
    FILE *fe, *ff, *f;
    int64_t i, e, k, ok = 1;
    td_path(path, sizeof path, dir, "raw/edge.csv");
    fe = fopen(path, "wb");
    td_path(path, sizeof path, dir, "raw/edge-feat.csv");
    ff = fopen(path, "wb");
    if (!fe || !ff) ok = 0;
    for (e = 0; e < g->n_edges && ok; e++)
        if (g->src[e] < g->dst[e]) {
            fprintf(fe, "%d,%d\n", (int)g->src[e], (int)g->dst[e]);
            for (k = 0; k < g->edge_dim; k++) fprintf(ff, fmt, k ? "," : "", (double)g->edge_feat[e * g->edge_dim + k]);
            fputc('\n', ff);
        }
    if (fe) fclose(fe);
    if (ff) fclose(ff);
    td_path(path, sizeof path, dir, "raw/node-label.csv");
    if (ok && (f = fopen(path, "wb")) != NULL) {
        for (i = 0; i < ds->n_nodes; i++)
            for (k = 0; k < ds->n_tasks; k++)
                fprintf(f, k + 1 < ds->n_tasks ? "%d," : "%d\n", (int)ds->y[i * ds->n_tasks + k]);
        fclose(f);
    } else ok = 0;
    td_path(path, sizeof path, dir, "raw/node_species.csv");
    if (ok && (f = fopen(path, "wb")) != NULL) {
        for (i = 0; i < ds->n_nodes; i++) fprintf(f, "%d\n", 100 + (int)ds->species[i]);
        fclose(f);
    } else ok = 0;
    for (k = 0; k < 3 && ok; k++) {
        td_path(path, sizeof path, dir, parts[k]);
        if ((f = fopen(path, "wb")) == NULL) ok = 0;
        for (i = 0; f && i < ds->split_size[k]; i++) fprintf(f, "%d\n", (int)ds->split[k][i]);
        if (f) fclose(f);
    }
    return (int)ok;
}

TEST synthetic_round_trip(void) {
    rg_synthetic_options o = td_small_options(5);
    rg_dataset_options opt = rg_dataset_options_default();
    rg_dataset syn, back;
    char dir[256];
    rg_status st;
    double worst = 0;
    int64_t i, k, same_structure = 0, same_targets = 0;
    const double tol = sizeof(rg_real) == sizeof(double) ? 1e-13 : 1e-6;
    ASSERT_EQm(rg_last_error(), RG_OK, rg_dataset_synthetic(&o, &syn));
    if (!td_mkdir(dir, sizeof dir) || !td_write_ogb(dir, &syn)) {
        td_rmdir(dir);
        rg_dataset_free(NULL, &syn);
        FAILm("cannot write the dataset");
    }
    opt.species_onehot = 1;
    st = rg_dataset_load_ogb(NULL, dir, &opt, &back);
    td_rmdir(dir);
    if (st == RG_OK) {
        same_structure = back.n_nodes == syn.n_nodes && back.x_dim == syn.x_dim && back.n_species == syn.n_species &&
                         back.graph.n_edges == syn.graph.n_edges &&
                         !memcmp(back.graph.rowptr, syn.graph.rowptr, (size_t)(syn.n_nodes + 1) * sizeof(int64_t)) &&
                         !memcmp(back.graph.src, syn.graph.src, (size_t)syn.graph.n_edges * sizeof(int32_t));
        same_targets = back.n_tasks == syn.n_tasks && back.task == RG_TASK_MULTILABEL &&
                       !memcmp(back.y, syn.y, (size_t)(syn.n_nodes * syn.n_tasks) * sizeof(rg_real)) &&
                       !memcmp(back.species, syn.species, (size_t)syn.n_nodes * sizeof(int32_t));
        for (k = 0; k < 3; k++)
            same_targets = same_targets && back.split_size[k] == syn.split_size[k] &&
                           !memcmp(back.split[k], syn.split[k], (size_t)syn.split_size[k] * sizeof(int32_t));
        /* x: the same sums, up to the order of parallel edges */
        for (i = 0; same_structure && i < syn.n_nodes * syn.x_dim; i++) {
            double d = fabs((double)back.x[i] - (double)syn.x[i]) / fmax(1.0, fabs((double)syn.x[i]));
            if (d > worst) worst = d;
        }
        rg_dataset_free(NULL, &back);
    }
    rg_dataset_free(NULL, &syn);
    ASSERT_EQm(rg_last_error(), RG_OK, st);
    ASSERTm("the graph differs", same_structure);
    ASSERTm("targets, species or split differ", same_targets);
    ASSERT_IN_RANGEm("x differs", 0.0, worst, tol);
    PASS();
}

/* Test ROC-AUC of logistic regressions (full-batch gradient descent, one per task) on the
   columns of F (N, d), standardised here. */
static double td_logistic_auc(const rg_dataset *ds, double *F, int64_t d) {
    int64_t N = ds->n_nodes, T = ds->n_tasks, n = ds->split_size[0], t, i, j, it;
    rg_real *scores = (rg_real *)malloc((size_t)(N * T) * sizeof(rg_real));
    double *w = (double *)malloc((size_t)(2 * d + 2) * sizeof(double)), *g = w + d + 1, auc = 0;
    if (!scores || !w) {
        free(scores);
        free(w);
        return 0;
    }
    for (j = 0; j < d; j++) {
        double mean = 0, var = 0;
        for (i = 0; i < N; i++) mean += F[i * d + j] / (double)N;
        for (i = 0; i < N; i++) var += (F[i * d + j] - mean) * (F[i * d + j] - mean) / (double)N;
        for (i = 0; i < N; i++) F[i * d + j] = (F[i * d + j] - mean) / (sqrt(var) + 1e-12);
    }
    for (t = 0; t < T; t++) {
        memset(w, 0, (size_t)(2 * d + 2) * sizeof(double));
        for (it = 0; it < 200; it++) {
            memset(g, 0, (size_t)(d + 1) * sizeof(double));
            for (i = 0; i < n; i++) {
                int64_t r = ds->split[0][i];
                double z = w[d], err;
                for (j = 0; j < d; j++) z += w[j] * F[r * d + j];
                err = 1 / (1 + exp(-z)) - ds->y[r * T + t];
                for (j = 0; j < d; j++) g[j] += err * F[r * d + j];
                g[d] += err;
            }
            for (j = 0; j <= d; j++) w[j] -= g[j] / (double)n;
        }
        for (i = 0; i < N; i++) {
            double z = w[d];
            for (j = 0; j < d; j++) z += w[j] * F[i * d + j];
            scores[i * T + t] = (rg_real)z;
        }
    }
    if (rg_rocauc(scores, ds->y, N, T, ds->split[2], ds->split_size[2], &auc, NULL) != RG_OK) auc = 0;
    free(scores);
    free(w);
    return auc;
}

/* The labels need the neighbourhood: a linear model on [x, mean of the neighbours' x] beats
   one on x alone by a wide margin on the test nodes. */
TEST synthetic_needs_neighbours(void) {
    rg_synthetic_options o = rg_synthetic_options_default();
    rg_dataset ds;
    double *own, *both, auc_own = 0, auc_both = 0;
    int64_t N, D, i, f, e;
    o.n_tasks = 16;
    ASSERT_EQm(rg_last_error(), RG_OK, rg_dataset_synthetic(&o, &ds));
    N = ds.n_nodes;
    D = ds.x_dim;
    own = (double *)malloc((size_t)(N * D) * sizeof(double));
    both = (double *)malloc((size_t)(N * 2 * D) * sizeof(double));
    for (i = 0; own && both && i < N; i++)
        for (f = 0; f < D; f++) {
            double mean = 0;
            for (e = ds.graph.rowptr[i]; e < ds.graph.rowptr[i + 1]; e++) mean += ds.x[ds.graph.src[e] * D + f];
            own[i * D + f] = both[i * 2 * D + f] = ds.x[i * D + f];
            both[i * 2 * D + D + f] = mean / (double)(ds.graph.rowptr[i + 1] - ds.graph.rowptr[i]);
        }
    if (own && both) {
        auc_own = td_logistic_auc(&ds, own, D);
        auc_both = td_logistic_auc(&ds, both, 2 * D);
    }
    free(own);
    free(both);
    rg_dataset_free(NULL, &ds);
    if (GREATEST_IS_VERBOSE()) printf("test ROC-AUC: x %.4f, [x, neighbour mean] %.4f\n", auc_own, auc_both);
    snprintf(td_msg, sizeof td_msg, "test ROC-AUC on x %.4f, with the neighbour mean %.4f", auc_own, auc_both);
    ASSERTm(td_msg, auc_own > 0.6 && auc_both > auc_own + 0.05);
    PASS();
}

TEST synthetic_bad_options(void) {
    rg_synthetic_options o = td_small_options(1);
    rg_dataset ds;
    o.nodes = 4;
    ASSERT_EQ(RG_ERR_ARG, rg_dataset_synthetic(&o, &ds));
    ASSERTm(rg_last_error(), strstr(rg_last_error(), "4 nodes") != NULL);
    ASSERT(ds.x == NULL && ds.n_nodes == 0);
    o = td_small_options(1);
    o.avg_degree = 1;
    ASSERT_EQ(RG_ERR_ARG, rg_dataset_synthetic(&o, &ds));
    ASSERTm(rg_last_error(), strstr(rg_last_error(), "average degree 1") != NULL);
    o = td_small_options(1);
    o.edge_dim = 0;
    ASSERT_EQ(RG_ERR_ARG, rg_dataset_synthetic(&o, &ds));
    ASSERTm(rg_last_error(), strstr(rg_last_error(), "edge_dim 0") != NULL);
    PASS();
}

/* ---- metrics ---- */

TEST rocauc_by_hand(void) {
    /* 5 rows, 4 tasks:
       task 0: scores .1 .4 .35 .8 .7, targets 0 0 1 1 NaN -> pairs (pos > neg): .35>.1, .8>.1, .8>.4 = 3/4
       task 1: scores .5 .5 .2 .9 .2, targets 1 0 0 1 0 -> P = {.5, .9}, Q = {.5, .2, .2}:
               .5: tie .5 + 1 + 1; .9: 3 -> 5.5 / 6
       task 2: every target 0 -> skipped
       task 3: all scores equal, targets 1 0 1 0 1 -> every pair ties -> 0.5
       rows 3, 0, 2: task 0 (.8 .1 .35 / 1 0 1) 1; task 1 (.9 .5 .2 / 1 1 0) 1; task 3 (0 1 1) 0.5 */
    const double nan = NAN;
    const double s[5][4] = {{.1, .5, .3, 2}, {.4, .5, .1, 2}, {.35, .2, .7, 2}, {.8, .9, .2, 2}, {.7, .2, .9, 2}};
    const double y[5][4] = {{0, 1, 0, 1}, {0, 0, 0, 0}, {1, 0, 0, 1}, {1, 1, 0, 0}, {nan, 0, 0, 1}};
    const int32_t rows[] = {3, 0, 2};
    rg_real sc[20], tg[20];
    double auc;
    int64_t valid = -1, i;
    for (i = 0; i < 20; i++) {
        sc[i] = (rg_real)s[i / 4][i % 4];
        tg[i] = (rg_real)y[i / 4][i % 4];
    }
    ASSERT_EQm(rg_last_error(), RG_OK, rg_rocauc(sc, tg, 5, 4, NULL, 0, &auc, &valid));
    ASSERT_EQ(3, (int)valid);
    ASSERT_IN_RANGE((0.75 + 5.5 / 6 + 0.5) / 3, auc, 1e-12);
    ASSERT_EQm(rg_last_error(), RG_OK, rg_rocauc(sc, tg, 5, 4, rows, 3, &auc, &valid));
    ASSERT_EQ(3, (int)valid);
    ASSERT_IN_RANGE(2.5 / 3, auc, 1e-12);
    /* no task with both classes among the rows: an error, with 0 valid tasks */
    ASSERT_EQ(RG_ERR_ARG, rg_rocauc(sc, tg, 5, 4, rows + 1, 1, &auc, &valid));
    ASSERT_EQ(0, (int)valid);
    ASSERTm(rg_last_error(), strstr(rg_last_error(), "none of the 4 tasks") != NULL);
    /* bad targets, scores and rows */
    tg[5] = 2;
    ASSERT_EQ(RG_ERR_ARG, rg_rocauc(sc, tg, 5, 4, NULL, 0, &auc, NULL));
    ASSERTm(rg_last_error(), strstr(rg_last_error(), "target 2 at row 1, task 1") != NULL);
    tg[5] = 0;
    sc[6] = (rg_real)NAN;
    ASSERT_EQ(RG_ERR_NUMERIC, rg_rocauc(sc, tg, 5, 4, NULL, 0, &auc, NULL));
    ASSERTm(rg_last_error(), strstr(rg_last_error(), "row 1, task 2") != NULL);
    sc[6] = 0;
    {
        const int32_t beyond[] = {0, 5};
        ASSERT_EQ(RG_ERR_ARG, rg_rocauc(sc, tg, 5, 4, beyond, 2, &auc, NULL));
        ASSERTm(rg_last_error(), strstr(rg_last_error(), "row 1 is 5") != NULL);
    }
    PASS();
}

/* against the definition: the fraction of (positive, negative) pairs ranked right, ties 1/2 */
TEST rocauc_brute_force(void) {
    enum { R = 150, T = 6 };
    rg_real sc[R * T], tg[R * T];
    int32_t rows[R / 2];
    double auc, want = 0;
    int64_t i, j, t, valid, n_valid = 0, pass;
    for (pass = 0; pass < 2; pass++) {
        const int32_t *sel = pass ? rows : NULL;
        int64_t n = pass ? R / 2 : R;
        for (i = 0; i < R * T; i++) {
            /* scores on a coarse grid so that many tie; task 5 almost always negative */
            sc[i] = (rg_real)(floor(rg_rng_uniform(7, 1, (uint64_t)i) * 8) / 8);
            tg[i] = (rg_real)(rg_rng_uniform(7, 2, (uint64_t)i) < (i % T == 5 ? 0.01 : 0.3));
        }
        for (i = 0; i < R / 2; i++) rows[i] = (int32_t)(2 * i + 1);
        want = 0;
        n_valid = 0;
        for (t = 0; t < T; t++) {
            double right = 0, pairs = 0;
            for (i = 0; i < n; i++)
                for (j = 0; j < n; j++) {
                    int64_t a = sel ? sel[i] : i, b = sel ? sel[j] : j;
                    if (tg[a * T + t] != 1 || tg[b * T + t] != 0) continue;
                    pairs++;
                    right += sc[a * T + t] > sc[b * T + t] ? 1 : sc[a * T + t] == sc[b * T + t] ? 0.5 : 0;
                }
            if (pairs > 0) {
                want += right / pairs;
                n_valid++;
            }
        }
        ASSERT_EQm(rg_last_error(), RG_OK, rg_rocauc(sc, tg, R, T, sel, n, &auc, &valid));
        ASSERT_EQ(n_valid, valid);
        ASSERT_IN_RANGE(want / (double)n_valid, auc, 1e-12);
    }
    PASS();
}

TEST accuracy_by_hand(void) {
    /* argmax per row: 2, 0 (tie 0/1: the first), 1, 1 */
    const rg_real s[12] = {0, 1, 3, 5, 5, 1, -1, 2, 0, 0, 4, -2};
    const int32_t labels[4] = {2, 1, 1, 0}, rows[2] = {2, 0}, bad[4] = {2, 1, 3, 0};
    double acc;
    ASSERT_EQm(rg_last_error(), RG_OK, rg_accuracy(s, labels, 4, 3, NULL, 0, &acc));
    ASSERT_EQ(0.5, acc);
    ASSERT_EQm(rg_last_error(), RG_OK, rg_accuracy(s, labels, 4, 3, rows, 2, &acc));
    ASSERT_EQ(1.0, acc);
    ASSERT_EQ(RG_ERR_ARG, rg_accuracy(s, bad, 4, 3, NULL, 0, &acc));
    ASSERTm(rg_last_error(), strstr(rg_last_error(), "label 3 of row 2") != NULL);
    ASSERT_EQ(RG_ERR_ARG, rg_accuracy(s, labels, 4, 3, rows, 0, &acc));
    PASS();
}

SUITE(data) {
    RUN_TEST(cora_counts);
    RUN_TEST(tiny_multilabel);
    RUN_TEST(loader_bad_input);
    RUN_TEST(loader_bad_setup);
    RUN_TEST(loader_accepts_ogb_forms);
    RUN_TEST(loader_beyond_range);
    RUN_TEST(loader_line_cap);
    RUN_TEST(loader_nul_escaped);
    RUN_TEST(loader_bad_folders);
    RUN_TEST(loader_long_path);
    RUN_TEST(synthetic_deterministic);
    RUN_TEST(synthetic_default);
    RUN_TEST(synthetic_round_trip);
    RUN_TEST(synthetic_needs_neighbours);
    RUN_TEST(synthetic_bad_options);
    RUN_TEST(rocauc_by_hand);
    RUN_TEST(rocauc_brute_force);
    RUN_TEST(accuracy_by_hand);
}
