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
// Params: GEMM_DIRECT_PARAMS (ts/backend/webgpu/params.ts): the GEMM base (M, N, K, batch
// base, splits, K per split, column-tile base, batch count), the X and Y views and where D
// goes: D[b] sits at cOffset + (split · batch count + b) · M · N.
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
  let M = p_m(); let N = p_n();
  if (row >= M || col >= N) { return; }
  let i = base + row * p_cRowStride() + col * p_cColStride();
  //#if C_VEC
  if (col + 3u < N) { C[i >> 2u] = vec4<{{TC}}>(v); return; }
  for (var j = 0u; j < 4u; j++) { if (col + j < N) { C[(i + j) >> 2u][(i + j) & 3u] = {{TC}}(v[j]); } }
  //#else
  for (var j = 0u; j < 4u; j++) { if (col + j < N) { C[i + j * p_cColStride()] = {{TC}}(v[j]); } }
  //#endif
}

@compute @workgroup_size({{WX}}, {{WY}}, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let splits = p_splits();
  let b = p_batchBase() + wid.z / splits;
  let s = wid.z % splits;
  let kBegin = s * p_kChunk();
  let kEnd = min(p_k(), kBegin + p_kChunk());
  let r0 = wid.y * {{TM}}u + lid.y * {{RPI}}u;
  let c0 = (wid.x + p_colTileBase()) * {{TN}}u + lid.x * {{CPI}}u;
  let lastRow = p_m() - 1u;
  let lastCol = p_n() - 1u;
  let xb = p_xOffset() + b * p_xBatch();
  let yb = p_yOffset() + b * p_yBatch();
  {{DECL}}
  // Strides read once: every params read is a load, and loads are what cost here.
  let xs = p_xKStride();
  let ys = p_yKStride();
  var xk = kBegin * xs;
  var yk = kBegin * ys;
  for (var k = kBegin; k < kEnd; k++) {
    {{BODY}}
    xk += xs;
    yk += ys;
  }
  let cb = p_cOffset() + (s * p_batch() + b) * p_m() * p_n();
  {{STORE}}
}
