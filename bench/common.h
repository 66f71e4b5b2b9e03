/* bench/common.h: what the benchmarks share. Include after <stdio.h>, <stdlib.h>, <errno.h>,
   <time.h> with _POSIX_C_SOURCE defined (clock_gettime). */
#ifndef REVGNN_BENCH_COMMON_H
#define REVGNN_BENCH_COMMON_H

/* monotonic seconds */
static inline double bench_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* an integer flag value >= lo; 0 with a message naming the program and flag otherwise */
static inline int bench_parse_int(const char *prog, const char *flag, const char *v, int64_t lo, int64_t *out) {
    char *end;
    long long x;
    errno = 0;
    x = v ? strtoll(v, &end, 10) : 0;
    if (!v || errno || *end || x < lo) {
        fprintf(stderr, "%s: %s needs an integer >= %lld, got '%s'\n", prog, flag, (long long)lo, v ? v : "");
        return 0;
    }
    *out = x;
    return 1;
}

#endif
