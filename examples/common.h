/* examples/common.h: what proteins.c and arxiv.c share: flags and presets, the training loop
   with per-epoch progress and checkpoints, and the machine-readable result line. Include it
   after revgnn.h with REVGNN_IMPLEMENTATION defined; each example supplies an ex_spec.

   Exit codes: 0 done, 2 bad input (a flag, a data file, a checkpoint), 1 anything else. */
#ifndef REVGNN_EXAMPLES_COMMON_H
#define REVGNN_EXAMPLES_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A preset is a list of flags, applied where --preset appears: later flags override it. */
typedef struct ex_preset {
    const char *name;
    const char *const *flags; /* "--flag", "value", ..., NULL */
} ex_preset;

typedef struct ex_spec {
    const char *name;          /* program name in messages */
    const char *about;         /* one line for --help */
    const ex_preset *presets;  /* NULL-terminated by name */
    const char *const *defaults; /* flags applied before the command line */
    int multiclass;            /* arxiv: full-batch multi-class; no partition or species flags */
} ex_spec;

typedef struct ex_options {
    rg_config cfg;
    double lr, weight_decay;
    int64_t epochs, parts, eval_parts, views, threads, nodes, degree;
    uint64_t seed;
    const char *data, *split, *save, *resume;
    int species_onehot, cuda, eval_every, normalize_features;
} ex_options;

#define EX_BAD_INPUT 2

/* what a user is shown: the library's message without its trailing " [file.h:123]", the
   source location that is there for the library's developers */
static const char *ex_user_message(const char *msg, char *buf, size_t n) {
    const char *open = strrchr(msg, '[');
    size_t len = strlen(msg), k;
    if (!open || open == msg || open[-1] != ' ' || msg[len - 1] != ']' || !strchr(open, ':')) return msg;
    for (k = (size_t)(strchr(open, ':') - msg) + 1; k < len - 1; k++)
        if (msg[k] < '0' || msg[k] > '9') return msg;
    snprintf(buf, n, "%.*s", (int)(open - 1 - msg), msg);
    return buf;
}

static int ex_fail(const ex_spec *s, int code, const char *what) {
    char buf[1024];
    fprintf(stderr, "%s: %s\n", s->name, ex_user_message(what, buf, sizeof buf));
    return code;
}

static int ex_status_code(rg_status st) {
    return st == RG_ERR_ARG || st == RG_ERR_IO || st == RG_ERR_FORMAT ? EX_BAD_INPUT : 1;
}

static int ex_int(const char *flag, const char *v, int64_t lo, int64_t *out, char *err, size_t n) {
    char *end;
    long long x;
    errno = 0;
    x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < lo) {
        snprintf(err, n, "%s needs an integer >= %lld, got '%s'", flag, (long long)lo, v);
        return 0;
    }
    *out = x;
    return 1;
}

static int ex_real(const char *flag, const char *v, double lo, double hi, double *out, char *err, size_t n) {
    char *end;
    double x;
    errno = 0;
    x = strtod(v, &end);
    if (errno || end == v || *end || !(x >= lo && x < hi)) {
        snprintf(err, n, "%s needs a number in [%g, %g), got '%s'", flag, lo, hi, v);
        return 0;
    }
    *out = x;
    return 1;
}

/* One flag and its value; 0 with a message in err when it is not understood. */
static int ex_flag(const ex_spec *s, ex_options *o, const char *flag, const char *v, char *err, size_t n) {
    int64_t i64;
    rg_config *c = &o->cfg;
#define EX_STATUS(call) ((call) == RG_OK ? 1 : (snprintf(err, n, "%.40s: %.400s", flag, rg_last_error()), 0))
    if (!v) { /* a flag last on the line: unknown, or known and missing its value */
        ex_options probe = *o;
        if (!ex_flag(s, &probe, flag, "", err, n) && !strncmp(err, "unknown flag", 12)) return 0;
        snprintf(err, n, "%s needs a value", flag);
        return 0;
    }
    if (!strcmp(flag, "--arch")) return EX_STATUS(rg_arch_parse(v, &c->arch));
    if (!strcmp(flag, "--conv")) return EX_STATUS(rg_conv_parse(v, &c->conv));
    if (!strcmp(flag, "--aggr")) return EX_STATUS(rg_aggr_parse(v, &c->aggr));
    if (!strcmp(flag, "--norm")) return EX_STATUS(rg_norm_parse(v, &c->norm));
    if (!strcmp(flag, "--layers")) return ex_int(flag, v, 0, &c->layers, err, n);
    if (!strcmp(flag, "--hidden")) return ex_int(flag, v, 1, &c->hidden, err, n);
    if (!strcmp(flag, "--groups")) return ex_int(flag, v, 1, &c->groups, err, n);
    if (!strcmp(flag, "--heads")) return ex_int(flag, v, 1, &c->heads, err, n);
    if (!strcmp(flag, "--dropout")) return ex_real(flag, v, 0, 1, &c->dropout, err, n);
    if (!strcmp(flag, "--input-dropout")) return ex_real(flag, v, 0, 1, &c->input_dropout, err, n);
    if (!strcmp(flag, "--msg-norm")) { if (!ex_int(flag, v, 0, &i64, err, n)) return 0; c->msg_norm = i64 != 0; return 1; }
    if (!strcmp(flag, "--res-shared-dropout")) {
        if (!ex_int(flag, v, 0, &i64, err, n)) return 0;
        c->res_shared_dropout = i64 != 0;
        return 1;
    }
    if (!strcmp(flag, "--lr")) return ex_real(flag, v, 0, 10, &o->lr, err, n);
    if (!strcmp(flag, "--weight-decay")) return ex_real(flag, v, 0, 1, &o->weight_decay, err, n);
    if (!strcmp(flag, "--normalize-features")) {
        if (!ex_int(flag, v, 0, &i64, err, n)) return 0;
        o->normalize_features = i64 != 0;
        return 1;
    }
    if (!strcmp(flag, "--epochs")) return ex_int(flag, v, 1, &o->epochs, err, n);
    if (!strcmp(flag, "--parts")) return ex_int(flag, v, 1, &o->parts, err, n);
    if (!strcmp(flag, "--eval-parts")) return ex_int(flag, v, 1, &o->eval_parts, err, n);
    if (!strcmp(flag, "--views")) return ex_int(flag, v, 1, &o->views, err, n);
    if (!strcmp(flag, "--eval-every")) { if (!ex_int(flag, v, 1, &i64, err, n)) return 0; o->eval_every = (int)i64; return 1; }
    if (!strcmp(flag, "--threads")) return ex_int(flag, v, 0, &o->threads, err, n);
    if (!strcmp(flag, "--nodes")) return ex_int(flag, v, 5, &o->nodes, err, n);
    if (!strcmp(flag, "--degree")) return ex_int(flag, v, 2, &o->degree, err, n);
    if (!strcmp(flag, "--seed")) { if (!ex_int(flag, v, 0, &i64, err, n)) return 0; o->seed = (uint64_t)i64; return 1; }
    if (!strcmp(flag, "--species-onehot")) { if (!ex_int(flag, v, 0, &i64, err, n)) return 0; o->species_onehot = i64 != 0; return 1; }
    if (!strcmp(flag, "--data")) { o->data = v; return 1; }
    if (!strcmp(flag, "--split")) { o->split = v; return 1; }
    if (!strcmp(flag, "--save")) { o->save = v; return 1; }
    if (!strcmp(flag, "--resume")) { o->resume = v; return 1; }
    if (!strcmp(flag, "--device")) {
        if (strcmp(v, "cpu") && strcmp(v, "cuda")) { snprintf(err, n, "--device is cpu or cuda, got '%s'", v); return 0; }
        o->cuda = !strcmp(v, "cuda");
#ifndef __CUDACC__
        if (o->cuda) { snprintf(err, n, "--device cuda: this build has no CUDA (build with `make cuda`)"); return 0; }
#endif
        return 1;
    }
    if (!strcmp(flag, "--preset")) {
        int k, j;
        for (k = 0; s->presets[k].name && strcmp(s->presets[k].name, v); k++) {}
        if (!s->presets[k].name) { snprintf(err, n, "unknown preset '%s' (see --help)", v); return 0; }
        for (j = 0; s->presets[k].flags[j]; j += 2)
            if (!ex_flag(s, o, s->presets[k].flags[j], s->presets[k].flags[j + 1], err, n)) return 0;
        return 1;
    }
#undef EX_STATUS
    snprintf(err, n, "unknown flag '%s' (see --help)", flag);
    return 0;
}

/* the options before the command line: built-in values, then the example's defaults */
static int ex_defaults(const ex_spec *s, ex_options *o, char *err, size_t n) {
    int i;
    memset(o, 0, sizeof *o);
    o->cfg = rg_config_default();
    o->lr = 1e-3;
    o->epochs = 10;
    o->parts = 10;
    o->eval_parts = 5;
    o->views = 1;
    o->nodes = 4000;
    o->eval_every = 1;
    for (i = 0; s->defaults[i]; i += 2)
        if (!ex_flag(s, o, s->defaults[i], s->defaults[i + 1], err, n)) return 0;
    return 1;
}

/* every flag that applies to this example with its default, and what each preset sets */
static void ex_usage(const ex_spec *s, FILE *f) {
    ex_options d;
    char err[512];
    int i, j;
    const rg_config *c = &d.cfg;
    if (!ex_defaults(s, &d, err, sizeof err)) memset(&d, 0, sizeof d);
    fprintf(f, "usage: %s [flags]\n%s\n\nmodel:\n", s->name, s->about);
    fprintf(f, "  --arch NAME          res | res-ckpt | rev | wt-res | wt-rev | deq (default %s)\n", rg_arch_name(c->arch));
    fprintf(f, "  --conv NAME          gen | gcn | sage | gat (default %s)\n", rg_conv_name(c->conv));
    fprintf(f, "  --aggr NAME          GEN's aggregation: sum | mean | max | softmax | power (default %s)\n",
            rg_aggr_name(c->aggr));
    fprintf(f, "  --norm NAME          layer | batch | none (default %s)\n", rg_norm_name(c->norm));
    fprintf(f, "  --layers L           blocks; 0 with --arch res is an MLP (default %lld)\n", (long long)c->layers);
    fprintf(f, "  --hidden D           channels (default %lld)\n", (long long)c->hidden);
    fprintf(f, "  --groups C           groups of rev and wt-rev (default %lld)\n", (long long)c->groups);
    fprintf(f, "  --heads H            GAT heads (default %lld)\n", (long long)c->heads);
    fprintf(f, "  --dropout P          (default %g)   --input-dropout P  on the node features (default %g)\n",
            c->dropout, c->input_dropout);
    fprintf(f, "  --msg-norm 0|1       GEN's MsgNorm (default %d)\n", c->msg_norm);
    fprintf(f, "  --res-shared-dropout 0|1  res, res-ckpt, wt-res: one dropout mask for every layer instead of one\n"
               "                       per layer (default %d)\n", c->res_shared_dropout);
    fprintf(f, "training:\n");
    fprintf(f, "  --lr LR              Adam's learning rate (default %g)\n", d.lr);
    fprintf(f, "  --weight-decay WD    Adam's L2 (default %g)\n", d.weight_decay);
    fprintf(f, "  --epochs E           (default %lld)   --eval-every K  evaluate every K epochs and at the last (default %d)\n",
            (long long)d.epochs, d.eval_every);
    fprintf(f, "  --seed S             (default %llu)   --threads T  CPU threads, 0 = all (default %lld)\n",
            (unsigned long long)d.seed, (long long)d.threads);
    if (!s->multiclass) {
        fprintf(f, "  --parts P            random partition of the training graph per epoch, 1 = full batch (default %lld)\n",
                (long long)d.parts);
        fprintf(f, "  --eval-parts P       partition for evaluation (default %lld)\n", (long long)d.eval_parts);
        fprintf(f, "  --views V            independent evaluation partitions averaged (default %lld)\n", (long long)d.views);
    }
    fprintf(f, "data:\n");
    fprintf(f, "  --data DIR           a dataset in the OGB raw layout (default: the built-in synthetic graph)\n");
    fprintf(f, "  --split NAME         folder under DIR/split (default: the only one)\n");
    fprintf(f, "  --nodes N            synthetic graph: nodes (default %lld)\n", (long long)d.nodes);
    fprintf(f, "  --degree K           synthetic graph: mean in-degree (default %lld)\n", (long long)(d.degree ? d.degree : 30));
    if (s->multiclass)
        fprintf(f, "  --normalize-features 0|1  divide each node's features by their sum, as Kipf's GCN (default %d)\n",
                d.normalize_features);
    else
        fprintf(f, "  --species-onehot 0|1 append one-hot species to the node features (default %d)\n", d.species_onehot);
    fprintf(f, "other:\n");
    fprintf(f, "  --save PATH          safetensors checkpoint, written atomically every epoch\n");
    fprintf(f, "  --resume PATH        continue from a checkpoint\n");
    fprintf(f, "  --device cpu|cuda    (default cpu)\n");
    fprintf(f, "  --preset NAME        the flags below, where it appears: later flags override them\n");
    fprintf(f, "  --help\npresets:\n");
    for (i = 0; s->presets[i].name; i++) {
        fprintf(f, "  %-14s", s->presets[i].name);
        for (j = 0; s->presets[i].flags[j]; j += 2) fprintf(f, " %s %s", s->presets[i].flags[j], s->presets[i].flags[j + 1]);
        fprintf(f, "\n");
    }
}

/* 0 ok, else the exit code; --help prints usage and exits 0 */
static int ex_parse(const ex_spec *s, int argc, char **argv, ex_options *o) {
    char err[512];
    int i;
    if (!ex_defaults(s, o, err, sizeof err)) return ex_fail(s, 1, err);
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { ex_usage(s, stdout); exit(0); }
        if (!ex_flag(s, o, argv[i], i + 1 < argc ? argv[i + 1] : NULL, err, sizeof err)) {
            ex_fail(s, EX_BAD_INPUT, err);
            ex_usage(s, stderr);
            return EX_BAD_INPUT;
        }
        i++;
    }
    if (!rg__is_rev(o->cfg.arch) && o->cfg.groups > 1) o->cfg.groups = 1; /* groups only mean something for rev */
    return 0;
}

static double ex_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void ex_duration(double s, char *buf, size_t n) {
    if (s < 60) snprintf(buf, n, "%.0fs", s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

/* a progress bar on a terminal, once a pass has run for more than two seconds */
typedef struct ex_bar {
    double start;
    const char *what;
    int drawn;
} ex_bar;

static void ex_bar_draw(void *user, int64_t done, int64_t total) {
    ex_bar *b = (ex_bar *)user;
    int k, width = 30, fill = (int)(width * done / total);
    if (ex_now() - b->start < 2 || !isatty(2)) return;
    fprintf(stderr, "\r  %s [", b->what);
    for (k = 0; k < width; k++) fputc(k < fill ? '=' : ' ', stderr);
    fprintf(stderr, "] %lld/%lld", (long long)done, (long long)total);
    b->drawn = 1;
}

static void ex_bar_clear(ex_bar *b) {
    if (b->drawn) fprintf(stderr, "\r%60s\r", "");
    b->drawn = 0;
}

/* The synthetic graph as a multi-class task: its first EX_CLASS_BITS binary labels (which
   depend on the neighbourhood) read as the bits of one class id, 2^EX_CLASS_BITS classes. */
#define EX_CLASS_BITS 3
static rg_status ex_multiclass(rg_status st, rg_dataset *ds) {
    int64_t i, k;
    if (st != RG_OK) return st;
    ds->labels = (int32_t *)REVGNN_MALLOC(NULL, (size_t)ds->n_nodes * sizeof(int32_t));
    if (!ds->labels) {
        rg_dataset_free(NULL, ds);
        return rg_error_set(RG_ERR_OOM, "out of memory for %lld labels", (long long)ds->n_nodes);
    }
    for (i = 0; i < ds->n_nodes; i++) {
        ds->labels[i] = 0;
        for (k = 0; k < EX_CLASS_BITS; k++) ds->labels[i] |= (ds->y[i * ds->n_tasks + k] > 0.5f) << k;
    }
    REVGNN_FREE(NULL, ds->y);
    ds->y = NULL;
    ds->task = RG_TASK_MULTICLASS;
    ds->n_tasks = 1 << EX_CLASS_BITS;
    return RG_OK;
}

static rg_status ex_load(const ex_spec *s, const ex_options *o, rg_dataset *ds) {
    if (o->data) {
        rg_dataset_options opt = rg_dataset_options_default();
        opt.split = o->split;
        opt.species_onehot = o->species_onehot;
        return rg_dataset_load_ogb(NULL, o->data, &opt, ds);
    } else {
        rg_synthetic_options opt = rg_synthetic_options_default();
        opt.nodes = o->nodes;
        if (o->degree) opt.avg_degree = o->degree;
        opt.seed = o->seed + 1;
        opt.species_onehot = o->species_onehot;
        if (s->multiclass) opt.n_tasks = EX_CLASS_BITS;
        return s->multiclass ? ex_multiclass(rg_dataset_synthetic(&opt, ds), ds) : rg_dataset_synthetic(&opt, ds);
    }
}

/* each row of x divided by its sum (rows summing to 0 stay), as Kipf and Welling's GCN; a
   sum or quotient beyond rg_real's range (a row summing to almost 0) is bad input */
static rg_status ex_normalize_rows(rg_dataset *ds) {
    int64_t i, j;
    for (i = 0; i < ds->n_nodes; i++) {
        rg_real *row = ds->x + i * ds->x_dim;
        double sum = 0;
        for (j = 0; j < ds->x_dim; j++) sum += row[j];
        for (j = 0; j < ds->x_dim && sum != 0; j++) {
            double v = row[j];
            row[j] = (rg_real)(v / sum);
            if (!isfinite(row[j]))
                return rg_error_set(RG_ERR_FORMAT, "--normalize-features: node %lld, column %lld: %g / %g (the "
                                    "row's sum) is beyond the range of rg_real", (long long)i, (long long)(j + 1), v,
                                    sum);
        }
    }
    return RG_OK;
}

/* seconds per epoch for the ETA: the mean of the last EX_ETA_EPOCHS epochs (k counts from 0) */
#define EX_ETA_EPOCHS 5
static double ex_eta(double *recent, int64_t k, double seconds) {
    int64_t i, n = k + 1 < EX_ETA_EPOCHS ? k + 1 : EX_ETA_EPOCHS;
    double sum = 0;
    recent[k % EX_ETA_EPOCHS] = seconds;
    for (i = 0; i < n; i++) sum += recent[i];
    return sum / (double)n;
}

/* Trains, evaluates every epoch, and prints the result line of the epoch with the best
   validation metric (OGB's convention). */
static int ex_main(const ex_spec *s, int argc, char **argv) {
    ex_options o;
    rg_dataset ds;
    rg_ctx *ctx = NULL;
    rg_model *m = NULL;
    rg_adam adam;
    rg_real *scores = NULL;
    rg_status st;
    int code = ex_parse(s, argc, argv, &o);
    int64_t epoch, first = 1, best_epoch = 0;
    double best[3] = {-1, -1, -1}, t0, loss = 0, recent[EX_ETA_EPOCHS] = {0};
    char msg[1024];
    const char *metric_name;
    if (code) return code;
    /* a save that cannot succeed fails now, not after the first epoch */
    if (o.save && rg_checkpoint_writable(o.save) != RG_OK) return ex_fail(s, EX_BAD_INPUT, rg_last_error());
    memset(&ds, 0, sizeof ds);
    t0 = ex_now();
    st = ex_load(s, &o, &ds);
    if (st != RG_OK) return ex_fail(s, ex_status_code(st), rg_last_error());
    if (o.normalize_features) st = ex_normalize_rows(&ds);
    if (st != RG_OK) {
        rg_dataset_free(NULL, &ds);
        return ex_fail(s, ex_status_code(st), rg_last_error());
    }
    o.cfg.in_dim = ds.x_dim;
    o.cfg.out_dim = ds.n_tasks;
    o.cfg.edge_dim = ds.graph.edge_dim;
    o.cfg.seed = o.seed;
#ifdef __CUDACC__
    if (o.cuda && rg_cuda_device_count() <= 0) {
        code = ex_fail(s, 1, "no CUDA GPU or driver found; use --device cpu");
        rg_dataset_free(NULL, &ds);
        return code;
    }
    st = o.cuda ? rg_cuda_create(&ctx, 0, o.seed) : rg_ctx_create_cpu(&ctx, (int)o.threads, o.seed);
#else
    st = rg_ctx_create_cpu(&ctx, (int)o.threads, o.seed);
#endif
    if (st == RG_OK) st = rg_model_create(ctx, &o.cfg, &m);
    adam = rg_adam_default(o.lr);
    adam.weight_decay = o.weight_decay;
    if (st == RG_OK && o.resume) {
        int64_t done = 0;
        st = rg_checkpoint_load(m, &adam, &done, o.resume);
        if (st == RG_OK && done >= o.epochs) {
            fprintf(stderr, "%s: nothing to train: %s is at epoch %lld, --epochs is %lld\n", s->name, o.resume,
                    (long long)done, (long long)o.epochs);
            code = EX_BAD_INPUT;
            goto done;
        }
        first = done + 1; /* done < o.epochs: no overflow */
    }
    if (st == RG_OK) {
        scores = (rg_real *)malloc((size_t)(ds.n_nodes * ds.n_tasks) * sizeof(rg_real));
        if (!scores) st = rg_error_set(RG_ERR_OOM, "out of memory for %lld scores", (long long)(ds.n_nodes * ds.n_tasks));
    }
    if (st != RG_OK) {
        code = ex_fail(s, ex_status_code(st), rg_last_error());
        goto done;
    }
    printf("%s: %lld nodes, %lld edges, %lld features, %lld %s | %s %s, %lld layers, hidden %lld, groups %lld | "
           "%lld parameters | %s, %d threads\n",
           s->name, (long long)ds.n_nodes, (long long)ds.graph.n_edges, (long long)ds.x_dim, (long long)ds.n_tasks,
           ds.task == RG_TASK_MULTILABEL ? "tasks" : "classes", rg_arch_name(o.cfg.arch), rg_conv_name(o.cfg.conv),
           (long long)o.cfg.layers, (long long)o.cfg.hidden, (long long)o.cfg.groups,
           (long long)rg_model_num_params(m), ctx->ops->name, ctx->n_threads);
    fflush(stdout);
    for (epoch = first; epoch <= o.epochs; epoch++) {
        double te = ex_now(), metric[3] = {0, 0, 0};
        char eta[32];
        ex_bar bar;
        int eval = epoch == o.epochs || epoch % o.eval_every == 0;
        bar.start = te;
        bar.what = "train";
        bar.drawn = 0;
        st = rg_train_epoch(m, &adam, &ds, o.parts, o.seed, epoch, &loss, ex_bar_draw, &bar);
        ex_bar_clear(&bar);
        if (st == RG_OK && eval) {
            bar.what = "eval ";
            st = rg_predict(m, &ds, o.eval_parts, o.views, o.seed + (uint64_t)epoch, scores, ex_bar_draw, &bar);
            ex_bar_clear(&bar);
            if (st == RG_OK) st = rg_evaluate(&ds, scores, metric);
        }
        if (st == RG_OK && o.save) st = rg_checkpoint_save(m, &adam, epoch, o.save);
        if (st != RG_OK) {
            code = ex_fail(s, ex_status_code(st), rg_last_error());
            goto done;
        }
        te = ex_now() - te;
        ex_duration(ex_eta(recent, epoch - first, te) * (double)(o.epochs - epoch), eta, sizeof eta);
        if (eval) {
            if (metric[1] > best[1]) { memcpy(best, metric, sizeof best); best_epoch = epoch; }
            printf("epoch %4lld/%lld | loss %.4f | train %.4f valid %.4f test %.4f | %.1f s/epoch | ETA %s | peak %.1f MB\n",
                   (long long)epoch, (long long)o.epochs, loss, metric[0], metric[1], metric[2], te, eta,
                   (double)rg_mem_peak(ctx) / 1e6);
        } else {
            printf("epoch %4lld/%lld | loss %.4f | %.1f s/epoch | ETA %s | peak %.1f MB\n", (long long)epoch,
                   (long long)o.epochs, loss, te, eta, (double)rg_mem_peak(ctx) / 1e6);
        }
        fflush(stdout);
    }
    metric_name = ds.task == RG_TASK_MULTILABEL ? "rocauc" : "acc";
    snprintf(msg, sizeof msg, "best valid %s %.4f at epoch %lld: test %.4f", metric_name, best[1], (long long)best_epoch,
             best[2]);
    printf("%s\nresult: test_%s=%.6f valid_%s=%.6f train_%s=%.6f best_epoch=%lld final_loss=%.6f params=%lld "
           "peak_bytes=%zu seconds=%.2f\n",
           msg, metric_name, best[2], metric_name, best[1], metric_name, best[0], (long long)best_epoch, loss,
           (long long)rg_model_num_params(m), rg_mem_peak(ctx), ex_now() - t0);
done:
    free(scores);
    rg_model_destroy(m);
    rg_ctx_destroy(ctx);
    rg_dataset_free(NULL, &ds);
    return code;
}

#endif
