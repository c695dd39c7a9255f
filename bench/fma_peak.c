/* fma_peak.c - this CPU's fp32 peak, measured: each thread runs 12
 * independent chains of vector FMAs (enough to cover the FMA latency on two
 * ports), each chain starting from a different value so that the compiler
 * cannot merge them. Built with -O2 -march=native by bench/inference.py.
 * Prints GFLOP/s for the given thread count. */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHAINS 12
static long iterations = 50000000;
static volatile float sink;

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define SUM(v) _mm512_reduce_add_ps(v)
#else
typedef __m256 vec;
#define LANES 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
static float SUM(__m256 v) {
  float f[8];
  _mm256_storeu_ps(f, v);
  return f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
}
#endif

static void *work(void *arg) {
  (void)arg;
  vec acc[CHAINS];
  for (int i = 0; i < CHAINS; ++i)
    acc[i] = SET1(0.001f * (float)(i + 1));
  vec a = SET1(0.999999f), b = SET1(0.000001f);
  for (long n = 0; n < iterations; ++n)
    for (int i = 0; i < CHAINS; ++i)
      acc[i] = FMA(acc[i], a, b);
  float s = 0;
  for (int i = 0; i < CHAINS; ++i)
    s += SUM(acc[i]);
  sink = s;
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  if (argc > 2)
    iterations = atol(argv[2]);
  pthread_t t[64];
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < threads; ++i)
    pthread_create(&t[i], NULL, work, NULL);
  for (int i = 0; i < threads; ++i)
    pthread_join(t[i], NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
  double flops = 2.0 * LANES * CHAINS * (double)iterations * threads;
  printf("%.1f\n", flops / s * 1e-9);
  return 0;
}
