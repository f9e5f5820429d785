// Batched matmul for software adapters (lavapipe): D[b] (M×N) = X[b] (M×K) · Y[b] (K×N),
// written into C through strides, so the caller can run C = A·B directly or as Cᵀ = Bᵀ·Aᵀ.
//
// Why a second GEMM: lavapipe runs 8 invocations as one SIMD program and turns every storage
// load into a per-lane scalar load with a bounds check, while arithmetic stays vectorized.
// So this kernel has no workgroup memory and no barriers (coroutines there), and each
// invocation owns a register block of RPI rows × 4·CB columns: named accumulators, unrolled
// by gemm-direct.ts into the DECL, BODY and STORE slots. One k per iteration: it loads RPI
// scalars of X and CB vec4s of Y, then does RPI·CB vec4 FMAs. Row and column bases are
// computed once, clamped into the matrix; k never leaves [kBegin, kEnd), so no bounds
// checks run inside the loop. Columns or rows past the edge compute clamped duplicates that
// are never stored.
//
// Params: 0 M, 1 N, 2 K, 3 batch base, 4 splits, 5 K per split, 6 column-tile base, 7 batch
// count; 8..11 X offset, batch, row (m), k strides; 12..15 Y offset, batch, k, column (n)
// strides; 16 C offset, 17 C stride of D's rows, 18 C stride of D's columns. D[b] sits at
// C offset + (split · batch count + b) · M · N.
@group(0) @binding(1) var<storage, read> X: array<{{TX}}>;
//#if Y_VEC
@group(0) @binding(2) var<storage, read> Y: array<vec4<{{TX}}>>;
//#else
@group(0) @binding(2) var<storage, read> Y: array<{{TX}}>;
//#endif
//#if C_VEC
@group(0) @binding(3) var<storage, read_write> C: array<vec4<{{TC}}>>;
//#else
@group(0) @binding(3) var<storage, read_write> C: array<{{TC}}>;
//#endif

fn store(base: u32, row: u32, col: u32, v: vec4<f32>) {
  let M = P(0u); let N = P(1u);
  if (row >= M || col >= N) { return; }
  let i = base + row * P(17u) + col * P(18u);
  //#if C_VEC
  if (col + 3u < N) { C[i >> 2u] = vec4<{{TC}}>(v); return; }
  for (var j = 0u; j < 4u; j++) { if (col + j < N) { C[(i + j) >> 2u][(i + j) & 3u] = {{TC}}(v[j]); } }
  //#else
  for (var j = 0u; j < 4u; j++) { if (col + j < N) { C[i + j * P(18u)] = {{TC}}(v[j]); } }
  //#endif
}

@compute @workgroup_size({{WX}}, {{WY}}, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let splits = P(4u);
  let b = P(3u) + wid.z / splits;
  let s = wid.z % splits;
  let kBegin = s * P(5u);
  let kEnd = min(P(2u), kBegin + P(5u));
  let r0 = wid.y * {{TM}}u + lid.y * {{RPI}}u;
  let c0 = (wid.x + P(6u)) * {{TN}}u + lid.x * {{CPI}}u;
  let lastRow = P(0u) - 1u;
  let lastCol = P(1u) - 1u;
  let xb = P(8u) + b * P(9u);
  let yb = P(12u) + b * P(13u);
  {{DECL}}
  // Strides read once: every params read is a load, and loads are what cost here.
  let xs = P(11u);
  let ys = P(14u);
  var xk = kBegin * xs;
  var yk = kBegin * ys;
  for (var k = kBegin; k < kEnd; k++) {
    {{BODY}}
    xk += xs;
    yk += ys;
  }
  let cb = P(16u) + (s * P(7u) + b) * P(0u) * P(1u);
  {{STORE}}
}
