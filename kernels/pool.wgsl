// maxPool2d over contiguous [planes, h, w]: a thread per output window. Writes the max and
// its index within the h*w plane; padding never wins; as the reference, the first maximum
// wins and a NaN beats any number (NaN propagates). An all-padding window gives (-inf, -1).
// BACKWARD: the transpose, a thread per input element that sums dy over the windows whose
// argmax it is, in window order (deterministic, no atomics).
// Params: POOL_PARAMS (ts/backend/webgpu/params.ts); total is the outputs (BACKWARD: the inputs).

//#if !BACKWARD
@group(0) @binding(1) var<storage, read> x: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> vals: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> idx: array<i32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = group_index(wid, nwg) * 256u + lid;
  if (o >= p_total()) { return; }
  let h = i32(p_h()); let w = i32(p_w());
  let ohw = p_oh() * p_ow();
  let plane = o / ohw;
  let q = o % ohw;
  let y0 = i32((q / p_ow()) * p_strideH()) - i32(p_padH());
  let x0 = i32((q % p_ow()) * p_strideW()) - i32(p_padW());
  var best = -inf_f32();
  var bi = -1;
  let base = plane * u32(h * w);
  for (var ky = 0; ky < i32(p_kh()); ky++) {
    let iy = y0 + ky;
    if (iy < 0 || iy >= h) { continue; }
    for (var kx = 0; kx < i32(p_kw()); kx++) {
      let ix = x0 + kx;
      if (ix < 0 || ix >= w) { continue; }
      let v = f32(x[base + u32(iy * w + ix)]);
      // the first maximum wins, and a NaN beats any number (NaN propagates)
      if (bi < 0 || v > best || (is_nan(v) && !is_nan(best))) { best = v; bi = iy * w + ix; }
    }
  }
  vals[o] = {{T}}(best);
  idx[o] = bi;
}
//#else
@group(0) @binding(1) var<storage, read> dy: array<{{T}}>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> dx: array<{{T}}>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let e = group_index(wid, nwg) * 256u + lid;
  if (e >= p_total()) { return; }
  let h = i32(p_h()); let w = i32(p_w());
  let kh = i32(p_kh()); let kw = i32(p_kw());
  let oh = i32(p_oh()); let ow = i32(p_ow());
  let sh = i32(p_strideH()); let sw = i32(p_strideW());
  let ph = i32(p_padH()); let pw = i32(p_padW());
  let hw = u32(h * w);
  let plane = e / hw;
  let q = i32(e % hw);
  let iy = q / w; let ix = q % w;
  // windows oy with oy*sh - ph <= iy <= oy*sh - ph + kh - 1
  let oy0 = max(0, (iy + ph - kh + sh) / sh);
  let oy1 = min(oh - 1, (iy + ph) / sh);
  let ox0 = max(0, (ix + pw - kw + sw) / sw);
  let ox1 = min(ow - 1, (ix + pw) / sw);
  var acc = 0.0;
  let base = plane * u32(oh * ow);
  for (var oy = oy0; oy <= oy1; oy++) {
    for (var ox = ox0; ox <= ox1; ox++) {
      let o = base + u32(oy * ow + ox);
      if (idx[o] == q) { acc += f32(dy[o]); }
    }
  }
  dx[e] = {{T}}(acc);
}
//#endif
