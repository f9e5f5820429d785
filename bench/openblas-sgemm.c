/* OpenBLAS sgemm peer for bench/native.ts: prints "n gflops" lines for each size given,
   best of reps, row-major C = A·B. Threads follow OPENBLAS_NUM_THREADS. Built by the bench
   only when cblas.h and libopenblas are present. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    int n = atoi(argv[i]);
    float* a = malloc(sizeof(float) * n * n);
    float* b = malloc(sizeof(float) * n * n);
    float* c = malloc(sizeof(float) * n * n);
    for (int j = 0; j < n * n; j++) { a[j] = (float)rand() / RAND_MAX; b[j] = (float)rand() / RAND_MAX; }
    double flops = 2.0 * n * n * n, best = 1e30, spent = 0;
    int reps = 0;
    while ((reps < 3 || spent < 0.3) && reps < 200) {
      double t = now();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
      t = now() - t;
      spent += t;
      if (t < best) best = t;
      reps++;
    }
    printf("%d %.3f\n", n, flops / best / 1e9);
    free(a); free(b); free(c);
  }
  return 0;
}
