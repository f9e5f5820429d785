// im2col for conv2d on software adapters: cols[nl, k, p] = x[n0 + nl, ci, iy, ix] with
// k = (ci, ky, kx) over cIn·kh·kw and p = (oy, ox) over oh·ow, 0 in the padding. The conv
// is then a batched GEMM of the weights [cOut, K] with cols [n, K, oh·ow], which the
// barrier-free GEMM runs far faster on a CPU than the implicit GEMM's per-element index math.
// ROWS writes the transposed layout rows[nl, p, k] instead (im2row), which the filter
// gradient needs so that its GEMM operand is unit-stride along its columns.
// One invocation writes one output row (nl, k, oy): its index math is done once, then a
// division-free loop over ox.
// Params: UNFOLD_PARAMS (ts/backend/webgpu/params.ts).
@group(0) @binding(1) var<storage, read> x: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> cols: array<{{T}}>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = group_index(wid, nwg) * 64u + lid;
  if (row >= p_rows()) { return; }
  let h = p_h(); let w = p_w(); let kh = p_kh(); let kw = p_kw(); let oh = p_oh(); let ow = p_ow();
  let kCount = p_cIn() * kh * kw;
  let oy = row % oh;
  let k = (row / oh) % kCount;
  let nl = row / (oh * kCount);
  let ci = k / (kh * kw);
  let ky = (k / kw) % kh;
  let kx = k % kw;
  //#if ROWS
  let out0 = ((nl * oh + oy) * ow) * kCount + k;
  let step = kCount;
  //#else
  let out0 = row * ow;
  let step = 1u;
  //#endif
  let iy = i32(oy * p_strideH() + ky * p_dilationH()) - i32(p_padH());
  if (iy < 0 || iy >= i32(h)) {
    for (var ox = 0u; ox < ow; ox++) { cols[out0 + ox * step] = {{T}}(0); }
    return;
  }
  let in0 = (((p_n0() + nl) * p_cIn() + ci) * h + u32(iy)) * w;
  let sx = i32(p_strideW());
  var ix = i32(kx * p_dilationW()) - i32(p_padW());
  for (var ox = 0u; ox < ow; ox++) {
    var v = {{T}}(0);
    if (ix >= 0 && ix < i32(w)) { v = x[in0 + u32(ix)]; }
    cols[out0 + ox * step] = v;
    ix += sx;
  }
}
