// GEMM in the Goto/BLIS style: B is packed into KC×NC panels (NR-wide column slivers),
// A into MC×KC blocks (MR-tall row slivers), and a register-blocked micro-kernel
// computes each MR×NR tile of C. Packing reads any strides, so no transposed copy is made.
// The float micro-kernel is chosen at run time (AVX-512, AVX2+FMA, or portable C++).
#include "gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#include "threadpool.h"
#include "simd.h"
#include "transpose16.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MG_X86 1
#endif

namespace mg {

namespace {

// 64-byte aligned scratch that grows and is kept per thread (packing buffers).
struct Scratch {
  void* p = nullptr;
  size_t cap = 0;
  ~Scratch() { std::free(p); }
  template <typename T>
  T* get(size_t n) {
    size_t bytes = n * sizeof(T) + 64;
    if (bytes > cap) {
      std::free(p);
      p = nullptr;
      cap = 0;
      if (posix_memalign(&p, 64, bytes) != 0) throw std::bad_alloc();
      cap = bytes;
    }
    return (T*)p;
  }
};
thread_local Scratch tlsA;
thread_local Scratch tlsB;  // packed B: owned by the calling thread, read by the workers it starts

template <typename T>
using Ukr = void (*)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool acc);

// Portable micro-kernel; compiled inside target-specific wrappers it vectorizes for that ISA.
template <typename T, int MR, int NR>
static inline __attribute__((always_inline)) void ukr_generic(int64_t kc, const T* __restrict a, const T* __restrict b,
                                                              T* __restrict c, int64_t ldc, bool acc) {
  T r[MR][NR] = {};
  for (int64_t p = 0; p < kc; p++) {
    for (int i = 0; i < MR; i++) {
      T av = a[i];
      for (int j = 0; j < NR; j++) r[i][j] += av * b[j];
    }
    a += MR;
    b += NR;
  }
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++) c[i * ldc + j] = acc ? c[i * ldc + j] + r[i][j] : r[i][j];
}

static void ukr_f32_scalar(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool acc) {
  ukr_generic<float, 4, 8>(kc, a, b, c, ldc, acc);
}
static void ukr_f64_scalar(int64_t kc, const double* a, const double* b, double* c, int64_t ldc, bool acc) {
  ukr_generic<double, 4, 4>(kc, a, b, c, ldc, acc);
}

#ifdef MG_X86
__attribute__((target("avx2,fma"))) static void ukr_f32_avx2(int64_t kc, const float* a, const float* b, float* c,
                                                             int64_t ldc, bool acc) {
  constexpr int MR = 6;
  __m256 r[MR][2];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) r[i][0] = r[i][1] = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; p++) {
    __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      __m256 av = _mm256_broadcast_ss(a + i);
      r[i][0] = _mm256_fmadd_ps(av, b0, r[i][0]);
      r[i][1] = _mm256_fmadd_ps(av, b1, r[i][1]);
    }
    a += MR;
    b += 16;
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    float* ci = c + i * ldc;
    if (acc) {
      r[i][0] = _mm256_add_ps(r[i][0], _mm256_loadu_ps(ci));
      r[i][1] = _mm256_add_ps(r[i][1], _mm256_loadu_ps(ci + 8));
    }
    _mm256_storeu_ps(ci, r[i][0]);
    _mm256_storeu_ps(ci + 8, r[i][1]);
  }
}

// C's MR rows lie a power-of-two stride apart in a square matmul and share one L1 set: the
// AVX-512 kernels fetch them shortly before their k loop ends, not after it.
template <int MR>
static inline __attribute__((always_inline)) void prefetch_c_rows(const float* c, int64_t ldc) {
#pragma GCC unroll 12
  for (int i = 0; i < MR; i++) {
    _mm_prefetch((const char*)(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch((const char*)(c + i * ldc + 16), _MM_HINT_T0);
  }
}

__attribute__((target("avx512f,fma"))) static void ukr_f32_avx512(int64_t kc, const float* a, const float* b,
                                                                  float* c, int64_t ldc, bool acc) {
  constexpr int MR = 12;
  __m512 r[MR][2];
#pragma GCC unroll 12
  for (int i = 0; i < MR; i++) r[i][0] = r[i][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kc; p++) {
    if (p == kc - 24) prefetch_c_rows<MR>(c, ldc);
    __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++) {
      __m512 av = _mm512_set1_ps(a[i]);
      r[i][0] = _mm512_fmadd_ps(av, b0, r[i][0]);
      r[i][1] = _mm512_fmadd_ps(av, b1, r[i][1]);
    }
    a += MR;
    b += 32;
  }
#pragma GCC unroll 12
  for (int i = 0; i < MR; i++) {
    float* ci = c + i * ldc;
    if (acc) {
      r[i][0] = _mm512_add_ps(r[i][0], _mm512_loadu_ps(ci));
      r[i][1] = _mm512_add_ps(r[i][1], _mm512_loadu_ps(ci + 16));
    }
    _mm512_storeu_ps(ci, r[i][0]);
    _mm512_storeu_ps(ci + 16, r[i][1]);
  }
}

// 8×32 variant for row counts that are multiples of 8 but not of 12 (32 or 64 channels in a
// conv): no partial tiles, at 16 accumulators still FMA-bound.
__attribute__((target("avx512f,fma"))) static void ukr_f32_avx512_8(int64_t kc, const float* a, const float* b,
                                                                    float* c, int64_t ldc, bool acc) {
  constexpr int MR = 8;
  __m512 r[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) r[i][0] = r[i][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kc; p++) {
    if (p == kc - 24) prefetch_c_rows<MR>(c, ldc);
    __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      __m512 av = _mm512_set1_ps(a[i]);
      r[i][0] = _mm512_fmadd_ps(av, b0, r[i][0]);
      r[i][1] = _mm512_fmadd_ps(av, b1, r[i][1]);
    }
    a += MR;
    b += 32;
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) {
    float* ci = c + i * ldc;
    if (acc) {
      r[i][0] = _mm512_add_ps(r[i][0], _mm512_loadu_ps(ci));
      r[i][1] = _mm512_add_ps(r[i][1], _mm512_loadu_ps(ci + 16));
    }
    _mm512_storeu_ps(ci, r[i][0]);
    _mm512_storeu_ps(ci + 16, r[i][1]);
  }
}

__attribute__((target("avx2,fma"))) static void ukr_f64_avx2(int64_t kc, const double* a, const double* b, double* c,
                                                             int64_t ldc, bool acc) {
  constexpr int MR = 6;
  __m256d r[MR][2];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) r[i][0] = r[i][1] = _mm256_setzero_pd();
  for (int64_t p = 0; p < kc; p++) {
    __m256d b0 = _mm256_load_pd(b), b1 = _mm256_load_pd(b + 4);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      __m256d av = _mm256_broadcast_sd(a + i);
      r[i][0] = _mm256_fmadd_pd(av, b0, r[i][0]);
      r[i][1] = _mm256_fmadd_pd(av, b1, r[i][1]);
    }
    a += MR;
    b += 8;
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    double* ci = c + i * ldc;
    if (acc) {
      r[i][0] = _mm256_add_pd(r[i][0], _mm256_loadu_pd(ci));
      r[i][1] = _mm256_add_pd(r[i][1], _mm256_loadu_pd(ci + 4));
    }
    _mm256_storeu_pd(ci, r[i][0]);
    _mm256_storeu_pd(ci + 4, r[i][1]);
  }
}
__attribute__((target("avx512f,fma"))) static void ukr_f64_avx512(int64_t kc, const double* a, const double* b,
                                                                  double* c, int64_t ldc, bool acc) {
  constexpr int MR = 12;
  __m512d r[MR][2];
#pragma GCC unroll 12
  for (int i = 0; i < MR; i++) r[i][0] = r[i][1] = _mm512_setzero_pd();
  for (int64_t p = 0; p < kc; p++) {
    __m512d b0 = _mm512_load_pd(b), b1 = _mm512_load_pd(b + 8);
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++) {
      __m512d av = _mm512_set1_pd(a[i]);
      r[i][0] = _mm512_fmadd_pd(av, b0, r[i][0]);
      r[i][1] = _mm512_fmadd_pd(av, b1, r[i][1]);
    }
    a += MR;
    b += 16;
  }
#pragma GCC unroll 12
  for (int i = 0; i < MR; i++) {
    double* ci = c + i * ldc;
    if (acc) {
      r[i][0] = _mm512_add_pd(r[i][0], _mm512_loadu_pd(ci));
      r[i][1] = _mm512_add_pd(r[i][1], _mm512_loadu_pd(ci + 8));
    }
    _mm512_storeu_pd(ci, r[i][0]);
    _mm512_storeu_pd(ci + 8, r[i][1]);
  }
}
#endif

template <typename T>
struct Kernel {
  Ukr<T> fn;
  int mr, nr;
};

Kernel<float> pick(float, int64_t M) {
#ifdef MG_X86
  switch (isa()) {
    case Isa::Avx512:
      if (M % 12 != 0 && M % 8 == 0) return {ukr_f32_avx512_8, 8, 32};
      return {ukr_f32_avx512, 12, 32};
    case Isa::Avx2: return {ukr_f32_avx2, 6, 16};
    default: break;
  }
#endif
  return {ukr_f32_scalar, 4, 8};
}
Kernel<double> pick(double, int64_t) {
#ifdef MG_X86
  switch (isa()) {
    case Isa::Avx512: return {ukr_f64_avx512, 12, 16};
    case Isa::Avx2: return {ukr_f64_avx2, 6, 8};
    default: break;
  }
#endif
  return {ukr_f64_scalar, 4, 4};
}

#ifdef MG_X86
// Packs k in [0, kc rounded down to 16) of one A sliver; returns how many k it packed.
__attribute__((target("avx512f"))) static int64_t pack_a_rows_avx512(const float* src, int64_t rsA, int64_t rows,
                                                                     int64_t kc, int mr, float* out) {
  const __mmask16 keep = (__mmask16)((1u << mr) - 1);
  int64_t p = 0;
  for (; p + 16 <= kc; p += 16) {
    __m512 r[16], o[16];
    for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_loadu_ps(src + i * rsA + p) : _mm512_setzero_ps();
    transpose16_regs(r, o);
    for (int q = 0; q < 16; q++) _mm512_mask_storeu_ps(out + (p + q) * mr, keep, o[q]);
  }
  return p;
}

// A transposed A (unit row stride, as Aᵀ in a matmul's gradient) holds each k's mr values
// contiguously: one masked copy per k.
__attribute__((target("avx512f"))) static void pack_a_cols_avx512(const float* src, int64_t csA, int64_t rows,
                                                                  int64_t kc, int mr, float* out) {
  const __mmask16 take = (__mmask16)((1u << rows) - 1), keep = (__mmask16)((1u << mr) - 1);
  for (int64_t p = 0; p < kc; p++) _mm512_mask_storeu_ps(out + p * mr, keep, _mm512_maskz_loadu_ps(take, src + p * csA));
}
#endif

// Cache blocks: an MC×KC block of A stays in L2 while the KC×NR slivers of B stream past it.
// KC is long (1024) because every micro-kernel call ends by loading and storing its C tile,
// whose rows share an L1 set at a power-of-two leading dimension: on a Zen 4, KC 256 → 1024
// took a 1t matmul 1024 / 2048 from 94 / 93 to 108 / 107 GFLOP/s (OpenBLAS: 103 / 106), and
// the B sliver (128 KB) streams from L2 fast enough. Overridable for tuning
// (METAGRAD_GEMM_KC/MC/NC, or gemm_tune), clamped to sane ranges.
static int64_t clamp_block(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }
static int64_t env_or(const char* name, int64_t d, int64_t lo, int64_t hi) {
  const char* e = std::getenv(name);
  return clamp_block(e ? std::atoll(e) : d, lo, hi);
}
static int64_t KC = env_or("METAGRAD_GEMM_KC", 1024, 16, 4096);
static int64_t MCX = env_or("METAGRAD_GEMM_MC", 144, 16, 4096);
static int64_t NCX = env_or("METAGRAD_GEMM_NC", 4096, 64, 1 << 20);

// On AVX-512 a float A packs without the scalar gather below (8% of a 256³ matmul): a
// row-major one (unit column stride, the usual case) 16 values of k at a time, the sliver's
// rows transposed in registers; a transposed one by a masked copy per k. The gather does the
// rest: other types and ISAs, arbitrary strides, and the last kc % 16 of a row-major A.
template <typename T>
static void pack_a(const T* A, int64_t rsA, int64_t csA, int64_t mc, int64_t kc, int mr, T* out) {
  bool wide = false;
#ifdef MG_X86
  if constexpr (std::is_same_v<T, float>) wide = mr <= 16 && isa() == Isa::Avx512;
#endif
  for (int64_t i0 = 0; i0 < mc; i0 += mr) {
    int64_t rows = std::min<int64_t>(mr, mc - i0);
    int64_t p = 0;
#ifdef MG_X86
    if constexpr (std::is_same_v<T, float>) {
      if (wide && rsA == 1 && csA != 1) {
        pack_a_cols_avx512(A + i0, csA, rows, kc, mr, out);
        out += kc * mr;
        continue;
      }
      if (wide && csA == 1) p = pack_a_rows_avx512(A + i0 * rsA, rsA, rows, kc, mr, out);
    }
#endif
    out += p * mr;
    for (; p < kc; p++) {
      const T* src = A + i0 * rsA + p * csA;
      int64_t i = 0;
      for (; i < rows; i++) out[i] = src[i * rsA];
      for (; i < mr; i++) out[i] = T(0);
      out += mr;
    }
  }
}


// A transposed B (unit row stride: each column contiguous, as dy·colᵀ in a conv's filter
// gradient) packs 16×16 blocks at a time on AVX-512 instead of one strided read per element.
template <typename T>
static bool pack_b_transposed(const T* src, int64_t csB, int64_t kc, int nr, T* o) {
#ifdef MG_X86
  if constexpr (std::is_same_v<T, float>) {
    if (nr % 16 != 0 || isa() != Isa::Avx512) return false;
    int64_t p = 0;
    for (; p + 16 <= kc; p += 16)
      for (int h = 0; h < nr; h += 16) transpose16_f32(src + p + h * csB, csB, o + p * nr + h, nr);
    for (; p < kc; p++)
      for (int j = 0; j < nr; j++) o[p * nr + j] = src[p + j * csB];
    return true;
  }
#endif
  (void)src, (void)csB, (void)kc, (void)nr, (void)o;
  return false;
}

// Packs NR-wide slivers [s0, s1) of a kc×nc block of B.
template <typename T>
static void pack_b(const T* B, int64_t rsB, int64_t csB, int64_t nc, int64_t kc, int nr, int64_t s0, int64_t s1, T* out) {
  for (int64_t s = s0; s < s1; s++) {
    int64_t j0 = s * nr;
    int64_t cols = std::min<int64_t>(nr, nc - j0);
    T* o = out + s * nr * kc;
    if (csB == 1 && cols == nr) {
      for (int64_t p = 0; p < kc; p++) std::memcpy(o + p * nr, B + p * rsB + j0, nr * sizeof(T));
    } else if (rsB == 1 && cols == nr && pack_b_transposed(B + j0 * csB, csB, kc, nr, o)) {
    } else {
      for (int64_t p = 0; p < kc; p++) {
        const T* src = B + p * rsB + j0 * csB;
        int64_t j = 0;
        for (; j < cols; j++) o[p * nr + j] = src[j * csB];
        for (; j < nr; j++) o[p * nr + j] = T(0);
      }
    }
  }
}

// C block (mc×ncols) += packed A block · packed B slivers [s0, s1).
template <typename T>
static void macro(const Kernel<T>& k, int64_t mc, int64_t nc, int64_t kc, const T* Ap, const T* Bp, int64_t bstride,
                  int64_t s0, int64_t s1, T* C, int64_t ldc, bool acc) {
  alignas(64) T tmp[16 * 32];
  for (int64_t s = s0; s < s1; s++) {
    int64_t j0 = s * k.nr;
    int64_t cols = std::min<int64_t>(k.nr, nc - j0);
    for (int64_t i0 = 0; i0 < mc; i0 += k.mr) {
      int64_t rows = std::min<int64_t>(k.mr, mc - i0);
      const T* a = Ap + i0 * kc;
      const T* b = Bp + s * bstride;
      T* c = C + i0 * ldc + j0;
      if (rows == k.mr && cols == k.nr) {
        k.fn(kc, a, b, c, ldc, acc);
      } else {
        // edge tile: compute into a full scratch tile, copy the valid part
        k.fn(kc, a, b, tmp, k.nr, false);
        // branch hoisted out of the loops so both copies vectorize
        if (acc) {
          for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++) c[i * ldc + j] += tmp[i * k.nr + j];
        } else {
          for (int64_t i = 0; i < rows; i++) std::memcpy(c + i * ldc, tmp + i * k.nr, cols * sizeof(T));
        }
      }
    }
  }
}

// Bpre, when given, is B already packed for the whole K (see gemm_packed_b): no packing pass.
template <typename T>
void gemm_impl(int64_t M, int64_t N, int64_t K, const T* A, int64_t rsA, int64_t csA, const T* B, int64_t rsB,
               int64_t csB, T* C, int64_t ldc, bool parallel, bool accumulate, const T* Bpre = nullptr) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (accumulate) return;
    for (int64_t i = 0; i < M; i++) std::fill(C + i * ldc, C + i * ldc + N, T(0));
    return;
  }
  const Kernel<T> k = pick(T{}, M);
  ThreadPool& pool = ThreadPool::get();
  const int threads = parallel ? pool.threads() : 1;
  int64_t MC = k.mr * std::max<int64_t>(1, MCX / k.mr);
  if (threads > 1) {
    // row blocks a multiple of the threads and of near-equal height, so that no thread waits
    // on another's extra block: M = 1024 at MC 144 was 7 blocks and a 16-row one (4 : 3 + a
    // sliver on 2 threads); it is 8 of 128 (10% faster at 2 threads on an AVX2 Zen)
    const int64_t blocks = ((M + MC - 1) / MC + threads - 1) / threads * threads;
    MC = std::min(MC, ((M + blocks - 1) / blocks + k.mr - 1) / k.mr * k.mr);
  }
  const int64_t NC = k.nr * std::max<int64_t>(1, NCX / k.nr);
  // split K into equal passes (K = 288 is one pass of 288, not 256 + a thin 32 that would
  // re-read and re-write all of C for little work)
  const int64_t passes = std::max<int64_t>(1, (K + KC / 2) / KC);
  const int64_t KCs = (K + passes - 1) / passes;
  Scratch& sb = tlsB;
  for (int64_t jc = 0; jc < N; jc += NC) {
    int64_t nc = std::min(NC, N - jc);
    int64_t slivers = (nc + k.nr - 1) / k.nr;
    for (int64_t pc = 0; pc < K; pc += KCs) {
      int64_t kc = std::min(KCs, K - pc);
      bool acc = pc > 0 || accumulate;
      // packed here (slivers kc×nr, one after another), or prepacked (slivers K×nr)
      T* Bp = Bpre ? nullptr : sb.get<T>((size_t)slivers * k.nr * kc);
      const T* Bsrc = Bpre ? nullptr : B + pc * rsB + jc * csB;
      const T* Bk = Bpre ? Bpre + (jc / k.nr) * k.nr * K + pc * k.nr : Bp;
      const int64_t bstride = Bpre ? k.nr * K : k.nr * kc;
      int64_t icBlocks = (M + MC - 1) / MC;
      if (threads > 1) {
        if (!Bpre)
          pool.parallel_for(std::min<int64_t>(threads, slivers), [&](int64_t t) {
            int64_t per = (slivers + threads - 1) / threads;
            int64_t s0 = t * per, s1 = std::min(slivers, s0 + per);
            if (s0 < s1) pack_b(Bsrc, rsB, csB, nc, kc, k.nr, s0, s1, Bp);
          });
        // split the columns too when there are fewer row blocks than threads
        int64_t colSplit = std::min<int64_t>(slivers, std::max<int64_t>(1, (threads + icBlocks - 1) / icBlocks));
        int64_t per = (slivers + colSplit - 1) / colSplit;
        pool.parallel_for(icBlocks * colSplit, [&](int64_t t) {
          int64_t ib = t / colSplit, cs = t % colSplit;
          int64_t ic = ib * MC, mc = std::min(MC, M - ic);
          int64_t s0 = cs * per, s1 = std::min(slivers, s0 + per);
          if (s0 >= s1) return;
          T* Ap = tlsA.get<T>((size_t)((mc + k.mr - 1) / k.mr) * k.mr * kc);
          pack_a(A + ic * rsA + pc * csA, rsA, csA, mc, kc, k.mr, Ap);
          macro(k, mc, nc, kc, Ap, Bk, bstride, s0, s1, C + ic * ldc + jc, ldc, acc);
        });
      } else {
        if (!Bpre) pack_b(Bsrc, rsB, csB, nc, kc, k.nr, 0, slivers, Bp);
        for (int64_t ic = 0; ic < M; ic += MC) {
          int64_t mc = std::min(MC, M - ic);
          T* Ap = tlsA.get<T>((size_t)((mc + k.mr - 1) / k.mr) * k.mr * kc);
          pack_a(A + ic * rsA + pc * csA, rsA, csA, mc, kc, k.mr, Ap);
          macro(k, mc, nc, kc, Ap, Bk, bstride, 0, slivers, C + ic * ldc + jc, ldc, acc);
        }
      }
    }
  }
}

}  // namespace

void gemm_tune(int64_t kc, int64_t mc, int64_t nc) {
  if (kc > 0) KC = clamp_block(kc, 16, 4096);
  if (mc > 0) MCX = clamp_block(mc, 16, 4096);
  if (nc > 0) NCX = clamp_block(nc, 64, 1 << 20);
}

template <>
void gemm<float>(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA, const float* B,
                 int64_t rsB, int64_t csB, float* C, int64_t ldc, bool parallel, bool accumulate) {
  gemm_impl<float>(M, N, K, A, rsA, csA, B, rsB, csB, C, ldc, parallel, accumulate);
}
template <>
int gemm_nr<float>(int64_t M) { return pick(float{}, M).nr; }
template <>
int gemm_nr<double>(int64_t M) { return pick(double{}, M).nr; }

template <>
void gemm_packed_b<float>(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA, const float* Bp,
                          float* C, int64_t ldc, bool parallel, bool accumulate) {
  gemm_impl<float>(M, N, K, A, rsA, csA, nullptr, 0, 0, C, ldc, parallel, accumulate, Bp);
}
template <>
void gemm_packed_b<double>(int64_t M, int64_t N, int64_t K, const double* A, int64_t rsA, int64_t csA, const double* Bp,
                           double* C, int64_t ldc, bool parallel, bool accumulate) {
  gemm_impl<double>(M, N, K, A, rsA, csA, nullptr, 0, 0, C, ldc, parallel, accumulate, Bp);
}

template <>
void gemm<double>(int64_t M, int64_t N, int64_t K, const double* A, int64_t rsA, int64_t csA, const double* B,
                  int64_t rsB, int64_t csB, double* C, int64_t ldc, bool parallel, bool accumulate) {
  gemm_impl<double>(M, N, K, A, rsA, csA, B, rsB, csB, C, ldc, parallel, accumulate);
}

}  // namespace mg
