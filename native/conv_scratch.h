// Per-thread scratch for the convolutions (conv.cc, conv_direct.cc): 64-byte aligned (the
// micro-kernels load aligned), grown as needed and never cleared (every user writes what it
// reads). A slot is one buffer per thread; a conv holds its slots only inside one call and
// calls no other conv while it does, so the unfolding and the direct paths share them. The fused
// batch-norm pooling kernels (channel.cc, and bn_pool_avx512.cc through it) use slots 4-6, which no conv touches.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>

namespace mg {

template <typename T, int Slot>
T* conv_scratch(size_t n) {
  struct Block {
    void* p = nullptr;
    size_t cap = 0;
    ~Block() { std::free(p); }
  };
  thread_local Block b;
  const size_t bytes = n * sizeof(T) + 64;
  if (bytes > b.cap) {
    std::free(b.p);
    b.p = nullptr;
    b.cap = 0;
    if (posix_memalign(&b.p, 64, bytes) != 0) throw std::bad_alloc();
    b.cap = bytes;
  }
  return (T*)b.p;
}

}  // namespace mg
