// Run-time SIMD dispatch: one portable build, the widest kernels the CPU supports.
// Kernels are compiled per ISA with __attribute__((target(...))); this picks among them.
#pragma once

namespace mg {

enum class Isa : int { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// The ISA chosen for this process (METAGRAD_SIMD=scalar|avx2|avx512 caps it, for tests).
Isa isa();
const char* isa_name(Isa i);
void set_isa_cap(Isa cap);

}  // namespace mg
