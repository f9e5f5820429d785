#include "simd.h"

#include <cstdlib>
#include <cstring>

namespace mg {

static Isa detect() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma"))
    return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Scalar;
}

static Isa cap_from_env(Isa best) {
  const char* e = std::getenv("METAGRAD_SIMD");
  if (!e) return best;
  Isa want = !std::strcmp(e, "scalar") ? Isa::Scalar : !std::strcmp(e, "avx2") ? Isa::Avx2 : Isa::Avx512;
  return (int)want < (int)best ? want : best;
}

static Isa g_hw = detect();
static Isa g_isa = cap_from_env(g_hw);

Isa isa() { return g_isa; }
void set_isa_cap(Isa cap) { g_isa = (int)cap < (int)g_hw ? cap : g_hw; }
const char* isa_name(Isa i) { return i == Isa::Avx512 ? "avx512" : i == Isa::Avx2 ? "avx2" : "scalar"; }

}  // namespace mg
