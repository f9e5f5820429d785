// Small dense linear algebra for SPD systems: a thread per matrix (CHOLESKY) or per
// (matrix, right-hand-side column) (TRISOLVE). The systems closed-form few-shot heads solve
// are N×N with N the support size, so a sequential loop per thread is the right shape; the
// output buffer doubles as the working storage (entries are read back once written).
//
// CHOLESKY (params: CHOLESKY_PARAMS, ts/backend/webgpu/params.ts).
//   Writes the lower factor (zeros above the diagonal) and info (0, or the 1-based order of
//   the first leading minor that is not positive; that matrix's factor is then all NaN).
// TRISOLVE (params: TRIANGULAR_SOLVE_PARAMS; tasks = batch·m): X = T^-1 B, contiguous [batch, n, m].

@group(0) @binding(1) var<storage, read> a: array<{{T}}>;
//#if CHOLESKY
@group(0) @binding(2) var<storage, read_write> l: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> info: array<i32>;
//#else
@group(0) @binding(2) var<storage, read> b: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> x: array<{{T}}>;
//#endif

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let task = group_index(wid, nwg) * 64u + lid;
  if (task >= p_batch()) { return; }
  let n = p_n();
  //#if CHOLESKY
  let src = p_offset() + task * p_batchStride();
  let rs = p_rowStride();
  let cs = p_colStride();
  let dst = task * n * n;
  var failed = 0u;
  for (var j = 0u; j < n; j++) {
    for (var i = 0u; i < j; i++) { l[dst + i * n + j] = {{T}}(0.0); }
    var d = f32(a[src + j * rs + j * cs]);
    for (var k = 0u; k < j; k++) { let v = f32(l[dst + j * n + k]); d -= v * v; }
    // NaN passes (d <= 0 is false for it) and propagates
    if (d <= 0.0) { failed = j + 1u; break; }
    let ljj = sqrt(d);
    l[dst + j * n + j] = {{T}}(ljj);
    for (var i = j + 1u; i < n; i++) {
      var s = f32(a[src + i * rs + j * cs]);
      for (var k = 0u; k < j; k++) { s -= f32(l[dst + i * n + k]) * f32(l[dst + j * n + k]); }
      l[dst + i * n + j] = {{T}}(s / ljj);
    }
  }
  if (failed != 0u) {
    let q = nan_f32();
    for (var e = 0u; e < n * n; e++) { l[dst + e] = {{T}}(q); }
  }
  info[task] = i32(failed);
  //#else
  let m = p_m();
  let bi = task / m;
  let c = task % m;
  let lower = p_lower() != 0u;
  let tb = p_tOffset() + bi * p_tBatchStride();
  let trs = p_tRowStride();
  let tcs = p_tColStride();
  let bb = p_bOffset() + bi * p_bBatchStride() + c * p_bColStride();
  let brs = p_bRowStride();
  let ob = bi * n * m + c;
  for (var s = 0u; s < n; s++) {
    let i = select(n - 1u - s, s, lower);
    var v = f32(b[bb + i * brs]);
    var k0 = i + 1u;
    var k1 = n;
    if (lower) { k0 = 0u; k1 = i; }
    for (var k = k0; k < k1; k++) { v -= f32(a[tb + i * trs + k * tcs]) * f32(x[ob + k * m]); }
    x[ob + i * m] = {{T}}(v / f32(a[tb + i * trs + i * tcs]));
  }
  //#endif
}
