// The GEMM family: batched matmul and conv2d with both of its transposes, as one tiled
// kernel C[b] (M×N) = A[b] (M×K) · B[b] (K×N). Convolutions are implicit GEMMs: their
// A and B elements are computed from NCHW indices on the fly (no im2col buffer).
//
// Tiling: a workgroup of 16×16 threads owns a 64×64 tile of C; each thread a 4×4 register
// block. K advances 16 at a time through workgroup memory (As: [16][64], Bs: [16][64],
// stored as vec4 so the inner loop is 2 vec4 loads and 4 vec4 FMAs). Tiles are loaded
// 4 elements per thread along the operand's unit-stride axis: one vec4 load when the
// layout is aligned (A_VEC/B_VEC), 4 scalar loads otherwise. z = batch × split: with
// split-K (few tiles, long K) each split writes its own partial product, summed after.
// Params: GEMM_MATMUL_PARAMS or GEMM_CONV_PARAMS (ts/backend/webgpu/params.ts): M, N, K, the
// batch base, splits, K per split, the column-tile base and the batch count, then the
// member's own (the matmul's operand views, or the convolution's geometry).
// Software adapters run matmul through gemm-direct.wgsl instead (no workgroup memory).

const TM = 64u;
const TN = 64u;
const TK = 16u;
var<workgroup> As: array<vec4<f32>, 256>;
var<workgroup> Bs: array<vec4<f32>, 256>;

//#if MATMUL
// The operands: p_aOffset() + b·p_aBatchStride() + row·p_aRowStride() + k·p_aColStride(), B alike; C from p_cOffset().
//#if A_VEC
@group(0) @binding(1) var<storage, read> A: array<vec4<{{TA}}>>;
fn a_at(i: u32) -> f32 { return f32(A[i >> 2u][i & 3u]); }
//#else
@group(0) @binding(1) var<storage, read> A: array<{{TA}}>;
fn a_at(i: u32) -> f32 { return f32(A[i]); }
//#endif
//#if B_VEC
@group(0) @binding(2) var<storage, read> B: array<vec4<{{TA}}>>;
fn b_at(i: u32) -> f32 { return f32(B[i >> 2u][i & 3u]); }
//#else
@group(0) @binding(2) var<storage, read> B: array<{{TA}}>;
fn b_at(i: u32) -> f32 { return f32(B[i]); }
//#endif
//#if C_VEC
@group(0) @binding(3) var<storage, read_write> C: array<vec4<{{TC}}>>;
//#else
@group(0) @binding(3) var<storage, read_write> C: array<{{TC}}>;
//#endif
fn a_index(b: u32, row: u32, k: u32) -> u32 { return p_aOffset() + b * p_aBatchStride() + row * p_aRowStride() + k * p_aColStride(); }
fn b_index(b: u32, k: u32, col: u32) -> u32 { return p_bOffset() + b * p_bBatchStride() + k * p_bRowStride() + col * p_bColStride(); }
fn load_a(b: u32, row: u32, k: u32, kEnd: u32) -> f32 {
  if (row >= p_m() || k >= kEnd) { return 0.0; }
  return a_at(a_index(b, row, k));
}
fn load_b(b: u32, k: u32, col: u32, kEnd: u32) -> f32 {
  if (col >= p_n() || k >= kEnd) { return 0.0; }
  return b_at(b_index(b, k, col));
}
//#if A_VEC
fn a_vec(b: u32, row: u32, k: u32) -> vec4<f32> { return vec4<f32>(A[a_index(b, row, k) >> 2u]); }
//#endif
//#if B_VEC
fn b_vec(b: u32, k: u32, col: u32) -> vec4<f32> { return vec4<f32>(B[b_index(b, k, col) >> 2u]); }
//#endif
fn store_c(b: u32, s: u32, row: u32, col: u32, v: vec4<f32>) {
  let N = p_n();
  let base = ((s * p_batch() + b) * p_m() + row) * N + col + p_cOffset();
  //#if C_VEC
  if (col + 3u < N) { C[base >> 2u] = vec4<{{TC}}>(v); return; }
  for (var j = 0u; j < 4u; j++) { if (col + j < N) { C[(base + j) >> 2u][(base + j) & 3u] = {{TC}}(v[j]); } }
  //#else
  for (var j = 0u; j < 4u; j++) { if (col + j < N) { C[base + j] = {{TC}}(v[j]); } }
  //#endif
}
//#endif

//#if CONV
// The geometry is p_conv*(); the batch index b is the group.
@group(0) @binding(1) var<storage, read> A: array<{{TA}}>;
@group(0) @binding(2) var<storage, read> B: array<{{TA}}>;
@group(0) @binding(3) var<storage, read_write> C: array<{{TC}}>;
// Input row iy (or column ix) read by output oy at kernel tap ky; may be out of range.
fn in_y(oy: u32, ky: u32) -> i32 { return i32(oy * p_convStrideH() + ky * p_convDilationH()) - i32(p_convPadH()); }
fn in_x(ox: u32, kx: u32) -> i32 { return i32(ox * p_convStrideW() + kx * p_convDilationW()) - i32(p_convPadW()); }
// x[n, b*cig + ci, iy, ix] from binding B, 0 in the padding.
fn x_at_b(b: u32, nn: u32, ci: u32, iy: i32, ix: i32) -> f32 {
  if (iy < 0 || ix < 0 || iy >= i32(p_convH()) || ix >= i32(p_convW())) { return 0.0; }
  return f32(B[((nn * p_convCIn() + b * p_convCig() + ci) * p_convH() + u32(iy)) * p_convW() + u32(ix)]);
}

//#if CONV_FWD
// y = W · im2col(x): M = cOut/groups, N = n·oh·ow, K = cig·kh·kw. A = w, B = x, C = y.
fn load_a(b: u32, row: u32, k: u32, kEnd: u32) -> f32 {
  if (row >= p_m() || k >= kEnd) { return 0.0; }
  return f32(A[(b * p_convCog() + row) * p_k() + k]);
}
fn load_b(b: u32, k: u32, col: u32, kEnd: u32) -> f32 {
  if (col >= p_n() || k >= kEnd) { return 0.0; }
  let khw = p_convKh() * p_convKw();
  let ci = k / khw; let r = k % khw;
  let ohw = p_convOh() * p_convOw();
  let nn = col / ohw; let p = col % ohw;
  return x_at_b(b, nn, ci, in_y(p / p_convOw(), r / p_convKw()), in_x(p % p_convOw(), r % p_convKw()));
}
fn store_c(b: u32, s: u32, row: u32, col: u32, v: vec4<f32>) {
  let ohw = p_convOh() * p_convOw();
  for (var j = 0u; j < 4u; j++) {
    let c = col + j;
    if (c < p_n()) { C[((c / ohw) * p_convCOut() + b * p_convCog() + row) * ohw + c % ohw] = {{TC}}(v[j]); }
  }
}
//#endif

//#if CONV_BWD_INPUT
// dx = Wᵀ · col2im(dy): M = cig, N = n·h·w, K = cog·kh·kw. A = w, B = dy, C = dx.
fn load_a(b: u32, row: u32, k: u32, kEnd: u32) -> f32 {
  if (row >= p_m() || k >= kEnd) { return 0.0; }
  let khw = p_convKh() * p_convKw();
  return f32(A[((b * p_convCog() + k / khw) * p_convCig() + row) * khw + k % khw]);
}
fn load_b(b: u32, k: u32, col: u32, kEnd: u32) -> f32 {
  if (col >= p_n() || k >= kEnd) { return 0.0; }
  let khw = p_convKh() * p_convKw();
  let co = k / khw; let r = k % khw;
  let hw = p_convH() * p_convW();
  let nn = col / hw; let p = col % hw;
  let ty = i32(p / p_convW()) + i32(p_convPadH()) - i32((r / p_convKw()) * p_convDilationH());
  let tx = i32(p % p_convW()) + i32(p_convPadW()) - i32((r % p_convKw()) * p_convDilationW());
  if (ty < 0 || tx < 0) { return 0.0; }
  let sy = p_convStrideH(); let sx = p_convStrideW();
  if (u32(ty) % sy != 0u || u32(tx) % sx != 0u) { return 0.0; }
  let oy = u32(ty) / sy; let ox = u32(tx) / sx;
  if (oy >= p_convOh() || ox >= p_convOw()) { return 0.0; }
  return f32(B[((nn * p_convCOut() + b * p_convCog() + co) * p_convOh() + oy) * p_convOw() + ox]);
}
fn store_c(b: u32, s: u32, row: u32, col: u32, v: vec4<f32>) {
  let hw = p_convH() * p_convW();
  for (var j = 0u; j < 4u; j++) {
    let c = col + j;
    if (c < p_n()) { C[((c / hw) * p_convCIn() + b * p_convCig() + row) * hw + c % hw] = {{TC}}(v[j]); }
  }
}
//#endif

//#if CONV_BWD_FILTER
// dw = dy · im2col(x)ᵀ: M = cog, N = cig·kh·kw, K = n·oh·ow. A = dy, B = x, C = dw
// (or split-K partials [splits, cOut, N]).
fn load_a(b: u32, row: u32, k: u32, kEnd: u32) -> f32 {
  if (row >= p_m() || k >= kEnd) { return 0.0; }
  let ohw = p_convOh() * p_convOw();
  return f32(A[((k / ohw) * p_convCOut() + b * p_convCog() + row) * ohw + k % ohw]);
}
fn load_b(b: u32, k: u32, col: u32, kEnd: u32) -> f32 {
  if (col >= p_n() || k >= kEnd) { return 0.0; }
  let khw = p_convKh() * p_convKw();
  let ci = col / khw; let r = col % khw;
  let ohw = p_convOh() * p_convOw();
  let nn = k / ohw; let p = k % ohw;
  return x_at_b(b, nn, ci, in_y(p / p_convOw(), r / p_convKw()), in_x(p % p_convOw(), r % p_convKw()));
}
fn store_c(b: u32, s: u32, row: u32, col: u32, v: vec4<f32>) {
  let N = p_n();
  for (var j = 0u; j < 4u; j++) {
    let c = col + j;
    if (c < N) { C[(s * p_convCOut() + b * p_convCog() + row) * N + c] = {{TC}}(v[j]); }
  }
}
//#endif
//#endif

// Four consecutive elements of A along k (A_ALONG_K) or along m, of B along n (B_ALONG_N) or k.
fn a_quad(b: u32, row: u32, k: u32, kEnd: u32) -> vec4<f32> {
  //#if A_ALONG_K
  //#if A_VEC
  if (row < p_m() && k + 3u < kEnd) { return a_vec(b, row, k); }
  //#endif
  return vec4<f32>(load_a(b, row, k, kEnd), load_a(b, row, k + 1u, kEnd), load_a(b, row, k + 2u, kEnd), load_a(b, row, k + 3u, kEnd));
  //#else
  //#if A_VEC
  if (row + 3u < p_m() && k < kEnd) { return a_vec(b, row, k); }
  //#endif
  return vec4<f32>(load_a(b, row, k, kEnd), load_a(b, row + 1u, k, kEnd), load_a(b, row + 2u, k, kEnd), load_a(b, row + 3u, k, kEnd));
  //#endif
}
fn b_quad(b: u32, k: u32, col: u32, kEnd: u32) -> vec4<f32> {
  //#if B_ALONG_N
  //#if B_VEC
  if (col + 3u < p_n() && k < kEnd) { return b_vec(b, k, col); }
  //#endif
  return vec4<f32>(load_b(b, k, col, kEnd), load_b(b, k, col + 1u, kEnd), load_b(b, k, col + 2u, kEnd), load_b(b, k, col + 3u, kEnd));
  //#else
  //#if B_VEC
  if (col < p_n() && k + 3u < kEnd) { return b_vec(b, k, col); }
  //#endif
  return vec4<f32>(load_b(b, k, col, kEnd), load_b(b, k + 1u, col, kEnd), load_b(b, k + 2u, col, kEnd), load_b(b, k + 3u, col, kEnd));
  //#endif
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let splits = p_splits();
  let b = p_batchBase() + wid.z / splits;
  let s = wid.z % splits;
  let kBegin = s * p_kChunk();
  let kEnd = min(p_k(), kBegin + p_kChunk());
  let row0 = wid.y * TM;
  let col0 = (wid.x + p_colTileBase()) * TN;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = kBegin; k0 < kEnd; k0 += TK) {
    //#if A_ALONG_K
    {
      let m = t / 4u;
      let kq = (t % 4u) * 4u;
      let v = a_quad(b, row0 + m, k0 + kq, kEnd);
      for (var j = 0u; j < 4u; j++) { As[(kq + j) * 16u + m / 4u][m % 4u] = v[j]; }
    }
    //#else
    {
      let kk = t / 16u;
      let m = (t % 16u) * 4u;
      As[kk * 16u + m / 4u] = a_quad(b, row0 + m, k0 + kk, kEnd);
    }
    //#endif
    //#if B_ALONG_N
    {
      let kk = t / 16u;
      let n = (t % 16u) * 4u;
      Bs[kk * 16u + n / 4u] = b_quad(b, k0 + kk, col0 + n, kEnd);
    }
    //#else
    {
      let n = t / 4u;
      let kq = (t % 4u) * 4u;
      let v = b_quad(b, k0 + kq, col0 + n, kEnd);
      for (var j = 0u; j < 4u; j++) { Bs[(kq + j) * 16u + n / 4u][n % 4u] = v[j]; }
    }
    //#endif
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let a = As[kk * 16u + lid.y];
      let bv = Bs[kk * 16u + lid.x];
      acc[0] += a.x * bv;
      acc[1] += a.y * bv;
      acc[2] += a.z * bv;
      acc[3] += a.w * bv;
    }
    workgroupBarrier();
  }
  let r = row0 + lid.y * 4u;
  let c = col0 + lid.x * 4u;
  for (var i = 0u; i < 4u; i++) {
    if (r + i < p_m() && c < p_n()) { store_c(b, s, r + i, c, acc[i]); }
  }
}
