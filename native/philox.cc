// Philox4x32-10, bit for bit the generator in ts/core/philox.ts: element i uses block
// counter + floor(i/4) as (lo, hi, 0, 0); uniform = (w >> 8) * 2^-24; normal = Box-Muller
// on the block's word pairs computed in double like the reference; bits = raw words.
#include <cmath>

#include "philox.h"
#include "threadpool.h"

namespace mg {

static inline void philox_block(uint32_t k0, uint32_t k1, uint32_t c[4]) {
  const uint32_t M0 = 0xd2511f53u, M1 = 0xcd9e8d57u, W0 = 0x9e3779b9u, W1 = 0xbb67ae85u;
  for (int r = 0; r < 10; r++) {
    uint64_t p0 = (uint64_t)M0 * c[0], p1 = (uint64_t)M1 * c[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0, hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
    c[0] = n0; c[1] = lo1; c[2] = n2; c[3] = lo0;
    k0 += W0;
    k1 += W1;
  }
}

void random_fill(int kind, uint32_t k0, uint32_t k1, double counter, const Buf& out) {
  if (kind < 0 || kind >= RANDOM_COUNT) throw KernelError("random: unknown kind");
  if (!(counter >= 0) || counter > 9007199254740991.0 || counter != std::floor(counter))
    throw KernelError("random: counter must be a non-negative integer");
  if (kind == RANDOM_BITS && out.dtype != I32) throw KernelError("random: bits need an int32 output");
  const uint64_t c0 = (uint64_t)counter;
  const int64_t size = out.len, blocks = (size + 3) / 4;
  const double TWO_NEG_24 = 1.0 / 16777216.0;
  parallel_range(blocks, 1 << 12, [&](int64_t b0, int64_t b1) {
    for (int64_t bl = b0; bl < b1; bl++) {
      uint64_t block = c0 + (uint64_t)bl;
      uint32_t w[4] = {(uint32_t)block, (uint32_t)(block >> 32), 0, 0};
      philox_block(k0, k1, w);
      for (int j = 0; j < 4 && bl * 4 + j < size; j++) {
        int64_t i = bl * 4 + j;
        if (kind == RANDOM_BITS) ((int32_t*)out.data)[i] = (int32_t)w[j];
        else if (kind == RANDOM_UNIFORM) store_from_double(out, i, (double)(w[j] >> 8) * TWO_NEG_24);
        else {
          int p = j >> 1;
          double u1 = ((double)(w[2 * p] >> 8) + 1) * TWO_NEG_24;
          double u2 = (double)(w[2 * p + 1] >> 8) * TWO_NEG_24;
          double r = std::sqrt(-2 * std::log(u1));
          store_from_double(out, i, (j & 1) == 0 ? r * std::cos(2 * M_PI * u2) : r * std::sin(2 * M_PI * u2));
        }
      }
    }
  });
}

}  // namespace mg
